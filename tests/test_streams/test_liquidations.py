"""Liquidation processor: windows, sides, long share, burst z, saturation, late events."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest

from streams.engine import StreamEngine
from streams.processors.liquidations import LiquidationConfig, LiquidationProcessor


def test_sums_counts_and_long_share_by_side_window_and_asset(mk: SimpleNamespace) -> None:
    """Hand-computed totals for BTC, ETH and ``all`` appear on the next tick.

    t (s)    0.1       0.5         2
    event    BTC L 1000 BTC S 500  ETH L 10
    tick @3: BTC long 1000, short 500, all 1500, share 2/3; ETH long 10; all-assets 1510
    """
    eng = StreamEngine([LiquidationProcessor()])
    t0 = mk.T0
    out = eng.on_events(
        [
            mk.liq(t0 + mk.S // 10, 1000.0, "long"),
            mk.liq(t0 + mk.S // 2, 500.0, "short"),
            mk.liq(t0 + 2 * mk.S, 10.0, "long", asset="ETH"),
        ]
    )
    out += eng.advance(t0 + 3 * mk.S)
    v = mk.latest(out)
    k = mk.key
    for window in ("1m", "5m", "1h", "24h"):
        assert v[k("liq_usd", asset="BTC", side="long", window=window)] == 1000.0
        assert v[k("liq_usd", asset="BTC", side="short", window=window)] == 500.0
        assert v[k("liq_usd", asset="BTC", side="all", window=window)] == 1500.0
        assert v[k("liq_count", asset="BTC", side="all", window=window)] == 2.0
        assert v[k("liq_long_share", asset="BTC", window=window)] == pytest.approx(2 / 3)
        assert v[k("liq_usd", asset="ETH", side="long", window=window)] == 10.0
        assert v[k("liq_usd", asset="ETH", side="short", window=window)] == 0.0
        assert v[k("liq_usd", asset="all", side="long", window=window)] == 1010.0
        assert v[k("liq_usd", asset="all", side="all", window=window)] == 1510.0
        assert v[k("liq_count", asset="all", side="short", window=window)] == 1.0
        assert v[k("liq_long_share", asset="all", window=window)] == pytest.approx(1010 / 1510)


def test_signals_appear_within_one_tick_and_only_when_changed(mk: SimpleNamespace) -> None:
    """The event shows on the first tick after it; an unchanged tick emits no liq_usd again."""
    p = LiquidationProcessor()
    assert p.on_event(mk.liq(mk.T0 + 100, 42.0)) == []
    first = p.on_tick(mk.T0 + mk.S)
    assert mk.latest(first)[mk.key("liq_usd", asset="BTC", side="long", window="1m")] == 42.0
    assert all(s.ts == mk.T0 + mk.S for s in first)
    again = p.on_tick(mk.T0 + 2 * mk.S)
    assert [s for s in again if s.name == "liq_usd"] == []


def test_windows_decay_on_ticks_without_events(mk: SimpleNamespace) -> None:
    """Ticks emit the decayed values: 1m drops to 0 after 60 s while 5m still holds the event.

    t (s)   0 (BTC L 100)  ...  60: 1m=100 ([0,60) holds t=0)  61: 1m=0, 5m=100  ...  301: 5m=0
    """
    p = LiquidationProcessor()
    p.on_event(mk.liq(mk.T0, 100.0))
    p.on_tick(mk.T0 + mk.S)
    assert [s for s in p.on_tick(mk.T0 + 60 * mk.S) if s.name == "liq_usd"] == []
    at60 = mk.latest(p.on_tick(mk.T0 + 61 * mk.S))
    assert at60[mk.key("liq_usd", asset="BTC", side="long", window="1m")] == 0.0
    assert at60[mk.key("liq_count", asset="all", side="all", window="1m")] == 0.0
    assert mk.key("liq_usd", asset="BTC", side="long", window="5m") not in at60
    at300 = mk.latest(p.on_tick(mk.T0 + 301 * mk.S))
    assert at300[mk.key("liq_usd", asset="BTC", side="long", window="5m")] == 0.0
    assert p.value("liq_usd", "BTC", "long", "1h") == 100.0


def test_late_liquidation_is_counted_in_its_own_second(mk: SimpleNamespace) -> None:
    """A liquidation arriving after the tick of its second is still summed (and counted late)."""
    p = LiquidationProcessor()
    p.on_event(mk.liq(mk.T0 + 10 * mk.S, 1.0))
    p.on_tick(mk.T0 + 11 * mk.S)
    p.on_event(mk.liq(mk.T0 + 5 * mk.S, 2.0))
    v = mk.latest(p.on_tick(mk.T0 + 12 * mk.S))
    assert v[mk.key("liq_usd", asset="BTC", side="long", window="1m")] == 3.0
    assert (p.late_events, p.dropped_events) == (1, 0)
    v = mk.latest(p.on_tick(mk.T0 + 66 * mk.S))  # [6 s, 66 s): the 5 s event has left
    assert v[mk.key("liq_usd", asset="BTC", side="long", window="1m")] == 1.0


def test_negative_or_nan_notional_is_rejected(mk: SimpleNamespace) -> None:
    """Malformed notionals never reach the sums."""
    p = LiquidationProcessor()
    p.on_event(mk.liq(mk.T0, -5.0))
    p.on_event(mk.liq(mk.T0, math.nan))
    p.on_event(mk.liq(mk.T0, 7.0))
    v = mk.latest(p.on_tick(mk.T0 + mk.S))
    assert v[mk.key("liq_usd", asset="BTC", side="long", window="1m")] == 7.0
    assert p.rejected_events == 2


def _minute_with_log_volume(
    mk: SimpleNamespace, p: LiquidationProcessor, m: int, x: float
) -> float:
    """Feed one liquidation of expm1(x) USD in minute m, tick at the minute's end, return z."""
    if x > 0:
        p.on_event(mk.liq(mk.T0 + m * mk.M + mk.S, math.expm1(x)))
    v = mk.latest(p.on_tick(mk.T0 + (m + 1) * mk.M))
    return v.get(mk.key("liq_burst_z", asset="BTC"), math.nan)


def test_burst_then_calm_does_not_pollute_the_baseline(mk: SimpleNamespace) -> None:
    """Ten burst minutes keep z at (20-10)/1.4826 and a calm minute after them scores 0.

    baseline log1p(USD) per minute: 10 10 10 11 11 9 9 10 12 8 -> median 10, MAD 1, scale 1.4826
    burst minutes: x = 20 (z = 6.745 each; never enter the baseline); then a calm minute x = 10.
    Had the burst entered the baseline, the median would have moved to 15 and z would fall.
    """
    p = LiquidationProcessor(LiquidationConfig(min_baseline_minutes=10))
    p.on_tick(mk.T0)
    for m, x in enumerate([10, 10, 10, 11, 11, 9, 9, 10, 12, 8]):
        z = _minute_with_log_volume(mk, p, m, float(x))
        if m < 9:  # nothing emitted until 10 minutes are in the baseline
            assert math.isnan(z)
    scale = 1.4826
    assert z == pytest.approx((8 - 10) / scale)
    for m in range(10, 20):
        z = _minute_with_log_volume(mk, p, m, 20.0)
        if m == 10:
            assert z == pytest.approx(10 / scale)
        else:  # unchanged value: not re-emitted
            assert math.isnan(z)
    assert p.value("liq_burst_z", "BTC") == pytest.approx(10 / scale)
    z = _minute_with_log_volume(mk, p, 20, 10.0)
    assert z == pytest.approx(0.0, abs=1e-12)
    assert p.value("liq_burst_z", "all") == pytest.approx(0.0, abs=1e-12)


def test_burst_z_follows_the_rolling_last_minute(mk: SimpleNamespace) -> None:
    """Between minute ends z uses the last 60 s: an event at 30 s shows at the next tick.

    baseline: ten minutes of x = 10 -> median 10, MAD 0 -> scale = min_scale 1.0
    """
    p = LiquidationProcessor(LiquidationConfig(min_baseline_minutes=10))
    p.on_tick(mk.T0)
    for m in range(10):
        _minute_with_log_volume(mk, p, m, 10.0)
    p.on_event(mk.liq(mk.T0 + 10 * mk.M + 30 * mk.S, math.expm1(14.0)))
    v = mk.latest(p.on_tick(mk.T0 + 10 * mk.M + 31 * mk.S))
    assert v[mk.key("liq_burst_z", asset="BTC")] == pytest.approx(4.0)
    v = mk.latest(p.on_tick(mk.T0 + 11 * mk.M + 31 * mk.S))  # event has left the last 60 s
    assert v[mk.key("liq_burst_z", asset="BTC")] == pytest.approx(-10.0)


def test_saturated_seconds_count_runs_on_capped_venues(mk: SimpleNamespace) -> None:
    """binance-usdm BTCUSDT at s=0,1,2 and 5 -> 3 saturated seconds; bybit is not capped.

    second        0  1  2  3  4  5
    binance BTC   x  x  x        x   -> run of 3 counts 3, lone second 5 counts 0
    binance ETH   x                  -> 0 (no run, no series)
    bybit BTC     x  x               -> not a capped venue
    """
    p = LiquidationProcessor()
    for s in (0, 1, 2, 5):
        p.on_event(mk.liq(mk.T0 + s * mk.S + 5, 1.0, venue="binance-usdm", symbol="BTCUSDT"))
    p.on_event(mk.liq(mk.T0, 1.0, asset="ETH", venue="binance-usdm", symbol="ETHUSDT"))
    for s in (0, 1):
        p.on_event(mk.liq(mk.T0 + s * mk.S, 1.0, venue="bybit-linear", symbol="BTCUSDT"))
    v = mk.latest(p.on_tick(mk.T0 + 6 * mk.S))
    assert v[mk.key("liq_saturated_seconds", venue="binance-usdm", asset="BTC")] == 3.0
    assert mk.key("liq_saturated_seconds", venue="binance-usdm", asset="ETH") not in v
    assert mk.key("liq_saturated_seconds", venue="bybit-linear", asset="BTC") not in v
    v = mk.latest(p.on_tick(mk.T0 + mk.H + mk.M))
    assert v[mk.key("liq_saturated_seconds", venue="binance-usdm", asset="BTC")] == 0.0


def test_window_coverage_flag(mk: SimpleNamespace) -> None:
    """``liq_window_covered`` turns 1 once a whole window of event time has passed."""
    p = LiquidationProcessor()
    p.on_event(mk.liq(mk.T0, 1.0))
    v = mk.latest(p.on_tick(mk.T0 + mk.S))
    assert v[mk.key("liq_window_covered", window="1m")] == 0.0
    v = mk.latest(p.on_tick(mk.T0 + mk.M))
    assert v[mk.key("liq_window_covered", window="1m")] == 1.0
    assert v.get(mk.key("liq_window_covered", window="5m"), 0.0) == 0.0


def test_coverage_share_is_a_signal_and_must_be_a_share() -> None:
    """liq_coverage_share is emitted once (on change) with the configured share; 0 is refused."""
    p = LiquidationProcessor(LiquidationConfig(coverage_share=0.72))
    first = [s for s in p.on_tick(1_000_000_000) if s.name == "liq_coverage_share"]
    assert [(s.labels, s.value) for s in first] == [({}, 0.72)]
    assert not [s for s in p.on_tick(2_000_000_000) if s.name == "liq_coverage_share"]
    for bad in (0.0, 1.5):
        with pytest.raises(ValueError, match="coverage_share"):
            LiquidationConfig(coverage_share=bad)
