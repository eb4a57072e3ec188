"""Every notification shows the alert in human units and links its runbook (absolute with
``runbook_base_url``) and dashboard (``dashboard_url_template``): Slack, email, webhook and
console, delivered by the real service to real receivers on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from prometheus_client import CollectorRegistry

from alerts.service import AlertService
from alerts.settings import AlertsSettings
from streams.signals import Signal
from tests.helpers import eventually

from .fakes import Receiver, serve
from .test_notify_email import Inbox, free_port

T0 = 1_763_700_000 * 10**9
BASE = "https://github.com/example/riskmon/blob/main/"
RUNBOOK = BASE + "docs/runbooks.md#liquidations"
DASHBOARD = "https://grafana.example.com/d/riskmon-overview?var-asset=all&alert=liquidations_24h"
SUMMARY = (
    "Liquidations ~$1.91B in 24 h (all assets; an estimate at 100% coverage; $1.91B seen),"
    " at or above $1.75B"
)


@pytest.fixture(name="smtp")
def _smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    ctl = Controller(inbox, hostname="127.0.0.1", port=port)
    ctl.start()
    yield inbox, port
    ctl.stop()


async def test_every_notifier_shows_units_and_links(
    tmp_path: Path, smtp: tuple[Inbox, int], capsys: pytest.CaptureFixture[str]
) -> None:
    inbox, port = smtp
    slack, hook = Receiver(), Receiver()
    async with serve(slack), serve(hook):
        route = {"group_wait_s": 0, "group_interval_s": 0, "continue": True}
        settings = AlertsSettings.model_validate(
            {
                "db_path": tmp_path / "a.db",
                "runbook_base_url": BASE,
                "dashboard_url_template": (
                    "https://grafana.example.com/d/riskmon-overview"
                    "?var-asset={asset}&alert={alertname}"
                ),
                "receivers": [
                    {
                        "type": "slack",
                        "name": "slack",
                        "url": slack.url + "/hook",
                        "min_interval_s": 0,
                    },
                    {"type": "webhook", "name": "hook", "url": hook.url + "/hook"},
                    {
                        "type": "email",
                        "name": "mail",
                        "host": "127.0.0.1",
                        "port": port,
                        "tls": "none",
                        "sender": "riskmon@desk.test",
                        "to": ["risk@desk.test"],
                    },
                    {"type": "console", "name": "console"},
                ],
                "routes": [{"receiver": r, **route} for r in ("slack", "hook", "mail", "console")],
            }
        )
        svc = AlertService(settings, registry=CollectorRegistry())
        ev = svc.new_evaluator()
        async with svc:
            liq = Signal("liq_usd", {"asset": "all", "side": "all", "window": "24h"}, 1.91e9, T0)
            await svc.evaluate(ev, [liq])
            await eventually(
                lambda: bool(slack.accepted and hook.accepted and inbox.messages),
                what="slack, webhook and email delivered",
            )
    # Slack: the summary, the value in USD, runbook and dashboard as links
    text = json.dumps(slack.accepted[0]["json"])
    assert SUMMARY in text
    assert "value $1.91B" in text
    assert f"<{RUNBOOK}|Runbook>" in text
    assert f"<{DASHBOARD.replace('&', '&amp;')}|Dashboard>" in text
    # webhook: the links in the alert's annotations
    [alert] = [a for a in hook.accepted[0]["json"]["alerts"] if a["severity"] == "critical"]
    assert alert["annotations"]["runbook_url"] == RUNBOOK
    assert alert["annotations"]["dashboard_url"] == DASHBOARD
    assert alert["summary"] == SUMMARY
    # email: text and HTML parts
    parts = {}
    for p in inbox.messages[0].walk():
        payload = p.get_payload(decode=True)
        if isinstance(payload, bytes):
            parts[p.get_content_type()] = payload.decode()
    assert SUMMARY in parts["text/plain"]
    assert f"runbook: {RUNBOOK}" in parts["text/plain"]
    assert f"dashboard: {DASHBOARD}" in parts["text/plain"]
    assert f'<a href="{RUNBOOK}">Runbook</a>' in parts["text/html"]
    # console: the contract line, then the links
    lines = [json.loads(ln) for ln in capsys.readouterr().out.splitlines() if ln.startswith("{")]
    crit = next(x for x in lines if x["severity"] == "critical")
    assert list(crit)[-2:] == ["runbook_url", "dashboard_url"]
    assert crit["runbook_url"] == RUNBOOK
