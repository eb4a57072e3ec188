"""Tests for settings, secrets handling and service construction."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from pydantic import ValidationError

from alerts.service import AlertService, build_routes
from alerts.settings import AlertsSettings, EmailReceiver, SlackReceiver


def test_secrets_come_from_env_and_never_show_in_repr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Slack URL from the environment is usable but hidden from repr and the summary."""
    monkeypatch.setenv(
        "RISKMON_ALERTS_RECEIVERS",
        '[{"type": "slack", "name": "desk", "url": "https://hooks.example/T/B/XSECRETX"}]',
    )
    s = AlertsSettings(db_path=tmp_path / "a.db")
    assert "XSECRETX" not in repr(s)
    assert "XSECRETX" not in str(s.redacted_summary())
    svc = AlertService(s, registry=CollectorRegistry())
    assert "XSECRETX" not in repr(svc.notifiers["desk"])
    r = s.receivers[0]
    assert isinstance(r, SlackReceiver)
    assert r.url is not None
    assert r.url.get_secret_value().endswith("XSECRETX")


def test_password_file_is_read_and_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    """*_file secrets are read at build time; an unreadable one names the file only."""
    pw = tmp_path / "pw"
    pw.write_text("topsecret\n")
    ok = EmailReceiver(
        name="m", host="127.0.0.1", sender="a@b.test", to=["c@d.test"], password_file=pw
    )
    svc = AlertService(
        AlertsSettings(db_path=tmp_path / "a.db", receivers=[ok]), registry=CollectorRegistry()
    )
    assert "topsecret" not in repr(svc.notifiers["m"])
    missing = ok.model_copy(update={"password_file": tmp_path / "nope"})
    with pytest.raises(ValueError, match="cannot read receiver m password from") as ei:
        AlertService(
            AlertsSettings(db_path=tmp_path / "a.db", receivers=[missing]),
            registry=CollectorRegistry(),
        )
    assert "topsecret" not in str(ei.value)


def test_routes_must_name_known_receivers(tmp_path: Path) -> None:
    """A route to an undefined receiver is rejected at load."""
    with pytest.raises(ValidationError, match="unknown receiver"):
        AlertsSettings(db_path=tmp_path / "a.db", routes=[{"receiver": "nobody"}])  # type: ignore[list-item]


def test_default_routes_fan_out_to_every_receiver(tmp_path: Path) -> None:
    """Without routes, every receiver gets every alert (continue on each route)."""
    s = AlertsSettings.model_validate(
        {
            "db_path": tmp_path / "a.db",
            "receivers": [
                {"type": "console"},
                {"type": "alertmanager", "name": "am", "url": "http://127.0.0.1:9093"},
            ],
        }
    )
    routes = build_routes(s)
    assert [(r.receiver, r.continue_) for r in routes] == [("console", True), ("am", True)]
    assert routes[1].repeat_interval_s == 60.0


def test_from_yaml_reads_a_settings_file(tmp_path: Path) -> None:
    """Settings load from YAML, including the 'continue' alias on routes."""
    f = tmp_path / "alerts.yaml"
    f.write_text(
        "db_path: x.db\nreceivers:\n  - {type: console, name: c}\n"
        "routes:\n  - {receiver: c, matchers: ['severity=critical'], continue: true}\n"
    )
    s = AlertsSettings.from_yaml(f)
    assert s.routes[0].continue_ is True
    assert build_routes(s)[0].matchers[0].value == "critical"


async def test_console_service_prints_contract_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A console receiver prints one encode_alert JSON line per alert via the full pipeline."""
    import json

    from alerts.model import AlertNotice
    from alerts.rules import fingerprint
    from streams.signals import Signal
    from tests.helpers import eventually

    reg = CollectorRegistry()
    svc = AlertService(AlertsSettings(db_path=tmp_path / "a.db"), registry=reg)
    ev = svc.new_evaluator()
    async with svc:
        t = 1_763_700_000 * 10**9
        sig = Signal("liq_usd", {"asset": "all", "side": "all", "window": "1h"}, 8e8, t)
        notices = await svc.evaluate(ev, [sig])
        assert {n.severity for n in notices} == {"warning", "critical"}
        seen: list[str] = []

        def printed() -> bool:
            seen.append(capsys.readouterr().out)
            return '"rule":"liquidations_1h"' in "".join(seen)

        await eventually(printed)
    lines = [ln for ln in "".join(seen).splitlines() if ln.startswith('{"status"')]
    assert [json.loads(ln)["severity"] for ln in lines] == ["critical"]  # warning inhibited
    # liquidations_1h (3 levels) + the liquidation_burst watch composite select this series
    assert reg.get_sample_value("riskmon_alerts_rule_evaluations_total") == 4.0
    labels = {
        "asset": "all",
        "side": "all",
        "window": "1h",
        "category": "liquidations",
        "severity": "critical",
    }
    assert isinstance(notices[1], AlertNotice)
    assert notices[1].fingerprint == fingerprint("liquidations_1h", labels)
