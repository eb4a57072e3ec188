"""Tests for grouping, inhibition, silences, dedupe and delivery bookkeeping."""

from __future__ import annotations

from pathlib import Path

from prometheus_client import CollectorRegistry

from alerts.deliver import Deliverer
from alerts.dispatch import META_RULE, Dispatcher
from alerts.matchers import parse_matcher
from alerts.metrics import AlertMetrics
from alerts.model import AlertNotice
from alerts.notify.base import NotifyResult
from alerts.route import Route
from alerts.rules import fingerprint, load_pack
from alerts.store import AsyncStore

from .conftest import FakeClock, RecordingNotifier

T0 = 1_763_700_000 * 10**9


def notice(
    rule: str,
    status: str = "firing",
    severity: str = "warning",
    starts_at: int = T0,
    **labels: str,
) -> AlertNotice:
    lbl = {**labels, "severity": severity}
    return AlertNotice(
        status="firing" if status == "firing" else "resolved",
        rule=rule,
        severity=severity,  # type: ignore[arg-type]
        labels=lbl,
        value=1.0,
        starts_at=starts_at,
        ends_at=None if status == "firing" else starts_at + 10**9,
        fingerprint=fingerprint(rule, lbl),
        summary=f"{rule} {labels}",
    )


def make(
    astore: AsyncStore, clock: FakeClock, metrics: AlertMetrics, **route_kw: object
) -> tuple[Dispatcher, Deliverer, RecordingNotifier]:
    rec = RecordingNotifier()
    kw: dict[str, object] = {"group_wait_s": 30.0, "group_interval_s": 300.0}
    kw.update(route_kw)
    route = Route("rec", **kw)  # type: ignore[arg-type]
    pack = load_pack("november-2025")
    d = Dispatcher(astore, [route], pack.inhibit, pack, clock, metrics)
    return d, Deliverer(rec, astore, clock, metrics), rec


async def drain(dl: Deliverer) -> None:
    while await dl.deliver_one():
        pass


async def test_cascade_of_fifty_alerts_sends_one_grouped_message(
    astore: AsyncStore, metrics: AlertMetrics
) -> None:
    """Fifty alerts in one group within group_wait produce a single notification."""
    clock = FakeClock()
    d, dl, rec = make(astore, clock, metrics, group_by=("category",))
    await d.submit([notice("feed_stale", venue=f"v{i}", category="feed") for i in range(50)])
    assert await d.flush_due() == 0  # group_wait not over
    clock.advance(30)
    assert await d.flush_due() == 1
    await drain(dl)
    assert len(rec.sent) == 1
    assert len(rec.sent[0].alerts) == 50
    assert rec.sent[0].group_labels == {"category": "feed"}


async def test_alert_resolved_within_group_wait_is_never_sent(
    astore: AsyncStore, metrics: AlertMetrics
) -> None:
    """A flap that resolves before group_wait ends produces no notification."""
    clock = FakeClock()
    d, dl, rec = make(astore, clock, metrics)
    await d.submit([notice("price_drawdown", asset="BTC")])
    await d.submit([notice("price_drawdown", "resolved", asset="BTC")])
    clock.advance(60)
    assert await d.flush_due() == 0
    await drain(dl)
    assert rec.sent == []


async def test_resolution_is_notified_after_firing(
    astore: AsyncStore, metrics: AlertMetrics
) -> None:
    """A notified alert's resolution is sent at the next group interval."""
    clock = FakeClock()
    d, dl, rec = make(astore, clock, metrics)
    await d.submit([notice("price_drawdown", asset="BTC")])
    clock.advance(30)
    await d.flush_due()
    await drain(dl)  # delivered before the resolution (a backlog would send only the last word)
    await d.submit([notice("price_drawdown", "resolved", asset="BTC")])
    clock.advance(299)
    assert await d.flush_due() == 0
    clock.advance(1)
    assert await d.flush_due() == 1
    await drain(dl)
    assert [n.status for n in rec.sent] == ["firing", "resolved"]
    assert rec.sent[1].alerts[0].ends_at is not None


async def test_repeat_interval_resends_unchanged_firing_group(
    astore: AsyncStore, metrics: AlertMetrics
) -> None:
    """An unchanged firing group is sent again after repeat_interval, with a new key."""
    clock = FakeClock()
    d, dl, rec = make(astore, clock, metrics, repeat_interval_s=3600.0)
    await d.submit([notice("oi_drawdown", asset="BTC")])
    clock.advance(30)
    await d.flush_due()
    await drain(dl)  # a repeat supersedes a still-pending first send
    clock.advance(3599)
    assert await d.flush_due() == 0
    clock.advance(1)
    assert await d.flush_due() == 1
    await drain(dl)
    assert len(rec.sent) == 2
    assert rec.sent[0].idempotency_key != rec.sent[1].idempotency_key


async def test_composite_critical_inhibits_component_warnings_of_same_asset(
    astore: AsyncStore, metrics: AlertMetrics
) -> None:
    """A firing deleveraging_event critical mutes BTC warnings but not ETH ones."""
    clock = FakeClock()
    d, dl, rec = make(astore, clock, metrics, group_by=("...",))
    await d.submit(
        [
            notice("deleveraging_event", severity="critical", asset="BTC", category="composite"),
            notice("oi_drawdown", asset="BTC", category="open_interest"),
            notice("oi_drawdown", asset="ETH", category="open_interest"),
        ]
    )
    clock.advance(30)
    await d.flush_due()
    await drain(dl)
    sent = sorted((n.alerts[0].rule, n.alerts[0].labels["asset"]) for n in rec.sent)
    assert sent == [("deleveraging_event", "BTC"), ("oi_drawdown", "ETH")]
    assert metrics.muted.labels("inhibited")._value.get() == 1


async def test_higher_level_of_a_ladder_inhibits_the_lower_one(
    astore: AsyncStore, metrics: AlertMetrics
) -> None:
    """A critical level mutes the warning level of the same alert and series."""
    clock = FakeClock()
    d, dl, rec = make(astore, clock, metrics)
    await d.submit(
        [
            notice("liquidations_1h", severity="warning", asset="all", window="1h"),
            notice("liquidations_1h", severity="critical", asset="all", window="1h"),
        ]
    )
    clock.advance(30)
    await d.flush_due()
    await drain(dl)
    assert [a.severity for a in rec.sent[0].alerts] == ["critical"]


async def test_silence_mutes_matching_alerts_until_it_expires(
    astore: AsyncStore, metrics: AlertMetrics
) -> None:
    """A silence in the store mutes matching alerts; after expiry they are sent."""
    clock = FakeClock()
    d, dl, rec = make(astore, clock, metrics, repeat_interval_s=10**6)
    await astore.call(
        lambda: astore.sync.add_silence(
            [parse_matcher("alertname=feed_stale"), parse_matcher("venue=~bybit|okx")],
            clock.t,
            clock.t + 3600 * 10**9,
            "test",
            "maintenance",
            clock.t,
        )
    )
    await d.start()
    await d.submit([notice("feed_stale", venue="bybit"), notice("feed_stale", venue="binance")])
    clock.advance(30)
    await d.flush_due()
    await drain(dl)
    assert [n.alerts[0].labels["venue"] for n in rec.sent] == ["binance"]
    assert d.is_muted(fingerprint("feed_stale", {"venue": "bybit", "severity": "warning"})) == (
        "silenced"
    )
    clock.advance(3600)
    await d.flush_due()
    await drain(dl)
    assert [n.alerts[0].labels["venue"] for n in rec.sent] == ["binance", "bybit"]


async def test_restart_does_not_resend_or_lose(tmp_path: Path) -> None:
    """After a restart, re-emitted firing alerts are not re-sent; unsent ones still go out."""
    clock = FakeClock()
    db = tmp_path / "a.db"
    first = [notice("oi_drawdown", asset="BTC")]
    second = [notice("oi_drawdown", asset="ETH")]

    store = AsyncStore(db)
    await store.open()
    metrics = AlertMetrics(CollectorRegistry())
    d, dl, rec = make(store, clock, metrics)
    await d.submit(first)
    clock.advance(30)
    await d.flush_due()
    await drain(dl)
    await d.submit(second)  # stored, but the process "dies" before its group is flushed
    await store.close()

    store = AsyncStore(db)
    await store.open()
    d2, dl2, rec2 = make(store, clock, AlertMetrics(CollectorRegistry()))
    await d2.start()
    assert await d2.submit(first + second) == 0  # a restarted evaluator re-fires both
    clock.advance(30)
    await d2.flush_due()
    await drain(dl2)
    await store.close()
    assert [a.labels["asset"] for n in rec.sent for a in n.alerts] == ["BTC"]
    assert [a.labels["asset"] for n in rec2.sent for a in n.alerts] == ["ETH"]


async def test_rate_limit_answer_defers_all_rows_of_the_receiver(
    astore: AsyncStore, metrics: AlertMetrics
) -> None:
    """A 429 with Retry-After defers the receiver; critical rows go first afterwards."""
    clock = FakeClock()
    d, _, _ = make(astore, clock, metrics, group_by=("...",))
    rec = RecordingNotifier(results=[NotifyResult(ok=False, retryable=True, retry_after_s=5.0)])
    dl = Deliverer(rec, astore, clock, metrics)
    await d.submit([notice("a", severity="info", x="1")])
    clock.advance(30)
    await d.flush_due()
    await d.submit([notice("b", severity="critical", x="2"), notice("c", severity="warning")])
    clock.advance(30)
    await d.flush_due()
    assert await dl.deliver_one()  # the critical one, answered 429
    assert not await dl.deliver_one()  # everything deferred
    clock.advance(5)
    await drain(dl)
    assert [n.alerts[0].rule for n in rec.sent] == ["b", "b", "c", "a"]
    assert metrics.failed.labels("rec", "rate_limited")._value.get() == 1


async def test_broken_receiver_raises_meta_alert_and_keeps_outbox(
    astore: AsyncStore, metrics: AlertMetrics
) -> None:
    """A 404-style answer calls on_broken once and keeps the row pending for a later retry."""
    clock = FakeClock()
    d, _, _ = make(astore, clock, metrics)
    calls: list[tuple[str, bool]] = []
    rec = RecordingNotifier(
        results=[NotifyResult(ok=False, broken=True, error="HTTP 404 channel_not_found")]
    )
    dl = Deliverer(
        rec,
        astore,
        clock,
        metrics,
        on_broken=lambda r, b, e: calls.append((r, b)),
        broken_retry_s=600,
    )
    await d.submit([notice("oi_drawdown", asset="BTC")])
    clock.advance(30)
    await d.flush_due()
    assert await dl.deliver_one()
    assert calls == [("rec", True)]
    rows = await astore.call(lambda: astore.sync.outbox("rec"))
    assert [(r.state, r.last_error) for r in rows] == [("pending", "HTTP 404 channel_not_found")]
    assert not await dl.deliver_one()
    clock.advance(600)
    assert await dl.deliver_one()
    assert calls == [("rec", True), ("rec", False)]
    meta = d.meta_notice("rec", True, "x")
    assert meta.rule == META_RULE
    assert meta.labels["receiver"] == "rec"


async def test_retryable_failure_backs_off_with_jitter(
    astore: AsyncStore, metrics: AlertMetrics
) -> None:
    """A 5xx-style failure schedules a retry between half and the full backoff."""
    clock = FakeClock()
    d, _, _ = make(astore, clock, metrics)
    rec = RecordingNotifier(results=[NotifyResult(ok=False, retryable=True, error="HTTP 500")])
    dl = Deliverer(rec, astore, clock, metrics, backoff_base_s=4.0)
    await d.submit([notice("oi_drawdown", asset="BTC")])
    clock.advance(30)
    await d.flush_due()
    await dl.deliver_one()
    row = (await astore.call(lambda: astore.sync.outbox("rec")))[0]
    assert clock.t + 2 * 10**9 <= row.next_attempt_ns <= clock.t + 4 * 10**9
    assert row.attempts == 1
