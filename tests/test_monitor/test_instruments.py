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


# GET /fapi/v1/fundingInfo as served live (asterdex/api-docs issue 1 quotes fapi.binance.com)
BINANCE_FUNDING_INFO = (
    b'[{"symbol":"BLZUSDT","adjustedFundingRateCap":"0.03000000",'
    b'"adjustedFundingRateFloor":"-0.03000000","fundingIntervalHours":4,"disclaimer":false},'
    b'{"symbol":"GTCUSDT","adjustedFundingRateCap":"0.03000000",'
    b'"adjustedFundingRateFloor":"-0.03000000","fundingIntervalHours":8,"disclaimer":false},'
    b'{"symbol":"LPTUSDT","adjustedFundingRateCap":"0.02000000",'
    b'"adjustedFundingRateFloor":"-0.02000000","fundingIntervalHours":4,"disclaimer":false}]'
)


def test_binance_funding_info_example_gives_each_listed_symbols_interval() -> None:
    from monitor.venues.binance_usdm import parse_funding_info

    assert parse_funding_info(BINANCE_FUNDING_INFO) == {
        "BLZUSDT": 4.0,
        "GTCUSDT": 8.0,
        "LPTUSDT": 4.0,
    }


def _mark_price(symbol: str, rate: str, *, all_market: bool) -> str:
    update = (
        f'{{"e":"markPriceUpdate","E":1781419401002,"s":"{symbol}","p":"6.5","ap":"6.5",'
        f'"P":"6.51","i":"6.49","r":"{rate}","T":1781424000000}}'
    )
    if all_market:
        return f'{{"stream":"!markPrice@arr@1s","data":[{update}]}}'
    return f'{{"stream":"{symbol.lower()}@markPrice","data":{update}}}'


@pytest.mark.parametrize("all_market", [False, True])
async def test_binance_funding_uses_the_interval_the_venue_states(all_market: bool) -> None:
    """A 4 h perpetual: exchangeInfo says nothing of intervals, fundingInfo says 4 h, so the
    funding event has interval_h 4 and rate_8h twice the period's rate, in both stream forms."""
    from monitor.instruments import Instrument
    from streams.events import Funding

    vid = "binance-usdm"
    lpt = Instrument(
        venue=vid,
        symbol="LPTUSDT",
        instrument="LPT-USDT-PERP",
        base="LPT",
        quote="USDT",
        kind="perp",
        funding_interval_h=4.0,
    )
    venue_sim = sim_venue(vid)
    venue_sim.add_instruments([lpt])
    async with ExchangeSimulator([venue_sim]) as sim, aiohttp.ClientSession() as http:
        spec = get_venue(vid)
        reg = load_registry(vid)
        ep = VenueEndpoints(ws=sim.ws_base(vid), rest=sim.rest_base(vid))
        assert await refresh_instruments(spec, ep, reg, http) > 0
    inst = reg.get("LPTUSDT")
    assert inst is not None
    assert inst.funding_interval_h == 4.0
    assert reg.get("BTCUSDT") is not None
    assert reg.get("BTCUSDT").funding_interval_h == 8.0  # type: ignore[union-attr]
    parser = spec.make_parser(reg)
    (event,) = parser.parse(_mark_price("LPTUSDT", "0.00010000", all_market=all_market), 1)
    assert isinstance(event, Funding)
    assert event.interval_h == 4.0
    assert event.rate_8h == pytest.approx(0.0002)


def test_funding_intervals_stated_before_the_listing_apply_when_it_arrives() -> None:
    from monitor.venues.binance_usdm import parse_funding_info, parse_instruments

    reg = InstrumentRegistry("binance-usdm")
    assert reg.set_funding_intervals(parse_funding_info(BINANCE_FUNDING_INFO)) == 0
    reg.update(
        parse_instruments(
            b'{"symbols":[{"symbol":"BLZUSDT","baseAsset":"BLZ","quoteAsset":"USDT",'
            b'"contractType":"PERPETUAL","status":"TRADING"}]}'
        )
    )
    blz = reg.get("BLZUSDT")
    assert blz is not None
    assert blz.funding_interval_h == 4.0
