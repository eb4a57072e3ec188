"""Peg: USD conversion via the USDT/USD median, median deviation, single-venue dislocation."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from streams.processors.peg import PegProcessor


def test_binance_usde_dislocation_with_a_near_zero_median(mk: SimpleNamespace) -> None:
    """USDe at 0.65 on Binance only (10 Oct 2025): dislocation -3500 bps, median -5 bps.

    venue     pair          mid     USD price  deviation
    binance   USDE-USDT     0.65    0.65       -3500
    bybit     USDE-USDT     0.999   0.999        -10
    kraken    USDE-USD      1.000   1.000          0
    okx       USDE-USDT     1.001   1.001        +10
    USDT/USD = median(kraken 1.0, coinbase 1.0) = 1.0;  median deviation = (-10 + 0) / 2 = -5
    binance dislocation = -3500 - median(-10, 0, 10) = -3500
    """
    p = PegProcessor()
    t = mk.T0
    for venue in ("kraken", "coinbase"):
        p.on_event(mk.quote(t, "USDT-USD-SPOT", 0.9999, 1.0001, venue=venue))
    p.on_event(mk.quote(t, "USDE-USDT-SPOT", 0.649, 0.651, venue="binance"))
    p.on_event(mk.quote(t, "USDE-USDT-SPOT", 0.998, 1.000, venue="bybit"))
    p.on_event(mk.quote(t, "USDE-USD-SPOT", 0.999, 1.001, venue="kraken"))
    p.on_event(mk.quote(t, "USDE-USDT-SPOT", 1.000, 1.002, venue="okx"))
    v = mk.latest(p.on_tick(t + mk.S))
    k = mk.key
    assert v[k("peg_deviation_bps", coin="USDE", venue="binance")] == pytest.approx(-3500.0)
    assert v[k("peg_median_deviation_bps", coin="USDE")] == pytest.approx(-5.0)
    assert v[k("peg_dislocation_bps", coin="USDE", venue="binance")] == pytest.approx(-3500.0)
    assert v[k("peg_max_dislocation_bps", coin="USDE")] == pytest.approx(-3500.0)
    assert v[k("peg_venues_deviating", coin="USDE", threshold="30")] == 1.0
    assert v[k("peg_venues_deviating", coin="USDE", threshold="300")] == 1.0
    assert v[k("peg_venues", coin="USDE")] == 4.0
    assert v[k("peg_reference_fresh", quote="USDT")] == 1.0


def test_usdt_quoted_pairs_are_converted_through_the_usdt_usd_median(mk: SimpleNamespace) -> None:
    """USDT/USD = median(0.997, 0.999, 1.010) = 0.999; USDC-USDT 1.002 -> 1.002 * 0.999 USD."""
    p = PegProcessor()
    for venue, mid in (("kraken", 0.997), ("coinbase", 0.999), ("bitstamp", 1.010)):
        p.on_event(mk.quote(mk.T0, "USDT-USD-SPOT", mid, mid, venue=venue))
    p.on_event(mk.quote(mk.T0, "USDC-USDT-SPOT", 1.002, 1.002, venue="binance"))
    v = mk.latest(p.on_tick(mk.T0 + mk.S))
    assert v[mk.key("peg_price", coin="USDC", venue="binance")] == pytest.approx(1.002 * 0.999)
    assert v[mk.key("peg_median_deviation_bps", coin="USDT")] == pytest.approx(-10.0)
    # the converted price says so: the USD price of the coin it went through, by venue
    assert v[mk.key("peg_via_rate", coin="USDC", venue="binance", via="USDT")] == pytest.approx(
        0.999
    )
    assert not any(k.startswith("peg_via_rate") and "venue=kraken" in k for k in v)


def test_pyusd_is_watched_and_a_usd_pair_carries_no_via(mk: SimpleNamespace) -> None:
    """PYUSD (Coinbase, Kraken, Bitstamp USD books) is watched; USD pairs are not converted."""
    p = PegProcessor()
    for venue in ("coinbase", "kraken", "bitstamp"):
        p.on_event(mk.quote(mk.T0, "PYUSD-USD-SPOT", 0.9990, 0.9992, venue=venue))
    out = p.on_tick(mk.T0 + mk.S)
    v = mk.latest(out)
    assert v[mk.key("peg_venues", coin="PYUSD")] == 3.0
    assert v[mk.key("peg_median_deviation_bps", coin="PYUSD")] == pytest.approx(-9.0)
    assert not [s for s in out if s.name == "peg_via_rate"]


def test_usd_pair_wins_over_a_converted_pair_on_the_same_venue(mk: SimpleNamespace) -> None:
    """kraken has USDC-USD 1.0 and USDC-USDT 0.99: the USD pair is its price."""
    p = PegProcessor()
    p.on_event(mk.quote(mk.T0, "USDC-USD-SPOT", 1.0, 1.0, venue="kraken"))
    p.on_event(mk.quote(mk.T0 + 1, "USDC-USDT-SPOT", 0.99, 0.99, venue="kraken"))
    v = mk.latest(p.on_tick(mk.T0 + mk.S))
    assert v[mk.key("peg_price", coin="USDC", venue="kraken")] == 1.0


def test_median_ignores_a_stale_venue(mk: SimpleNamespace) -> None:
    """A venue quiet for over 2 min leaves the median; the other two set it."""
    p = PegProcessor()
    p.on_event(mk.quote(mk.T0, "USDC-USD-SPOT", 0.87, 0.87, venue="bitstamp"))
    p.on_event(mk.quote(mk.T0 + 3 * mk.M, "USDC-USD-SPOT", 0.9990, 0.9990, venue="kraken"))
    p.on_event(mk.quote(mk.T0 + 3 * mk.M, "USDC-USD-SPOT", 0.9980, 0.9980, venue="coinbase"))
    v = mk.latest(p.on_tick(mk.T0 + 3 * mk.M + mk.S))
    assert v[mk.key("peg_median_deviation_bps", coin="USDC")] == pytest.approx(-15.0)
    assert v[mk.key("peg_venues", coin="USDC")] == 2.0


def test_non_spot_and_crossed_quotes_are_ignored(mk: SimpleNamespace) -> None:
    """Perp quotes do not feed the peg; a crossed book is rejected and counted."""
    p = PegProcessor()
    p.on_event(mk.quote(mk.T0, "USDC-USDT-PERP", 0.5, 0.5, venue="binance"))
    p.on_event(mk.quote(mk.T0, "USDC-USD-SPOT", 1.01, 0.99, venue="kraken"))
    assert p.on_tick(mk.T0 + mk.S) == []
    assert p.rejected_events == 1


def test_missing_usdt_reference_falls_back_to_parity_and_says_so(mk: SimpleNamespace) -> None:
    """Without any USDT-USD quote the conversion uses 1.0 and flags it."""
    p = PegProcessor()
    p.on_event(mk.quote(mk.T0, "FDUSD-USDT-SPOT", 0.99, 0.99, venue="binance"))
    v = mk.latest(p.on_tick(mk.T0 + mk.S))
    assert v[mk.key("peg_price", coin="FDUSD", venue="binance")] == 0.99
    assert v[mk.key("peg_reference_fresh", quote="USDT")] == 0.0
