"""Every listed symbol: symbols read from their names, whole-market liquidations by default,
listings re-read over REST with new Bybit listings subscribed without a restart."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiohttp
import pytest
from prometheus_client import CollectorRegistry

from monitor.instruments import Instrument, InstrumentRegistry
from monitor.listing_refresh import refresh_forever, refresh_venue
from monitor.listings import listed_symbols, plan_feed
from monitor.metrics import MonitorMetrics
from monitor.settings import VenueSettings, load_settings
from monitor.venues import get_venue, load_registry
from monitor.venues.base import Channel, MissingMetadataError, Stream
from monitor.venues.bybit_linear import MAX_ARGS_CHARS_PER_CONNECTION, MAX_TOPICS_PER_CONNECTION
from monitor.venues.deriving import split_multiplier
from monitor.venues.planning import perp
from monitor.wiring import venue_streams
from streams.events import EventHeader, Funding, Liquidation, OpenInterest, Quote, Trade
from tests.helpers import VenueRun, eventually, venue_run

DATA = Path(__file__).parent.parent / "data" / "ws"
RECV = 1_790_000_000_123_456_789
MS = 1_000_000
T = 1_781_416_602_260 * MS


# ---------------------------------------------------------------------- reading symbols


@pytest.mark.parametrize(
    ("name", "lower_k", "coin", "multiplier"),
    [
        ("BTC", False, "BTC", 1.0),
        ("1INCH", False, "1INCH", 1.0),  # a coin whose name starts with a digit
        ("1000PEPE", False, "PEPE", 1000.0),
        ("1000000MOG", False, "MOG", 1e6),
        ("1MBABYDOGE", False, "BABYDOGE", 1e6),
        ("10000LADYS", False, "LADYS", 10000.0),
        ("SHIB1000", False, "SHIB", 1000.0),
        ("kPEPE", True, "PEPE", 1000.0),
        ("kPEPE", False, "kPEPE", 1.0),  # only Hyperliquid reads a lowercase k
    ],
)
def test_split_multiplier(name: str, lower_k: bool, coin: str, multiplier: float) -> None:
    assert split_multiplier(name, lower_k=lower_k) == (coin, multiplier)


@pytest.mark.parametrize(
    ("venue", "symbol", "base", "quote", "multiplier"),
    [
        ("binance-usdm", "ROSEUSDT", "ROSE", "USDT", 1.0),
        ("binance-usdm", "1000PEPEUSDT", "PEPE", "USDT", 1000.0),
        ("binance-usdm", "1000000MOGUSDT", "MOG", "USDT", 1e6),
        ("binance-usdm", "1MBABYDOGEUSDT", "BABYDOGE", "USDT", 1e6),
        ("binance-usdm", "ETHUSDC", "ETH", "USDC", 1.0),
        ("bybit-linear", "10000LADYSUSDT", "LADYS", "USDT", 10000.0),
        ("bybit-linear", "SHIB1000USDT", "SHIB", "USDT", 1000.0),
        ("bybit-linear", "ETHPERP", "ETH", "USDC", 1.0),
        ("hyperliquid", "kPEPE", "PEPE", "USDC", 1000.0),
        ("hyperliquid", "FARTCOIN", "FARTCOIN", "USDC", 1.0),
    ],
)
def test_base_unit_venues_derive_unlisted_symbols(
    venue: str, symbol: str, base: str, quote: str, multiplier: float
) -> None:
    derive = get_venue(venue).derive_instrument
    assert derive is not None
    inst = derive(symbol)
    assert inst is not None
    assert (inst.base, inst.quote, inst.multiplier, inst.kind) == (base, quote, multiplier, "perp")
    assert inst.instrument == f"{base}-{quote}-PERP"
    assert not inst.inverse
    assert inst.contract_size == 1.0


@pytest.mark.parametrize(
    ("venue", "symbol"),
    [
        ("binance-usdm", "BTCUSDT_261225"),  # a dated future
        ("binance-usdm", "BTCEUR"),  # an unknown quote
        ("bybit-linear", "DOTUSD"),  # inverse: sizes are USD contracts
        ("bybit-linear", "BTC-26DEC25"),  # a dated future
        ("hyperliquid", "@107"),  # a spot pair id
    ],
)
def test_symbols_that_do_not_read_cleanly_are_not_derived(venue: str, symbol: str) -> None:
    derive = get_venue(venue).derive_instrument
    assert derive is not None
    assert derive(symbol) is None


def test_contract_size_venues_have_no_deriver() -> None:
    """OKX, BitMEX and Deribit need a contract size: their unknown symbols stay skipped."""
    for vid in ("okx-swap", "bitmex", "deribit"):
        assert get_venue(vid).derive_instrument is None
        reg = load_registry(vid)
        assert reg.get("NEWCOIN-USDT-SWAP") is None


def test_bybit_documented_liquidation_of_an_unlisted_symbol_flows() -> None:
    """The documented allLiquidation frame (ROSEUSDT, not in the snapshot) becomes an event."""
    reg = load_registry("bybit-linear")
    assert "ROSEUSDT" not in reg
    parser = get_venue("bybit-linear").make_parser(reg)
    (ev,) = parser.parse((DATA / "bybit-linear" / "all_liquidation.json").read_text(), RECV)
    assert isinstance(ev, Liquidation)
    assert (ev.asset, ev.instrument, ev.side) == ("ROSE", "ROSE-USDT-PERP", "short")
    assert ev.size == 20000.0
    assert ev.notional_usd == pytest.approx(20000 * 0.04499)
    assert [i.symbol for i in reg.derived()] == ["ROSEUSDT"]


def test_binance_bundled_symbol_keeps_notional_and_counts_coins() -> None:
    """A documented forceOrder of a bundled symbol: asset PEPE, size in coins, exact notional."""
    frame = (DATA / "binance-usdm" / "force_order_2026.json").read_text()
    frame = frame.replace('"s":"BTCUSDT"', '"s":"1000PEPEUSDC"').replace("64310.60", "0.0123")
    reg = load_registry("binance-usdm")
    assert "1000PEPEUSDC" not in reg
    parser = get_venue("binance-usdm").make_parser(reg)
    (ev,) = parser.parse(frame, RECV)
    assert isinstance(ev, Liquidation)
    assert (ev.asset, ev.symbol, ev.instrument) == ("PEPE", "1000PEPEUSDC", "PEPE-USDC-PERP")
    assert ev.side == "short"
    assert ev.size == pytest.approx(0.002 * 1000)
    assert ev.price == pytest.approx(0.0123 / 1000)
    assert ev.notional_usd == pytest.approx(0.0123 * 0.002)


def test_hyperliquid_documented_trade_of_an_unlisted_coin_flows() -> None:
    frame = (
        (DATA / "hyperliquid" / "trades.json").read_text().replace('"coin":"BTC"', '"coin":"kPEPE"')
    )
    frame = frame.replace('"px":"64411.0"', '"px":"0.0105"')
    reg = load_registry("hyperliquid")
    (ev,) = get_venue("hyperliquid").make_parser(reg).parse(frame, RECV)
    assert isinstance(ev, Trade)
    assert (ev.asset, ev.symbol) == ("PEPE", "kPEPE")
    assert ev.size == pytest.approx(0.31377 * 1000)
    assert ev.notional_usd == pytest.approx(0.0105 * 0.31377)


def test_bundled_symbol_prices_are_per_coin_on_every_channel() -> None:
    """The documented Bybit tickers snapshot, for a bundled symbol without metadata: mark and
    book prices per coin, open interest and book sizes in coins, notional unchanged."""
    frame = (DATA / "bybit-linear" / "tickers_snapshot.json").read_text()
    frame = frame.replace("BTCUSDT", "10000LADYSUSDT")
    reg = load_registry("bybit-linear")
    events = get_venue("bybit-linear").make_parser(reg).parse(frame, RECV)
    funding = next(e for e in events if isinstance(e, Funding))
    oi = next(e for e in events if isinstance(e, OpenInterest))
    quote = next(e for e in events if isinstance(e, Quote))
    assert {e.asset for e in events} == {"LADYS"}
    assert funding.mark_price == pytest.approx(66666.60 / 10000)
    assert oi.size == pytest.approx(492373.72 * 10000)
    assert oi.notional_usd == pytest.approx(492373.72 * 66666.60)
    assert quote.bid == pytest.approx(6.66666)
    assert quote.ask == pytest.approx(6.66667)
    assert quote.bid_size == pytest.approx(23789.165 * 10000)


def test_okx_unlisted_symbol_is_still_a_counted_skip() -> None:
    frame = json.dumps(
        {
            "arg": {"channel": "trades", "instId": "NEWCOIN-USDT-SWAP"},
            "data": [
                {
                    "instId": "NEWCOIN-USDT-SWAP",
                    "tradeId": "1",
                    "px": "1.5",
                    "sz": "3",
                    "side": "buy",
                    "ts": "1781416602260",
                }
            ],
        }
    )
    parser = get_venue("okx-swap").make_parser(load_registry("okx-swap"))
    with pytest.raises(MissingMetadataError):
        parser.parse(frame, RECV)


def test_metadata_wins_over_a_derived_instrument() -> None:
    reg = load_registry("binance-usdm")
    seen: list[Instrument] = []
    reg.on_derived = seen.append
    assert reg.get("WLFIUSDT") is not None
    assert reg.get("WLFIUSDT") is not None
    assert [i.symbol for i in seen] == ["WLFIUSDT"]  # derived and reported once
    listed = perp("binance-usdm", "WLFIUSDT", "WLFI", "USDT", funding_interval_h=4.0)
    reg.update([listed])
    assert reg.get("WLFIUSDT") == listed
    assert reg.derived() == []


async def test_feed_counts_a_derived_symbol_once_and_its_liquidations_flow() -> None:
    """A liquidation on !forceOrder@arr of a symbol the daemon has no metadata for."""
    async with venue_run("binance-usdm", [Stream("liquidations", "*")]) as run:
        sim = run.sim.venues["binance-usdm"]
        sim.add_instruments(
            [perp("binance-usdm", "1000PEPEUSDC", "1000PEPE", "USDC", funding_interval_h=8.0)]
        )
        for i in range(2):
            run.sim.publish(
                Liquidation(
                    venue="binance-usdm",
                    symbol="1000PEPEUSDC",
                    instrument="1000PEPE-USDC-PERP",
                    asset="1000PEPE",
                    ts_event=T + i * MS,
                    ts_recv=0,
                    price=0.0123,  # the wire: per 1000 PEPE
                    size=5000.0,  # the wire: bundles of 1000 PEPE
                    notional_usd=61.5,
                    side="long",
                )
            )
        await eventually(lambda: len(run.of_type(Liquidation)) == 2, what="liquidations")
        ev = run.of_type(Liquidation)[0]
        assert (ev.asset, ev.size) == ("PEPE", 5_000_000.0)
        assert ev.notional_usd == pytest.approx(61.5)
        assert run.metric("riskmon_instruments_derived_total", venue="binance-usdm") == 1.0
        assert run.metric("riskmon_feed_frames_skipped_total", venue="binance-usdm",
                          reason="no_metadata") == 0.0  # fmt: skip


# ---------------------------------------------------------------------- the default coverage


def test_default_config_takes_whole_market_liquidations() -> None:
    settings = load_settings()
    streams = {v: venue_streams(get_venue(v), vs) for v, vs in settings.venues.items()}
    liq = {v: {s.symbol for s in ss if s.channel == "liquidations"} for v, ss in streams.items()}
    assert liq["binance-usdm"] == {"*"}
    assert liq["okx-swap"] == {"*"}
    assert liq["bitmex"] == {"*"}
    assert liq["bybit-linear"] == {"*"}  # expanded per listed symbol by the feed
    assert liq["deribit"] == set(get_venue("deribit").default_symbols)  # flags in trades
    assert "liquidations" not in get_venue("hyperliquid").channels
    # trades, quotes and funding stay on the majors
    binance = get_venue("binance-usdm")
    for ch in ("trades", "quotes", "funding"):
        assert {s.symbol for s in streams["binance-usdm"] if s.channel == ch} == set(
            binance.default_symbols
        )


def test_all_market_true_false_and_a_list() -> None:
    spec = get_venue("binance-usdm")
    both = venue_streams(spec, VenueSettings(all_market=True))
    assert {s.channel for s in both if s.symbol == "*"} == {"liquidations", "funding"}
    none = venue_streams(spec, VenueSettings(all_market=False))
    assert not [s for s in none if s.symbol == "*"]
    funding = venue_streams(spec, VenueSettings(all_market=["funding"]))
    assert {s.channel for s in funding if s.symbol == "*"} == {"funding"}
    # a venue without an all-market funding stream keeps funding on its symbols
    okx = venue_streams(get_venue("okx-swap"), VenueSettings(all_market=True))
    assert {s.channel for s in okx if s.symbol == "*"} == {"liquidations"}


def test_bybit_plans_every_listed_perp_within_its_limits() -> None:
    spec = get_venue("bybit-linear")
    reg = load_registry("bybit-linear")
    streams = venue_streams(spec, VenueSettings())
    plans = plan_feed(spec, spec.endpoints, streams, reg)
    topics = [t for p in plans for f in p.subscribe for t in json.loads(f)["args"]]
    liq = sorted(t.split(".", 1)[1] for t in topics if t.startswith("allLiquidation."))
    assert liq == listed_symbols(reg)
    assert len(topics) == len(set(topics))
    for p in plans:
        args = [t for f in p.subscribe for t in json.loads(f)["args"]]
        assert len(args) <= MAX_TOPICS_PER_CONNECTION
        assert sum(len(a) + 3 for a in args) <= MAX_ARGS_CHARS_PER_CONNECTION
        # the feed watches the whole-market channel as one stream, not per quiet symbol
        assert not [s for s in p.streams if s.channel == "liquidations" and s.symbol != "*"]
    # the majors' trades and tickers are still there
    assert "publicTrade.BTCUSDT" in topics
    assert "tickers.BTCUSDT" in topics


def test_bybit_whole_market_of_a_live_sized_listing_stays_within_limits() -> None:
    """700 listed perpetuals (more than Bybit lists): several connections, each within Bybit's
    args limit, every symbol subscribed once."""
    spec = get_venue("bybit-linear")
    reg = InstrumentRegistry("bybit-linear")
    reg.update(
        perp("bybit-linear", f"LONGNAMECOIN{i}USDT", f"LONGNAMECOIN{i}", "USDT",
             funding_interval_h=8.0)
        for i in range(700)
    )  # fmt: skip
    plans = plan_feed(spec, spec.endpoints, [Stream("liquidations", "*")], reg)
    per_plan = [[t for f in p.subscribe for t in json.loads(f)["args"]] for p in plans]
    assert sorted(t for ts in per_plan for t in ts) == sorted(
        f"allLiquidation.LONGNAMECOIN{i}USDT" for i in range(700)
    )
    assert len(plans) >= 3
    for args in per_plan:
        assert len(args) <= MAX_TOPICS_PER_CONNECTION
        assert sum(len(a) + 3 for a in args) <= MAX_ARGS_CHARS_PER_CONNECTION


# ---------------------------------------------------------------------- listings refresh


def _newcoin() -> Instrument:
    return perp("bybit-linear", "NEWCOINUSDT", "NEWCOIN", "USDT", funding_interval_h=4.0)


async def _new_listing_flows(run: VenueRun) -> None:
    """The new listing's liquidation topic is subscribed and its liquidations are parsed."""
    await eventually(
        lambda: any("allLiquidation.NEWCOINUSDT" in s.subscriptions
                    for s in run.sim.sessions("bybit-linear")),
        what="new listing subscribed",
    )  # fmt: skip
    run.sim.publish(
        Liquidation(
            venue="bybit-linear",
            symbol="NEWCOINUSDT",
            instrument="NEWCOIN-USDT-PERP",
            asset="NEWCOIN",
            ts_event=T,
            ts_recv=0,
            price=2.0,
            size=100.0,
            notional_usd=200.0,
            side="short",
        )
    )
    await eventually(
        lambda: any(e.symbol == "NEWCOINUSDT" for e in run.of_type(Liquidation)),
        what="new listing's liquidation",
    )
    ev = next(e for e in run.of_type(Liquidation) if e.symbol == "NEWCOINUSDT")
    assert (ev.asset, ev.notional_usd) == ("NEWCOIN", 200.0)
    assert "NEWCOINUSDT" not in {i.symbol for i in run.feed.registry.derived()}  # metadata


async def test_refresh_adds_a_new_bybit_listing_without_a_restart(tmp_path: Path) -> None:
    """The simulator lists a new perp; one refresh subscribes its liquidations on the running
    feed (the other connections stay up) and caches its metadata."""
    async with venue_run("bybit-linear", [Stream("liquidations", "*")]) as run:
        before = list(run.feed.connections)
        assert run.sim.venues["bybit-linear"].instruments.keys() >= set(
            listed_symbols(run.feed.registry)
        )
        run.sim.venues["bybit-linear"].add_instruments([_newcoin()])
        async with aiohttp.ClientSession() as http:
            new = await refresh_venue(run.feed, http, str(tmp_path))
        assert new == ["NEWCOINUSDT"]
        assert run.feed.registry.get("NEWCOINUSDT") == _newcoin()
        assert len(run.feed.connections) == len(before) + 1
        assert all(c.connects == 1 for c in before)  # nothing reconnected
        await _new_listing_flows(run)
        cached = json.loads((tmp_path / "bybit-linear.json").read_text())
        assert "NEWCOINUSDT" in {i["symbol"] for i in cached}
        async with aiohttp.ClientSession() as http:  # a second refresh finds nothing new
            assert await refresh_venue(run.feed, http) == []
        assert len(run.feed.connections) == len(before) + 1


async def test_periodic_refresh_runs_on_the_clock() -> None:
    """refresh_forever re-reads the listing every interval of the run's clock."""
    async with venue_run("bybit-linear", [Stream("liquidations", "*")]) as run:
        metrics = MonitorMetrics(CollectorRegistry())
        async with aiohttp.ClientSession() as http:
            task = asyncio.create_task(
                refresh_forever([run.feed], http, run.clock, 6 * 3600.0, metrics=metrics)
            )
            try:
                sleepers = run.clock.sleepers
                await eventually(lambda: run.clock.sleepers > sleepers, what="refresh waits")
                run.sim.venues["bybit-linear"].add_instruments([_newcoin()])
                await run.advance(3600.0)
                await asyncio.sleep(0.05)
                assert "NEWCOINUSDT" not in run.feed.registry  # not due yet
                await run.advance(5 * 3600.0)
                await eventually(lambda: "NEWCOINUSDT" in run.feed.registry, what="refreshed")
                await _new_listing_flows(run)
                listed = metrics.registry.get_sample_value(
                    "riskmon_instruments_listed", {"venue": "bybit-linear"}
                )
                assert listed == len(run.feed.registry)
            finally:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)


@pytest.mark.parametrize(
    ("venue", "symbol", "asset", "instrument"),
    [
        ("binance-usdm", "WIFUSDT", "WIF", "WIF-USDT-PERP"),  # !forceOrder@arr
        ("okx-swap", "ADA-USDT-SWAP", "ADA", "ADA-USDT-PERP"),  # liquidation-orders (SWAP)
        ("bitmex", "XRPUSDT", "XRP", "XRP-USDT-PERP"),  # the liquidation table
        ("bybit-linear", "ETHUSD", "ETH", "ETH-USD-PERP"),  # allLiquidation per listed symbol
    ],
)
async def test_default_config_receives_liquidations_beyond_the_majors(
    venue: str, symbol: str, asset: str, instrument: str
) -> None:
    """With the default settings, a liquidation of a listed non-major reaches the feed through
    the simulator's whole-market stream."""
    spec = get_venue(venue)
    assert symbol not in spec.default_symbols
    async with venue_run(venue, venue_streams(spec, VenueSettings())) as run:
        run.sim.publish(
            Liquidation(
                venue=venue,
                symbol=symbol,
                instrument=instrument,
                asset=asset,
                ts_event=T,
                ts_recv=0,
                price=2.0,
                size=1000.0,
                notional_usd=2000.0,
                side="long",
            )
        )
        await eventually(
            lambda: any(e.symbol == symbol for e in run.of_type(Liquidation)),
            what=f"{venue} {symbol} liquidation",
        )
        ev = next(e for e in run.of_type(Liquidation) if e.symbol == symbol)
        assert (ev.asset, ev.side) == (asset, "long")
        assert ev.notional_usd == pytest.approx(2000.0, rel=1e-3)


@pytest.mark.parametrize(
    ("venue", "symbol", "channel"),
    [
        ("binance-usdm", "1000PEPEUSDT", "liquidations"),  # in the snapshot
        ("binance-usdm", "1000PEPEUSDT", "quotes"),
        ("bybit-linear", "10000LADYSUSDT", "quotes"),  # derived from its name
        ("hyperliquid", "kPEPE", "trades"),  # derived from its name
    ],
)
async def test_bundled_symbols_round_trip_through_the_simulator(
    venue: str, symbol: str, channel: Channel
) -> None:
    """The simulator renders a bundled symbol as the venue does (prices per bundle, sizes in
    bundles); the feed reads back the coin's prices and sizes."""
    spec = get_venue(venue)
    derive = spec.derive_instrument
    assert derive is not None
    inst = derive(symbol)
    assert inst is not None
    assert inst.multiplier >= 1000
    stream = Stream(channel, "*" if channel == "liquidations" else symbol)
    major = Stream("trades", spec.default_symbols[0])
    async with venue_run(venue, [major, stream]) as run:
        run.sim.venues[venue].add_instruments([inst])  # the venue lists it
        topics = {t for sess in run.sim.sessions(venue) for t in sess.subscriptions}
        if stream.symbol != "*" and not any(symbol in t for t in topics):
            # refused while unlisted (Hyperliquid): the reconnect subscribes it again
            await next(c for c in run.feed.connections if stream in c.plan.streams).drop()
            await run.reconnect("resubscribed")
        head: EventHeader = {
            "venue": venue,
            "symbol": symbol,
            "instrument": inst.instrument,
            "asset": inst.base,
            "ts_event": T,
            "ts_recv": 0,
        }
        sent: Liquidation | Quote | Trade
        if channel == "liquidations":
            sent = Liquidation(**head, price=1.2e-5, size=4e6, notional_usd=48.0, side="long")
        elif channel == "quotes":
            sent = Quote(**head, bid=1.2e-5, ask=1.3e-5, bid_size=5e6, ask_size=6e6)
        else:
            sent = Trade(**head, price=1.2e-5, size=4e6, notional_usd=48.0, side="buy")
        run.sim.publish(sent)
        await eventually(lambda: len(run.of_type(type(sent))) == 1, what=f"{venue} {channel}")
        (got,) = run.of_type(type(sent))
        assert got.asset == inst.base
        for field in ("price", "size", "notional_usd", "bid", "ask", "bid_size", "ask_size"):
            if hasattr(sent, field):
                assert getattr(got, field) == pytest.approx(getattr(sent, field)), field
