"""Alert engine settings (pydantic-settings): store, rules, receivers, routes, inhibition.

Read from the environment with the prefix ``RISKMON_ALERTS_`` (nested fields with ``__``, lists
and receivers as JSON), or from a YAML file with :meth:`AlertsSettings.from_yaml`. Secrets (Slack
webhook URL, SMTP password, webhook URL and HMAC key, Alertmanager URL) are ``SecretStr``, or are
read from a file named by the matching ``*_file`` field; they never appear in ``repr`` or logs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = [
    "AlertmanagerReceiver",
    "AlertsSettings",
    "ConsoleReceiver",
    "EmailReceiver",
    "InhibitSettings",
    "ReceiverSettings",
    "RouteSettings",
    "SlackReceiver",
    "WebhookReceiver",
    "read_secret",
    "required_secret",
]


def read_secret(value: SecretStr | None, file: Path | None, what: str) -> SecretStr | None:
    """Return the secret given inline, or read (and strip) it from ``file``.

    Raises:
        ValueError: the file cannot be read (the message names the file, not its content).
    """
    if value is not None:
        return value
    if file is None:
        return None
    try:
        return SecretStr(file.read_text(encoding="utf-8").strip())
    except OSError as e:
        raise ValueError(f"cannot read {what} from {file}: {e.strerror}") from None


def required_secret(
    value: SecretStr | None, file: Path | None, receiver: str, field: str
) -> SecretStr:
    """Return a receiver's secret that must be set (inline or in a file).

    Raises:
        ValueError: neither is given, or the file cannot be read.
    """
    secret = read_secret(value, file, f"receiver {receiver} {field}")
    if secret is None:
        raise ValueError(f"receiver {receiver}: {field} or {field}_file is required")
    return secret


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _Secretive(_Model):
    @model_validator(mode="after")
    def _one_source(self) -> _Secretive:
        for field in ("url", "password", "hmac_secret"):
            if (
                field in type(self).model_fields
                and getattr(self, field, None) is not None
                and getattr(self, f"{field}_file", None) is not None
            ):
                raise ValueError(f"give either {field} or {field}_file, not both")
        return self


class _UrlReceiver(_Secretive):
    """A receiver reached over HTTP at a secret URL (inline or in a file)."""

    type: str
    name: str
    url: SecretStr | None = None
    url_file: Path | None = None


class SlackReceiver(_UrlReceiver):
    """A Slack incoming webhook."""

    type: Literal["slack"] = "slack"
    timeout_s: float = 10.0
    min_interval_s: float = 1.0  # Slack: about one message per second per webhook
    max_alerts: int = 40


class EmailReceiver(_Secretive):
    """An SMTP server and recipients."""

    type: Literal["email"] = "email"
    name: str
    host: str
    port: int = 587
    tls: Literal["starttls", "implicit", "none"] = "starttls"
    username: str | None = None
    password: SecretStr | None = None
    password_file: Path | None = None
    sender: str
    to: list[str] = Field(min_length=1)
    timeout_s: float = 20.0
    ca_file: Path | None = None
    verify_tls: bool = True
    min_interval_s: float = 0.0


class WebhookReceiver(_UrlReceiver):
    """A generic JSON webhook, HMAC-signed when a secret is set."""

    type: Literal["webhook"] = "webhook"
    hmac_secret: SecretStr | None = None
    hmac_secret_file: Path | None = None
    timeout_s: float = 10.0
    min_interval_s: float = 0.0


class AlertmanagerReceiver(_UrlReceiver):
    """An Alertmanager base URL (``/api/v2/alerts`` is appended)."""

    type: Literal["alertmanager"] = "alertmanager"
    timeout_s: float = 10.0
    resend_s: float = 60.0  # re-send firing alerts this often (route repeat_interval)
    resolve_after_s: float = 300.0
    generator_url: str = ""


class ConsoleReceiver(_Model):
    """JSON lines (``encode_alert``) on stdout or stderr."""

    type: Literal["console"] = "console"
    name: str = "console"
    stream: Literal["stdout", "stderr"] = "stdout"


ReceiverSettings = Annotated[
    SlackReceiver | EmailReceiver | WebhookReceiver | AlertmanagerReceiver | ConsoleReceiver,
    Field(discriminator="type"),
]


class RouteSettings(_Model):
    """One route: alerts matching ``matchers`` go to ``receiver``. Durations in seconds."""

    receiver: str
    matchers: list[str] = []
    group_by: list[str] = ["alertname", "asset"]
    group_wait_s: float = 30.0
    group_interval_s: float = 300.0
    repeat_interval_s: float = 4 * 3600.0
    send_resolved: bool = True
    continue_: bool = Field(default=False, alias="continue")


class InhibitSettings(_Model):
    """An inhibition rule in matcher syntax."""

    source: list[str]
    target: list[str]
    equal: list[str] = []


class AlertsSettings(BaseSettings):
    """Everything the alert service needs. See the module docstring for sources."""

    model_config = SettingsConfigDict(
        env_prefix="RISKMON_ALERTS_",
        env_nested_delimiter="__",
        frozen=True,
        extra="forbid",
        populate_by_name=True,
    )

    db_path: Path = Path("riskmon.db")
    pack: str | None = "november-2025"
    rule_files: list[Path] = []
    receivers: list[ReceiverSettings] = [ConsoleReceiver()]
    routes: list[RouteSettings] = []  # empty: every receiver gets every alert
    inhibit: list[InhibitSettings] = []
    use_pack_inhibit: bool = True
    resolved_retention_s: float = 3600.0
    outbox_retention_days: float = Field(default=30.0, gt=0)  # delivered notifications kept
    # alert events, resolved alerts and expired silences kept (firing alerts are always kept)
    history_retention_days: float = Field(default=90.0, gt=0)
    backoff_base_s: float = 1.0
    backoff_cap_s: float = 300.0
    broken_retry_s: float = 600.0
    # runbook links in the packs are repository-relative (docs/runbooks.md#...); this makes them
    # absolute in notifications, e.g. https://github.com/org/riskmon/blob/main/
    runbook_base_url: str = ""
    # a dashboard link per alert: str.format over its labels and alertname (empty: no link)
    dashboard_url_template: str = ""

    @model_validator(mode="after")
    def _check_names(self) -> AlertsSettings:
        names = [r.name for r in self.receivers]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(f"receiver names must be unique (repeated: {', '.join(sorted(dup))})")
        for r in self.routes:
            if r.receiver not in names:
                raise ValueError(f"route to unknown receiver {r.receiver!r}")
        return self

    @classmethod
    def from_yaml(cls, path: str | Path) -> AlertsSettings:
        """Load settings from a YAML mapping (environment variables still override).

        Raises:
            ValueError: the file cannot be read or parsed, or is invalid.
        """
        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as e:
            raise ValueError(f"cannot read alert settings {path}: {e}") from None
        if not isinstance(data, dict):
            raise ValueError(f"alert settings {path}: expected a mapping")
        return cls(**data)

    def redacted_summary(self) -> dict[str, object]:
        """Return a loggable summary (no secrets)."""
        return {
            "db_path": str(self.db_path),
            "pack": self.pack,
            "rule_files": [str(p) for p in self.rule_files],
            "receivers": [f"{r.type}:{r.name}" for r in self.receivers],
            "routes": len(self.routes),
        }
