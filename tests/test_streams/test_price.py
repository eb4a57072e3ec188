"""Price: cross-venue median of fresh venues, drawdown from the 90-day high, returns."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from streams.processors.price import PriceProcessor


def test_reference_is_the_median_of_fresh_venues(mk: SimpleNamespace) -> None:
    """bybit's 200 is 2 min old (stale): median(100, 102) = 101 from two venues."""
    p = PriceProcessor()
    p.on_event(mk.trade(mk.T0 - 2 * mk.M, 200.0, venue="bybit-linear"))
    p.on_event(mk.trade(mk.T0, 100.0, venue="binance-usdm"))
    p.on_event(mk.funding(mk.T0, 0.0001, venue="okx-swap", mark=102.0))
    v = mk.latest(p.on_tick(mk.T0 + mk.S))
    assert v[mk.key("price_ref", asset="BTC")] == 101.0
    assert v[mk.key("price_venues", asset="BTC")] == 2.0


def test_stablecoins_are_not_priced_here(mk: SimpleNamespace) -> None:
    """USDC trades are left to the peg processor."""
    p = PriceProcessor()
    p.on_event(mk.trade(mk.T0, 1.0, asset="USDC"))
    assert p.on_tick(mk.T0 + mk.S) == []


def test_ten_minute_return(mk: SimpleNamespace) -> None:
    """100 for ten minutes then 90: price_return_pct{10m} = -10 at 10:00 + 1 s."""
    p = PriceProcessor()
    for s in range(0, 600, 10):
        p.on_event(mk.trade(mk.T0 + s * mk.S, 100.0))
        p.on_tick(mk.T0 + (s + 1) * mk.S)
    p.on_event(mk.trade(mk.T0 + 600 * mk.S, 90.0))
    v = mk.latest(p.on_tick(mk.T0 + 601 * mk.S))
    assert v[mk.key("price_return_pct", asset="BTC", window="10m")] == pytest.approx(-10.0)
    assert mk.key("price_return_pct", asset="BTC", window="1h") not in v  # no history yet
    assert v[mk.key("price_drawdown_pct", asset="BTC")] == pytest.approx(-10.0)


def test_drawdown_from_a_backfilled_90_day_high(mk: SimpleNamespace) -> None:
    """A kline high of 126000 thirty days ago against 80640 now is -36%; 100 days ago is out."""
    p = PriceProcessor()
    p.seed_history("BTC", "binance-usdm", [(mk.T0 - 100 * 24 * mk.H, 500000.0)])
    p.seed_history("BTC", "binance-usdm", [(mk.T0 - 30 * 24 * mk.H, 126000.0)])
    p.on_event(mk.trade(mk.T0, 80640.0))
    v = mk.latest(p.on_tick(mk.T0 + mk.S))
    assert v[mk.key("price_drawdown_pct", asset="BTC")] == pytest.approx(-36.0)


def test_new_high_gives_zero_drawdown(mk: SimpleNamespace) -> None:
    """Above every recorded high, the drawdown is 0."""
    p = PriceProcessor()
    p.seed_history("BTC", "binance-usdm", [(mk.T0 - 24 * mk.H, 100.0)])
    p.on_event(mk.trade(mk.T0, 110.0))
    v = mk.latest(p.on_tick(mk.T0 + mk.S))
    assert v[mk.key("price_drawdown_pct", asset="BTC")] == 0.0
