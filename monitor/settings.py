"""Daemon settings: a YAML file, overridable by ``RISKMON_*`` environment variables.

Read once in the CLI and passed down; nothing reads settings at import time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from monitor.kafka.settings import KafkaBusSettings
from monitor.venues import VENUE_MODULES
from monitor.venues.base import Channel

__all__ = [
    "ConfigError",
    "Settings",
    "VenueSettings",
    "describe_validation_error",
    "load_settings",
]


class ConfigError(Exception):
    """A configuration file that cannot be used; the message is one line for the user."""


#: the channels that can be taken for the whole market (``VenueSettings.all_market``)
MarketChannel = Literal["liquidations", "funding"]


_LIQUIDATIONS: list[MarketChannel] = ["liquidations"]


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class VenueSettings(_Strict):
    """One venue.

    Attributes:
        enabled: subscribe to this venue.
        symbols: venue symbols; default: the venue's majors.
        channels: channels to subscribe; default: all the venue publishes.
        all_market: the channels taken for the whole market rather than for ``symbols``: a
            list of ``liquidations`` and ``funding``, ``true`` for both, ``false`` for none.
            Default: liquidations, on the venue's all-market stream where it has one (Binance
            ``!forceOrder@arr``, OKX ``liquidation-orders``, BitMEX ``liquidation``) or one
            subscription per listed symbol where it needs that (Bybit
            ``allLiquidation.{symbol}``); other venues keep ``symbols``.
        ws_url: override the websocket base URL.
        rest_url: override the REST base URL.
        poll_interval_s: override the REST polling interval the venue module derives from its
            rate budget (only lower it against a simulator or a venue that allows it).
    """

    enabled: bool = True
    symbols: list[str] | None = None
    channels: list[Channel] | None = None
    all_market: bool | list[MarketChannel] = Field(default_factory=lambda: _LIQUIDATIONS.copy())
    ws_url: str | None = None
    rest_url: str | None = None
    poll_interval_s: float | None = Field(default=None, gt=0)

    def market_channels(self) -> frozenset[Channel]:
        """The channels ``all_market`` asks for the whole market."""
        if self.all_market is True:
            return frozenset(("liquidations", "funding"))
        if self.all_market is False:
            return frozenset()
        return frozenset(self.all_market)


class MetricsSettings(_Strict):
    """The /metrics and /healthz HTTP endpoint."""

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(default=9464, ge=0, le=65535)


class CoverageSettings(_Strict):
    """How much of the whole market's liquidations the feeds show (``docs/coverage.md``).

    ``share`` fixes the covered share; otherwise it is the sum of the enabled venues' factors
    (:data:`streams.coverage.LIQ_COVERAGE`, each replaced by ``venues[venue]`` when given), or
    1.0 against the simulator, whose scenarios stand for the whole market.
    """

    share: float | None = Field(default=None, gt=0, le=1)
    venues: dict[str, Annotated[float, Field(ge=0, le=1)]] = {}


class BusSettings(_Strict):
    """Where events travel between the feeds and the processors: one process.

    ``kind: kafka`` selects :class:`~monitor.kafka.settings.KafkaBusSettings` instead.
    """

    kind: Literal["in-process"] = "in-process"
    maxsize: int = Field(default=100_000, ge=1)


def _bus_kind(v: Any) -> str:
    kind = v.get("kind", "in-process") if isinstance(v, dict) else getattr(v, "kind", "in-process")
    return str(kind)


#: ``bus:`` is the in-process bus unless ``kind: kafka`` (monitor/kafka/settings.py)
AnyBusSettings = Annotated[
    Annotated[BusSettings, Tag("in-process")] | Annotated[KafkaBusSettings, Tag("kafka")],
    Discriminator(_bus_kind),
]


def _default_venues() -> dict[str, VenueSettings]:
    return {vid: VenueSettings() for vid in VENUE_MODULES}


class Settings(BaseSettings):
    """Everything ``riskmon run`` needs.

    Attributes:
        venues: per-venue settings, keyed by venue id.
        simulator: base URL of an exchange simulator; every venue is pointed at it.
        rules: a rule pack name (``november-2025``) or a rule file path.
        store: the SQLite store of alerts, outbox and silences.
        state_dir: where processor snapshots and the instrument cache live.
        capture: also record raw frames to this capture file.
        snapshot_interval_s: how often processor state is written.
        max_event_ahead_s: an event stamped further after its receive time is dropped and
            counted (docs/architecture.md, the clock).
        max_event_behind_s: an event stamped further before the newest event time is dropped
            and counted.
        instruments_refresh_s: how often the venues' instrument lists are re-read over REST
            (new listings are added without a restart).
        metrics: the metrics endpoint.
        liquidation_coverage: the covered share of whole-market liquidations (USD thresholds
            scale with it).
        bus: the event bus.
        alerting: receivers and routes, passed to the alert dispatcher.
        log_format: ``json`` (default) or ``console``.
        log_level: debug, info, warning, error.
    """

    model_config = SettingsConfigDict(
        env_prefix="RISKMON_", env_nested_delimiter="__", frozen=True, extra="forbid"
    )

    venues: dict[str, VenueSettings] = Field(default_factory=_default_venues)
    simulator: str | None = None
    rules: str = "november-2025"
    store: Path = Path("riskmon.db")
    state_dir: Path = Path("state")
    capture: Path | None = None
    snapshot_interval_s: float = Field(default=60.0, gt=0)
    max_event_ahead_s: float = Field(default=300.0, gt=0)
    max_event_behind_s: float = Field(default=3600.0, gt=0)
    instruments_refresh_s: float = Field(default=6 * 3600.0, gt=0)
    metrics: MetricsSettings = MetricsSettings()
    liquidation_coverage: CoverageSettings = CoverageSettings()
    bus: AnyBusSettings = BusSettings()
    alerting: dict[str, Any] = Field(default_factory=dict)
    log_format: Literal["json", "console"] = "json"
    log_level: Literal["debug", "info", "warning", "error"] = "info"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """``RISKMON_*`` variables win over the config file (as a container or unit sets them)."""
        return env_settings, init_settings, dotenv_settings, file_secret_settings

    @field_validator("venues")
    @classmethod
    def _known_venues(cls, v: dict[str, VenueSettings]) -> dict[str, VenueSettings]:
        unknown = sorted(set(v) - set(VENUE_MODULES))
        if unknown:
            raise ValueError(
                f"unknown venue(s) {', '.join(unknown)}; known: {', '.join(VENUE_MODULES)}"
            )
        return v


def _field_path(loc: tuple[int | str, ...], data: object, root: str) -> str:
    """``alerting.receivers[0].url_file`` from a pydantic error location and the input data.

    Tagged unions add their tag to the location (``receivers, 0, "slack", url``): a component
    that is not a key of the input mapping but one of its values (``type: slack``) is such a tag,
    and is left out.
    """
    out = root
    node: object = data
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
            node = node[part] if isinstance(node, list) and 0 <= part < len(node) else None
            continue
        if isinstance(node, dict) and part not in node and part in node.values():
            continue  # a union tag
        out = f"{out}.{part}" if out else part
        node = node.get(part) if isinstance(node, dict) else None
    return out or "(top level)"


def describe_validation_error(e: ValidationError, data: object = None, root: str = "") -> str:
    """One line naming every invalid field by its dotted path from the top of the config file.

    ``data`` is the input that was validated (to tell union tags from fields), ``root`` the
    section it came from (``alerting``): ``alerting.receivers[0].type: Input should be ...``.
    """
    parts = []
    for err in e.errors():
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown field"
        parts.append(f"{_field_path(tuple(err['loc']), data, root)}: {msg}")
    return "; ".join(parts)


def load_settings(path: str | Path | None = None, **overrides: Any) -> Settings:
    """Read settings: defaults, then the YAML file and ``overrides``, then ``RISKMON_*`` variables.

    A variable wins over the file (``RISKMON_STORE=/data/riskmon.db``,
    ``RISKMON_METRICS__PORT=9500``), so a unit or a container can change one key of a shipped file.

    Raises:
        ConfigError: the file is missing, not YAML, or not valid settings.
    """
    data: dict[str, Any] = {}
    if path is not None:
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except OSError as e:
            raise ConfigError(f"cannot read config {p}: {e.strerror or e}") from e
        try:
            loaded = yaml.safe_load(text)
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            where = f" line {mark.line + 1}" if mark is not None else ""
            raise ConfigError(f"{p}{where}: not valid YAML") from e
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise ConfigError(f"{p}: the top level must be a mapping of settings")
        data = loaded
    data.update(overrides)
    try:
        return Settings(**data)
    except ValidationError as e:
        where = f"{path}: " if path is not None else ""
        raise ConfigError(f"{where}{describe_validation_error(e, data)}") from e
