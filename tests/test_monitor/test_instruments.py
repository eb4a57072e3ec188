"""Instrument metadata: packaged snapshot, REST refresh (GET and POST), disk cache."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from monitor.feed import refresh_instruments
from monitor.instruments import InstrumentRegistry, load_instruments
from monitor.simulator.server import ExchangeSimulator
from monitor.simulator.venues import sim_venue
from monitor.venues import get_venue, load_registry
from monitor.venues.base import VenueEndpoints


def test_packaged_snapshot_covers_majors() -> None:
    """Every derivatives venue ships metadata for BTC so parsing works offline."""
    for vid in ("binance-usdm", "bybit-linear", "okx-swap", "hyperliquid"):
        reg = load_registry(vid)
        assert any(i.base == "BTC" for i in reg.all()), vid


def test_unknown_symbol_reported_once() -> None:
    """A symbol without metadata returns None; the registry remembers it reported it."""
    reg = InstrumentRegistry("binance-usdm")
    assert reg.get("NOPEUSDT") is None
    assert reg.get("NOPEUSDT") is None
    assert reg._reported == {"NOPEUSDT"}


async def test_refresh_over_rest_get_post_and_cache(tmp_path: Path) -> None:
    """Instrument lists load from the simulator's REST (GET, POST, two categories) into a cache."""
    venues = ("binance-usdm", "bybit-linear", "hyperliquid")
    async with (
        ExchangeSimulator([sim_venue(v) for v in venues]) as sim,
        aiohttp.ClientSession() as http,
    ):
        for vid in venues:
            spec = get_venue(vid)
            reg = InstrumentRegistry(vid)
            ep = VenueEndpoints(ws=sim.ws_base(vid), rest=sim.rest_base(vid))
            n = await refresh_instruments(spec, ep, reg, http, str(tmp_path))
            assert n > 0, vid
            assert len(reg) == n, vid
            cached = load_instruments(tmp_path / f"{vid}.json")
            assert {i.symbol for i in cached} == {i.symbol for i in reg.all()}
        bybit = load_instruments(tmp_path / "bybit-linear.json")
        assert any(i.inverse for i in bybit)
        assert any(not i.inverse for i in bybit)
    reg2 = load_registry("binance-usdm", tmp_path)
    assert len(reg2) >= len(load_registry("binance-usdm"))


async def test_refresh_failure_keeps_snapshot(tmp_path: Path) -> None:
    """An unreachable REST endpoint leaves the packaged snapshot in place."""
    spec = get_venue("binance-usdm")
    reg = load_registry("binance-usdm")
    before = len(reg)
    async with aiohttp.ClientSession() as http:
        n = await refresh_instruments(
            spec, VenueEndpoints(ws="ws://127.0.0.1:9", rest="http://127.0.0.1:9"), reg, http
        )
    assert n == 0
    assert len(reg) == before


def test_size_and_notional_linear_and_inverse() -> None:
    """Linear contracts are base units, inverse contracts USD; both give base size and USD."""
    from monitor.instruments import Instrument

    linear = Instrument(
        venue="okx-swap",
        symbol="BTC-USDT-SWAP",
        instrument="BTC-USDT-PERP",
        base="BTC",
        quote="USDT",
        kind="perp",
        contract_size=0.01,
    )
    inverse = Instrument(
        venue="okx-swap",
        symbol="BTC-USD-SWAP",
        instrument="BTC-USD-PERP",
        base="BTC",
        quote="USD",
        kind="perp",
        inverse=True,
        contract_size=100.0,
    )
    assert linear.size_and_notional(31.27, 64_000.0) == (0.3127, 0.3127 * 64_000.0)
    assert inverse.size_and_notional(8.0, 80_000.0) == (800.0 / 80_000.0, 800.0)


def test_contracts_for_inverts_size_and_notional() -> None:
    """A venue quantity goes to (size, notional) and back to the same quantity, linear or
    inverse; a linear quantity ignores the notional, an inverse one ignores the size."""
    from monitor.instruments import Instrument

    linear = Instrument(
        venue="okx-swap",
        symbol="ETH-USDT-SWAP",
        instrument="ETH-USDT-PERP",
        base="ETH",
        quote="USDT",
        kind="perp",
        contract_size=0.1,
    )
    inverse = Instrument(
        venue="okx-swap",
        symbol="ETH-USD-SWAP",
        instrument="ETH-USD-PERP",
        base="ETH",
        quote="USD",
        kind="perp",
        inverse=True,
        contract_size=10.0,
    )
    for inst in (linear, inverse):
        for qty, price in ((1.0, 2_950.0), (37.0, 3_012.5), (250_000.0, 1_385.25)):
            size, notional = inst.size_and_notional(qty, price)
            assert inst.contracts_for(size, notional) == pytest.approx(qty, rel=1e-12)
    assert linear.contracts_for(3.0, 0.0) == pytest.approx(30.0)
    assert inverse.contracts_for(0.0, 500.0) == 50.0
