"""Ticks without events: what moves with event time alone changes at exactly the right tick.

Processors skip recomputing a tick when nothing it depends on can have changed (no event, nothing
gone stale, the same buckets); these tests tick every second through quiet periods and check that
staleness, decay and durations still show on the very tick they happen.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import SimpleNamespace

import pytest

from streams.events import Event
from streams.processors.base import Processor
from streams.processors.funding import FundingProcessor
from streams.processors.liquidations import LiquidationProcessor
from streams.processors.open_interest import OpenInterestProcessor
from streams.processors.peg import PegProcessor


def _series(
    mk: SimpleNamespace,
    p: Processor,
    events: Sequence[Event],
    seconds: int,
    name: str,
    **labels: str,
) -> list[tuple[int, float]]:
    """Feed ``events`` in time order, tick every second; ``(seconds after T0, value)`` emitted."""
    pending = sorted(events, key=lambda e: e.ts_event)
    got: list[tuple[int, float]] = []
    for sec in range(1, seconds + 1):
        now = mk.T0 + sec * mk.S
        while pending and pending[0].ts_event < now:
            p.on_event(pending.pop(0))
        got.extend(
            ((s.ts - mk.T0) // mk.S, s.value)
            for s in p.on_tick(now)
            if s.name == name and s.labels == labels
        )
    return got


def test_peg_venues_drop_on_the_tick_each_quote_goes_stale(mk: SimpleNamespace) -> None:
    """Quotes at 0 s (coinbase) and 30 s (kraken), then silence: stale after 120 s each."""
    events = [
        mk.quote(mk.T0, "USDC-USD-SPOT", 0.9999, 1.0001, venue="coinbase"),
        mk.quote(mk.T0 + 30 * mk.S, "USDC-USD-SPOT", 0.9999, 1.0001, venue="kraken"),
    ]
    got = _series(mk, PegProcessor(), events, 200, "peg_venues", coin="USDC")
    assert got == [(1, 1.0), (31, 2.0), (121, 1.0)]  # at 151 s none is fresh: nothing emitted


def test_open_interest_excluded_on_the_tick_after_hold(mk: SimpleNamespace) -> None:
    """okx silent from 0 s, binance updated every 10 s: okx excluded at 301 s (age > 5 min)."""
    events = [mk.oi(mk.T0, 400.0, venue="okx-swap")]
    events += [mk.oi(mk.T0 + i * 10 * mk.S, 600.0) for i in range(40)]
    p = OpenInterestProcessor()
    got = _series(mk, p, events, 400, "oi_venue_included", asset="BTC", venue="okx-swap")
    assert got == [(1, 1.0), (301, 0.0)]
    assert p.value("oi_usd", "BTC", "all") == 600.0
    assert p.value("oi_complete", "BTC") == 0.0


def test_funding_rate_changes_when_a_venue_goes_stale(mk: SimpleNamespace) -> None:
    """okx 0.0009 at 0 s, binance 0.0001 at 300 s, no open interest: the plain mean, then
    binance alone once okx is older than 15 min (at 901 s)."""
    events = [
        mk.funding(mk.T0, 0.0009, venue="okx-swap"),
        mk.funding(mk.T0 + 300 * mk.S, 0.0001, venue="binance-usdm"),
    ]
    got = _series(
        mk, FundingProcessor(), events, 1000, "funding_rate_8h", asset="BTC", venue="oi_weighted"
    )
    assert [t for t, _ in got] == [1, 301, 901]
    assert [v for _, v in got] == pytest.approx([0.0009, 0.0005, 0.0001])


def test_negative_funding_hours_grow_on_every_quiet_tick(mk: SimpleNamespace) -> None:
    """One negative rate, then silence: the negative duration moves every second."""
    events = [mk.funding(mk.T0, -0.0001)]
    got = _series(mk, FundingProcessor(), events, 120, "funding_negative_hours", asset="BTC")
    assert [t for t, _ in got] == list(range(1, 121))
    assert got[-1][1] == pytest.approx(119 / 3600)


def test_liquidation_windows_decay_on_the_exact_tick(mk: SimpleNamespace) -> None:
    """$1000 at 0.5 s and $500 at 10.5 s: out of the 1m window at 61 s and 71 s, out of the
    1h window (minute buckets) together at 3601 s."""
    events = [mk.liq(mk.T0 + mk.S // 2, 1000.0), mk.liq(mk.T0 + 10 * mk.S + mk.S // 2, 500.0)]
    p = LiquidationProcessor()
    one_m = _series(mk, p, events, 3700, "liq_usd", asset="BTC", side="long", window="1m")
    assert one_m == [(1, 1000.0), (11, 1500.0), (61, 500.0), (71, 0.0)]
    p = LiquidationProcessor()
    one_h = _series(mk, p, events, 3700, "liq_usd", asset="BTC", side="long", window="1h")
    assert one_h == [(1, 1000.0), (11, 1500.0), (3601, 0.0)]
