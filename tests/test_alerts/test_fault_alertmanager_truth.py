"""Issue 10 point 7: Alertmanager sees every firing alert, inhibited or silenced here or not.

Real HTTP receivers on 127.0.0.1: an Alertmanager ``/api/v2/alerts`` endpoint and a webhook.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry

from alerts.matchers import parse_matcher
from alerts.model import AlertNotice
from alerts.service import AlertService
from alerts.settings import AlertsSettings
from tests.helpers import eventually

from .fakes import Receiver, firing, serve

T0 = 1_763_700_000 * 10**9


def alert(rule: str, severity: Any, asset: str) -> AlertNotice:
    return firing(rule, severity, asset, at=T0, summary=rule)


async def test_inhibited_and_silenced_alerts_still_reach_alertmanager(tmp_path: Path) -> None:
    am, wh = Receiver(), Receiver()
    async with serve(am, path="/api/v2/alerts"), serve(wh):
        route = {"group_wait_s": 0.0, "group_interval_s": 0.0, "continue": True}
        settings = AlertsSettings.model_validate(
            {
                "db_path": tmp_path / "alerts.db",
                "pack": None,
                "receivers": [
                    {"type": "alertmanager", "name": "am", "url": am.url},
                    {"type": "webhook", "name": "wh", "url": wh.url + "/hook"},
                ],
                "routes": [{"receiver": "am", **route}, {"receiver": "wh", **route}],
                "inhibit": [
                    {
                        "source": ['severity="critical"'],
                        "target": ['severity="warning"'],
                        "equal": ["asset"],
                    }
                ],
            }
        )
        svc = AlertService(settings, registry=CollectorRegistry())
        async with svc:
            await svc.store.call(
                lambda: svc.store.sync.add_silence(
                    [parse_matcher('asset="ETH"')], 0, 1 << 62, "ops", "maintenance", 0
                )
            )
            await svc.dispatcher.silencer.refresh(svc.clock.now_ns(), force=True)
            await svc.submit(
                [
                    alert("liquidations_1h", "critical", "BTC"),
                    alert("oi_drawdown", "warning", "BTC"),  # inhibited by the critical
                    alert("funding", "warning", "ETH"),  # silenced
                ]
            )
            to_am = lambda: {a["labels"]["alertname"] for r in am.accepted for a in r["json"]}  # noqa: E731
            await eventually(
                lambda: to_am() == {"liquidations_1h", "oi_drawdown", "funding"},
                what="all three at Alertmanager",
            )
            await eventually(lambda: len(wh.accepted) >= 1, what="webhook")
        wh_rules = {a["rule"] for r in wh.accepted for a in r["json"]["alerts"]}
        assert wh_rules == {"liquidations_1h"}
