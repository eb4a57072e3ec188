"""Issue 10 point 6: bounded waits. A real receiver answering 429 ``Retry-After: 1e12``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from alerts.dispatch import META_RULE
from alerts.model import AlertNotice
from alerts.route import Route
from alerts.rules import fingerprint
from alerts.service import AlertService
from alerts.settings import AlertsSettings, WebhookReceiver
from streams.units import NS_PER_SECOND
from tests.helpers import eventually

from .conftest import FakeClock
from .fakes import Receiver, serve

T0 = 1_763_700_000 * 10**9


def critical(rule: str) -> AlertNotice:
    labels = {"asset": "BTC", "severity": "critical"}
    return AlertNotice(
        status="firing",
        rule=rule,
        severity="critical",
        labels=labels,
        value=1.0,
        starts_at=T0,
        ends_at=None,
        fingerprint=fingerprint(rule, labels),
        summary=rule,
    )


def alerts_of(rx: Receiver) -> list[tuple[str, str, dict[str, Any]]]:
    return [(a["rule"], a["status"], a["labels"]) for r in rx.accepted for a in r["json"]["alerts"]]


async def test_absurd_retry_after_is_capped_counted_and_raises_the_meta_alert(
    tmp_path: Path,
) -> None:
    """``Retry-After: 1e12`` holds the receiver for the cap (300 s), not 31 000 years.

    The clamp is counted, the other receiver gets ``riskmon_notifier_broken`` for the held one,
    and after the cap the held receiver delivers and the meta-alert resolves.
    """
    clock = FakeClock()
    registry = CollectorRegistry()
    held = Receiver(script=[(429, {"Retry-After": "1e12"}, "slow down")])
    ok = Receiver()
    async with serve(held), serve(ok):
        svc = AlertService(
            AlertsSettings(
                db_path=tmp_path / "alerts.db",
                receivers=[
                    WebhookReceiver(name="held", url=SecretStr(held.url + "/hook")),
                    WebhookReceiver(name="ok", url=SecretStr(ok.url + "/hook")),
                ],
                backoff_cap_s=300.0,
            ),
            registry=registry,
            clock=clock,
        )
        svc.dispatcher.routes = [
            Route(name, group_wait_s=0.0, group_interval_s=0.0, continue_=True)
            for name in ("held", "ok")
        ]
        async with svc:
            await svc.submit([critical("liquidations_1h")])
            await eventually(lambda: len(held.requests) == 1, what="429 answered")
            await eventually(
                lambda: (
                    (
                        META_RULE,
                        "firing",
                        {"receiver": "held", "severity": "critical", "category": "meta"},
                    )
                    in alerts_of(ok)
                ),
                what="meta-alert through the working receiver",
            )
            rows = await svc.store.call(lambda: svc.store.sync.outbox("held", state="pending"))
            assert rows
            assert max(r.next_attempt_ns for r in rows) <= clock.t + 300 * NS_PER_SECOND
            assert (
                registry.get_sample_value(
                    "riskmon_alerts_waits_clamped_total", {"receiver": "held"}
                )
                == 1.0
            )
            clock.advance(301)
            await eventually(
                lambda: "liquidations_1h" in [a[0] for a in alerts_of(held)], what="held delivers"
            )
            await eventually(
                lambda: (META_RULE, "resolved") in [a[:2] for a in alerts_of(ok)],
                what="meta-alert resolved",
            )


async def test_a_retry_after_holds_rows_enqueued_during_the_hold(tmp_path: Path) -> None:
    """``Retry-After: 60`` holds the whole receiver: a notification enqueued during the hold
    (another group) waits for its end too, while the other receiver gets it at once."""
    clock = FakeClock()
    held = Receiver(script=[(429, {"Retry-After": "60"}, "slow down")])
    ok = Receiver()
    async with serve(held), serve(ok):
        svc = AlertService(
            AlertsSettings(
                db_path=tmp_path / "alerts.db",
                receivers=[
                    WebhookReceiver(name="held", url=SecretStr(held.url + "/hook")),
                    WebhookReceiver(name="ok", url=SecretStr(ok.url + "/hook")),
                ],
            ),
            registry=CollectorRegistry(),
            clock=clock,
        )
        svc.dispatcher.routes = [
            Route(name, group_wait_s=0.0, group_interval_s=0.0, continue_=True)
            for name in ("held", "ok")
        ]
        async with svc:
            await svc.submit([critical("liquidations_1h")])
            await eventually(lambda: len(held.requests) == 1, what="429 answered")
            await eventually(lambda: len(ok.accepted) == 1, what="the first alert at ok")
            await svc.submit([critical("oi_drawdown")])
            await eventually(
                lambda: "oi_drawdown" in [a[0] for a in alerts_of(ok)], what="the second at ok"
            )
            assert len(held.requests) == 1  # the second waits for the hold
            clock.advance(61)
            await eventually(
                lambda: {"liquidations_1h", "oi_drawdown"} <= {a[0] for a in alerts_of(held)},
                what="held delivers both after the hold",
            )
