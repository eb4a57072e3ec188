"""Issue 10 points 4 and 5: the last word is the true word; escalation is immediate.

A real webhook receiver on 127.0.0.1 that is down (nothing listening on its port) and then up;
grouping timers on a hand-moved clock.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web
from pydantic import SecretStr

from alerts.deliver import Deliverer
from alerts.dispatch import Dispatcher
from alerts.metrics import AlertMetrics
from alerts.model import AlertNotice
from alerts.notify.webhook import WebhookNotifier
from alerts.route import Route
from alerts.rules import fingerprint
from alerts.settings import WebhookReceiver
from alerts.store import AsyncStore

from .conftest import FakeClock, RecordingNotifier
from .fakes import Receiver

T0 = 1_763_700_000 * 10**9
S = 10**9


def notice(
    rule: str, status: str = "firing", severity: Any = "warning", at: int = T0, **labels: str
) -> AlertNotice:
    lbl = {**labels, "severity": severity}
    return AlertNotice(
        status="firing" if status == "firing" else "resolved",
        rule=rule,
        severity=severity,
        labels=lbl,
        value=1.0,
        starts_at=at,
        ends_at=None if status == "firing" else at + S,
        fingerprint=fingerprint(rule, lbl),
        summary=f"{rule} {labels}",
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@asynccontextmanager
async def listening(rx: Receiver, port: int) -> AsyncIterator[None]:
    app = web.Application()
    app.router.add_post("/hook", rx.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield
    finally:
        await runner.cleanup()


async def drain(dl: Deliverer) -> None:
    while await dl.deliver_one():
        pass


async def test_backlog_after_outage_sends_each_groups_current_state(
    astore: AsyncStore, metrics: AlertMetrics
) -> None:
    """Down receiver: firing, resolved, firing again of A and firing, resolved of B queue up.

    When it is back it gets one notification per group, the last state, in order: A firing
    (the re-fire) and B resolved; never a resolution after the newer firing.
    """
    clock = FakeClock()
    port = free_port()
    notifier = WebhookNotifier(
        WebhookReceiver(name="wh", url=SecretStr(f"http://127.0.0.1:{port}/hook"))
    )
    route = Route("wh", group_wait_s=0.0, group_interval_s=0.0)
    d = Dispatcher(astore, [route], clock=clock, metrics=metrics)
    dl = Deliverer(notifier, astore, clock, metrics, backoff_base_s=1.0, backoff_cap_s=5.0)

    async def step(*notices: AlertNotice) -> None:
        await d.submit(list(notices))
        await d.flush_due()
        await drain(dl)  # each attempt fails: nothing listens
        clock.advance(1)

    await step(notice("oi_drawdown", asset="BTC"), notice("funding", asset="ETH"))
    await step(notice("oi_drawdown", "resolved", asset="BTC"))
    await step(notice("oi_drawdown", asset="BTC", at=T0 + 60 * S))
    await step(notice("funding", "resolved", asset="ETH"))
    pending = await astore.call(lambda: astore.sync.outbox("wh", state="pending"))
    assert len(pending) == 2  # one per group
    rx = Receiver()
    async with listening(rx, port):
        clock.advance(10)  # past every backoff
        await drain(dl)
    await notifier.aclose()
    got = [
        (a["rule"], a["status"], a["starts_at"]) for r in rx.accepted for a in r["json"]["alerts"]
    ]
    assert sorted(got) == [("funding", "resolved", T0), ("oi_drawdown", "firing", T0 + 60 * S)]


async def test_resolution_then_refire_never_arrives_reversed(
    astore: AsyncStore, metrics: AlertMetrics
) -> None:
    """Receiver up, then failing the resolution: the re-fire supersedes it and comes last."""
    clock = FakeClock()
    rx = Receiver()
    port = free_port()
    async with listening(rx, port):
        notifier = WebhookNotifier(
            WebhookReceiver(name="wh", url=SecretStr(f"http://127.0.0.1:{port}/hook"))
        )
        d = Dispatcher(
            astore,
            [Route("wh", group_wait_s=0.0, group_interval_s=0.0)],
            clock=clock,
            metrics=metrics,
        )
        dl = Deliverer(notifier, astore, clock, metrics, backoff_base_s=1.0, backoff_cap_s=5.0)
        await d.submit([notice("oi_drawdown", asset="BTC")])
        await d.flush_due()
        await drain(dl)
        rx.script = [(503, {}, "down")]
        await d.submit([notice("oi_drawdown", "resolved", asset="BTC")])
        clock.advance(1)
        await d.flush_due()
        await drain(dl)  # 503: the resolution waits for its retry
        await d.submit([notice("oi_drawdown", asset="BTC", at=T0 + 60 * S)])
        clock.advance(1)
        await d.flush_due()
        clock.advance(10)
        await drain(dl)
        await notifier.aclose()
    seen = [(a["status"], a["starts_at"]) for r in rx.accepted for a in r["json"]["alerts"]]
    assert seen == [("firing", T0), ("firing", T0 + 60 * S)]


def _critical_group(
    astore: AsyncStore, clock: FakeClock, metrics: AlertMetrics
) -> tuple[Dispatcher, Deliverer, RecordingNotifier]:
    rec = RecordingNotifier()
    route = Route("rec", group_wait_s=30.0, group_interval_s=300.0)
    return (
        Dispatcher(astore, [route], clock=clock, metrics=metrics),
        Deliverer(rec, astore, clock, metrics),
        rec,
    )


async def test_critical_joining_a_warned_group_goes_out_at_once(
    astore: AsyncStore, metrics: AlertMetrics
) -> None:
    """Warning at 05:40 notified; the critical of the same group 10 s later is sent then."""
    clock = FakeClock()
    d, dl, rec = _critical_group(astore, clock, metrics)
    await d.submit([notice("liquidations_1h", severity="warning", asset="BTC")])
    clock.advance(30)
    assert await d.flush_due() == 1
    await drain(dl)
    clock.advance(10)
    await d.submit([notice("liquidations_1h", severity="critical", asset="BTC")])
    assert await d.flush_due() == 1  # not at group_interval (290 s later)
    await drain(dl)
    assert [sorted(a.severity for a in n.firing) for n in rec.sent] == [
        ["warning"],
        ["critical", "warning"],
    ]
    # another alert no more urgent than what was notified waits for group_interval
    await d.submit([notice("liquidations_1h", severity="warning", asset="BTC", venue="okx")])
    assert await d.flush_due() == 0
    clock.advance(300)
    assert await d.flush_due() == 1


async def test_tier_extreme_escalates_a_group_too(
    astore: AsyncStore, metrics: AlertMetrics
) -> None:
    """A ``tier: extreme`` alert joining a group notified at the same severity goes out at once."""
    clock = FakeClock()
    d, _dl, _rec = _critical_group(astore, clock, metrics)
    await d.submit([notice("liquidations_1h", severity="critical", asset="BTC")])
    clock.advance(30)
    assert await d.flush_due() == 1
    await d.submit([notice("liquidations_1h", severity="critical", asset="BTC", tier="extreme")])
    assert await d.flush_due() == 1
