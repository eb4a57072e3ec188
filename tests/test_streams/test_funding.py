"""Funding: 8-hour normalisation across 1h/4h/8h venues, OI weighting, negative hours."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from streams.processors.funding import FundingProcessor, annualise_pct


def test_normalisation_across_1h_4h_8h_venues(mk: SimpleNamespace) -> None:
    """0.01%/8h, 0.005%/4h and 0.00125%/1h are all 0.0001 per 8 h (10.95% a year)."""
    p = FundingProcessor()
    p.on_event(mk.funding(mk.T0, 0.0001, 8.0, venue="binance-usdm"))
    p.on_event(mk.funding(mk.T0, 0.00005, 4.0, venue="bybit-linear"))
    p.on_event(mk.funding(mk.T0, 0.0000125, 1.0, venue="hyperliquid"))
    v = mk.latest(p.on_tick(mk.T0 + mk.S))
    for venue in ("binance-usdm", "bybit-linear", "hyperliquid", "oi_weighted"):
        assert v[mk.key("funding_rate_8h", asset="BTC", venue=venue)] == pytest.approx(0.0001)
        assert v[mk.key("funding_rate_annual_pct", asset="BTC", venue=venue)] == pytest.approx(
            10.95
        )
    assert annualise_pct(0.0001) == pytest.approx(10.95)


def test_oi_weighted_rate(mk: SimpleNamespace) -> None:
    """(0.0003 * 300 + 0.0001 * 100) / 400 = 0.00025; a venue without OI is left out."""
    p = FundingProcessor()
    p.on_event(mk.funding(mk.T0, 0.0003, venue="binance-usdm"))
    p.on_event(mk.oi(mk.T0, 300.0, venue="binance-usdm"))
    p.on_event(mk.funding(mk.T0, 0.0001, venue="okx-swap"))
    p.on_event(mk.oi(mk.T0, 100.0, venue="okx-swap"))
    p.on_event(mk.funding(mk.T0, -0.01, venue="tiny-dex"))
    v = mk.latest(p.on_tick(mk.T0 + mk.S))
    assert v[mk.key("funding_rate_8h", asset="BTC", venue="oi_weighted")] == pytest.approx(0.00025)


def test_without_any_oi_the_plain_mean_is_used(mk: SimpleNamespace) -> None:
    """No open interest known: the weighted rate is the mean of the venues' rates."""
    p = FundingProcessor()
    p.on_event(mk.funding(mk.T0, 0.0003, venue="binance-usdm"))
    p.on_event(mk.funding(mk.T0, 0.0001, venue="okx-swap"))
    v = mk.latest(p.on_tick(mk.T0 + mk.S))
    assert v[mk.key("funding_rate_8h", asset="BTC", venue="oi_weighted")] == pytest.approx(0.0002)


def test_negative_hours_count_and_reset(mk: SimpleNamespace) -> None:
    """Negative from 0:00:01 -> 3.0 hours at 3:00:01; a positive update resets it to 0."""
    p = FundingProcessor()
    for h in range(4):
        p.on_event(mk.funding(mk.T0 + h * mk.H, -0.0001))
        p.on_tick(mk.T0 + h * mk.H + mk.S)
    assert p.value("funding_negative_hours", "BTC") == pytest.approx(3.0)
    p.on_event(mk.funding(mk.T0 + 4 * mk.H, 0.0001))
    v = mk.latest(p.on_tick(mk.T0 + 4 * mk.H + mk.S))
    assert v[mk.key("funding_negative_hours", asset="BTC")] == 0.0


def test_stale_rates_are_dropped(mk: SimpleNamespace) -> None:
    """A rate older than 15 min no longer counts in the weighted rate."""
    p = FundingProcessor()
    p.on_event(mk.funding(mk.T0, 0.0009, venue="okx-swap"))
    p.on_event(mk.funding(mk.T0 + 20 * mk.M, 0.0001, venue="binance-usdm"))
    v = mk.latest(p.on_tick(mk.T0 + 20 * mk.M + mk.S))
    assert v[mk.key("funding_rate_8h", asset="BTC", venue="oi_weighted")] == pytest.approx(0.0001)
