"""The stream engine: tick alignment, feed-status time, idle gaps."""

from __future__ import annotations

from typing import Any

from streams.engine import StreamEngine
from streams.events import Event, FeedStatus, Trade
from streams.signals import Signal

S = 1_000_000_000
T0 = 1_763_683_200 * S


class TickCounter:
    """A processor that records the ticks it is given."""

    name = "counter"

    def __init__(self) -> None:
        self.ticks: list[int] = []

    def on_event(self, event: Event) -> list[Signal]:
        return []

    def on_tick(self, now_ns: int) -> list[Signal]:
        self.ticks.append(now_ns)
        return []

    def snapshot(self) -> dict[str, Any]:
        return {}

    def restore(self, state: dict[str, Any]) -> None:
        return None


def trade(ts: int) -> Trade:
    return Trade(
        venue="v",
        symbol="s",
        instrument="BTC-USDT-PERP",
        asset="BTC",
        ts_event=ts,
        ts_recv=0,
        price=1.0,
        size=1.0,
        notional_usd=1.0,
        side="buy",
    )


def test_ticks_every_second_while_events_flow() -> None:
    """Aligned 1 s ticks run for every boundary crossed while events keep coming."""
    c = TickCounter()
    eng = StreamEngine([c])
    for i in range(5):
        eng.on_event(trade(T0 + i * S + S // 2))
    assert c.ticks == [T0 + i * S for i in range(1, 5)]


def test_feed_status_does_not_move_event_time() -> None:
    """A FeedStatus stamped with the local clock leaves market event time alone."""
    c = TickCounter()
    eng = StreamEngine([c])
    eng.on_event(trade(T0))
    eng.on_event(
        FeedStatus(
            venue="v",
            symbol="",
            instrument="",
            asset="",
            ts_event=T0 + 10**6 * S,
            ts_recv=0,
            channel="connection",
            status="connected",
        )
    )
    assert eng.watermark_ns == T0
    assert c.ticks == []


def test_idle_gap_widens_the_tick_step_then_resumes() -> None:
    """Across a 2-day gap ticks thin out (1 s, then 1 min, then 1 h) and resume at 1 s."""
    c = TickCounter()
    eng = StreamEngine([c])
    eng.on_event(trade(T0))
    eng.advance(T0 + 2 * 86_400 * S)
    seconds = [t for t in c.ticks if t <= T0 + 600 * S]
    assert seconds == [T0 + i * S for i in range(1, 601)]
    assert c.ticks[600] == T0 + 660 * S
    assert T0 + 86_400 * S + 3600 * S in c.ticks
    assert len(c.ticks) < 600 + 1440 + 48
    c.ticks.clear()
    resume = T0 + 2 * 86_400 * S + 5 * S
    eng.on_event(trade(resume))
    eng.advance(resume + 3 * S)
    assert c.ticks[-3:] == [T0 + 2 * 86_400 * S + i * S for i in (6, 7, 8)]


def test_gap_schedule_survives_snapshot_restore() -> None:
    """A restored engine continues with the same tick schedule as one that never stopped."""
    a, b = TickCounter(), TickCounter()
    e1 = StreamEngine([a])
    e1.on_event(trade(T0))
    e1.advance(T0 + 900 * S)
    e2 = StreamEngine([b])
    e2.restore(e1.snapshot())
    e1.advance(T0 + 3 * 3600 * S)
    a_after = [t for t in a.ticks if t > T0 + 900 * S]
    e2.advance(T0 + 3 * 3600 * S)
    assert b.ticks == a_after
