"""Stablecoin spot venues [kraken, coinbase, bitstamp, binance-spot, okx-spot, bybit-spot]:
parsers and simulators (okx-spot's and bybit-spot's own frames: test_okx_spot.py,
test_bybit_spot.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import aiohttp
import msgspec
import pytest

from monitor.instruments import Instrument
from monitor.simulator.base import SimVenue
from monitor.simulator.server import ExchangeSimulator
from monitor.simulator.venues.binance_spot import BinanceSpotSim
from monitor.simulator.venues.bitstamp import BitstampSim
from monitor.simulator.venues.bybit_spot import BybitSpotSim
from monitor.simulator.venues.coinbase import CoinbaseSim
from monitor.simulator.venues.gate_spot import GateSpotSim
from monitor.simulator.venues.kraken import KrakenSim
from monitor.simulator.venues.okx_spot import OkxSpotSim
from monitor.venues import get_venue, load_registry, packaged_instruments
from monitor.venues.base import (
    FrameParser,
    MissingMetadataError,
    ParseError,
    Stream,
    UnknownMessageError,
    VenueEndpoints,
)
from streams.events import Event, Quote, Trade
from tests.helpers import eventually, plan_session

DATA = Path(__file__).resolve().parents[1] / "data" / "ws"
RECV = 1_790_000_000_000_000_000
MS = 1_000_000
SPOT = ("kraken", "coinbase", "bitstamp", "binance-spot", "okx-spot", "bybit-spot", "gate-spot")
SIMS: dict[str, Callable[[], SimVenue]] = {
    "kraken": KrakenSim,
    "coinbase": CoinbaseSim,
    "bitstamp": BitstampSim,
    "binance-spot": BinanceSpotSim,
    "okx-spot": OkxSpotSim,
    "bybit-spot": BybitSpotSim,
    "gate-spot": GateSpotSim,
}


def frame(venue: str, name: str) -> str:
    return (DATA / venue / name).read_text().strip()


def spot(venue: str, symbol: str, base: str, quote: str) -> Instrument:
    return Instrument(
        venue=venue,
        symbol=symbol,
        instrument=f"{base}-{quote}-SPOT",
        base=base,
        quote=quote,
        kind="spot",
    )


def make_parser(venue: str, *extra: Instrument) -> FrameParser:
    reg = load_registry(venue)
    reg.update(extra)
    return get_venue(venue).make_parser(reg)


def ids(venue: str, symbol: str, base: str, quote: str) -> dict[str, str]:
    return {"venue": venue, "symbol": symbol, "instrument": f"{base}-{quote}-SPOT", "asset": base}


def same(actual: list[Event], expected: list[Event]) -> None:
    """Compare events field by field, floats to 1e-9 relative, ignoring ts_recv."""
    assert [type(e) for e in actual] == [type(e) for e in expected]
    for a, e in zip(actual, expected, strict=True):
        da, de = msgspec.structs.asdict(a), msgspec.structs.asdict(e)
        da.pop("ts_recv")
        de.pop("ts_recv")
        for k, v in de.items():
            if isinstance(v, float):
                assert da[k] == pytest.approx(v, rel=1e-9, abs=1e-12), k
            else:
                assert da[k] == v, k


def garbage(p: FrameParser, good: str) -> None:
    for bad in ("\x00garbage-}{", good[: len(good) // 2]):
        with pytest.raises(ParseError) as info:
            p.parse(bad, RECV)
        assert not isinstance(info.value, (UnknownMessageError, MissingMetadataError))


# ---------------------------------------------------------------------- documented frames


Spot = tuple[str, str, str, str]  # venue, symbol, base, quote


def _quote(
    inst: Spot, ts_event: int, bid: float, ask: float, sizes: tuple[float, float] | None
) -> Quote:
    """The quote of ``inst`` (``sizes`` None: a book without sizes)."""
    bid_size, ask_size = sizes if sizes is not None else (None, None)
    return Quote(
        **ids(*inst),
        ts_event=ts_event,
        ts_recv=RECV,
        bid=bid,
        ask=ask,
        bid_size=bid_size,
        ask_size=ask_size,
    )


def _trade(inst: Spot, ts_event: int, price: float, size: float) -> Trade:
    """A taker buy of ``size`` at ``price`` (every documented spot trade is one)."""
    return Trade(
        **ids(*inst),
        ts_event=ts_event,
        ts_recv=RECV,
        price=price,
        size=size,
        notional_usd=price * size,
        side="buy",
    )


KRAKEN_BTC: Spot = ("kraken", "BTC/USD", "BTC", "USD")
BITSTAMP_BTC: Spot = ("bitstamp", "btcusd", "BTC", "USD")
BITSTAMP_USDT: Spot = ("bitstamp", "usdtusd", "USDT", "USD")
KRAKEN_MATIC: Spot = ("kraken", "MATIC/USD", "MATIC", "USD")
COINBASE_BTC: Spot = ("coinbase", "BTC-USD", "BTC", "USD")
BINANCE_BNB: Spot = ("binance-spot", "BNBUSDT", "BNB", "USDT")
BINANCE_BTC: Spot = ("binance-spot", "BTCUSDT", "BTC", "USDT")


@pytest.mark.parametrize(
    ("venue", "name", "instruments", "expected"),
    [
        # a v2 ticker update is a Quote with base-unit sizes and the RFC3339 time in ns
        pytest.param(
            "kraken",
            "ticker_update.json",
            [KRAKEN_BTC],
            [_quote(KRAKEN_BTC, 1_783_641_602_123_456_000, 99.9, 100.1, (1.2, 2.3))],
            id="kraken-ticker-gives-quote",
        ),
        # both documented MATIC/USD trades parse, side = taker side, notional in USD
        pytest.param(
            "kraken",
            "trade_snapshot.json",
            [KRAKEN_MATIC],
            [
                _trade(KRAKEN_MATIC, 1_695_628_116_925_533_000, 0.5147, 6423.46326),
                _trade(KRAKEN_MATIC, 1_695_628_176_925_603_000, 0.5147, 1136.19677815),
            ],
            id="kraken-trades-side-is-taker",
        ),
        # the documented ticker has best bid/ask but no sizes: sizes are None
        pytest.param(
            "coinbase",
            "ticker_docs.json",
            [COINBASE_BTC],
            [_quote(COINBASE_BTC, 1_504_371_949_250_000_000, 4388.0, 4388.01, None)],
            id="coinbase-ticker-gives-quote-without-sizes",
        ),
        # a match with side sell means the maker sold: the taker bought
        pytest.param(
            "coinbase",
            "match_docs.json",
            [COINBASE_BTC],
            [_trade(COINBASE_BTC, 1_415_348_367_028_459_000, 400.23, 5.23512)],
            id="coinbase-match-side-is-the-makers",
        ),
        # live_trades: type 0 is a taker buy; microtimestamp gives ns
        pytest.param(
            "bitstamp",
            "live_trade_trimmed.json",
            [BITSTAMP_BTC],
            [_trade(BITSTAMP_BTC, 1_781_416_599_325_000_000, 64319.29, 0.00024876)],
            id="bitstamp-trade-type-zero-is-a-buy",
        ),
        # order_book_usdtusd: the best bid and ask are the first levels
        pytest.param(
            "bitstamp",
            "order_book_constructed.json",
            [],
            [
                _quote(
                    BITSTAMP_USDT, 1_781_416_600_123_456_000, 0.99985, 0.99995, (250000.0, 120000.5)
                )
            ],
            id="bitstamp-order-book-first-level-is-the-quote",
        ),
        # spot bookTicker carries no time: ts_event is the receive time
        pytest.param(
            "binance-spot",
            "book_ticker_docs.json",
            [BINANCE_BNB, BINANCE_BTC],
            [_quote(BINANCE_BNB, RECV, 25.3519, 25.3652, (31.21, 40.66))],
            id="binance-spot-book-ticker-has-no-event-time",
        ),
        pytest.param(
            "binance-spot",
            "book_ticker_raw_td.json",
            [BINANCE_BNB, BINANCE_BTC],
            [_quote(BINANCE_BTC, RECV, 8010.0, 8012.15, (0.142459, 0.031201))],
            id="binance-spot-raw-book-ticker-has-no-event-time",
        ),
    ],
)
def test_documented_frames_give_their_events(
    venue: str,
    name: str,
    instruments: list[Spot],
    expected: list[Event],
) -> None:
    """Documented (or trimmed, constructed) frames parse to exactly the events they describe."""
    p = make_parser(venue, *(spot(*i) for i in instruments))
    assert p.parse(frame(venue, name), RECV) == expected


# ---------------------------------------------------------------------- Kraken v2


def test_kraken_control_error_unknown_and_missing() -> None:
    """Heartbeat/pong/acks are control; errors, unknown channels, unknown symbols raise."""
    p = make_parser("kraken")
    for name in ("heartbeat.json", "pong_constructed.json", "subscribe_ack_constructed.json"):
        assert p.parse(frame("kraken", name), RECV) == []
    with pytest.raises(ParseError):
        p.parse(frame("kraken", "subscribe_error_constructed.json"), RECV)
    with pytest.raises(UnknownMessageError):
        p.parse(KrakenSim().unknown_frame(), RECV)
    with pytest.raises(MissingMetadataError):
        p.parse(frame("kraken", "ticker_update.json"), RECV)
    garbage(p, frame("kraken", "trade_snapshot.json"))


def test_kraken_plan_subscribes_bbo_ticker_and_trades_without_snapshot() -> None:
    """Quotes use ticker with event_trigger bbo; trades are subscribed with snapshot false."""
    ep = VenueEndpoints(ws="wss://ws.kraken.com", rest="https://api.kraken.com")
    streams = [Stream("quotes", "USDT/USD"), Stream("trades", "USDT/USD")]
    (plan,) = get_venue("kraken").plan(ep, streams)
    assert plan.url == "wss://ws.kraken.com/v2"
    ticker, trade = (msgspec.json.decode(f) for f in plan.subscribe)
    assert ticker["params"] == {"channel": "ticker", "symbol": ["USDT/USD"], "event_trigger": "bbo"}
    assert trade["params"] == {"channel": "trade", "symbol": ["USDT/USD"], "snapshot": False}
    assert get_venue("kraken").heartbeat.message == frame("kraken", "ping.json").replace(
        ',"req_id":101', ""
    )


# ---------------------------------------------------------------------- Coinbase Exchange


def test_coinbase_control_error_unknown_and_missing() -> None:
    """Heartbeats, subscriptions and last_match are control; errors and unknown types raise."""
    p = make_parser("coinbase", spot("coinbase", "BTC-USD", "BTC", "USD"))
    assert p.parse(frame("coinbase", "heartbeat_docs.json"), RECV) == []
    assert p.parse(frame("coinbase", "subscriptions_constructed.json"), RECV) == []
    last = frame("coinbase", "match_docs.json").replace('"type":"match"', '"type":"last_match"')
    assert p.parse(last, RECV) == []
    with pytest.raises(ParseError) as info:
        p.parse(frame("coinbase", "error_subscribe.json"), RECV)
    assert type(info.value) is ParseError
    with pytest.raises(UnknownMessageError):
        p.parse(CoinbaseSim().unknown_frame(), RECV)
    with pytest.raises(MissingMetadataError):
        make_parser("coinbase").parse(frame("coinbase", "ticker_docs.json"), RECV)
    garbage(p, frame("coinbase", "match_docs.json"))


def test_coinbase_plan_has_heartbeat_for_every_product_and_root_path() -> None:
    """One subscribe: heartbeat for all products, ticker for quotes, matches for trades."""
    ep = VenueEndpoints(
        ws="wss://ws-feed.exchange.coinbase.com", rest="https://api.exchange.coinbase.com"
    )
    streams = [Stream("quotes", "USDT-USD"), Stream("trades", "DAI-USD")]
    (plan,) = get_venue("coinbase").plan(ep, streams)
    assert plan.url == "wss://ws-feed.exchange.coinbase.com/"
    (sub,) = (msgspec.json.decode(f) for f in plan.subscribe)
    assert sub == {
        "type": "subscribe",
        "channels": [
            {"name": "heartbeat", "product_ids": ["DAI-USD", "USDT-USD"]},
            {"name": "ticker", "product_ids": ["USDT-USD"]},
            {"name": "matches", "product_ids": ["DAI-USD"]},
        ],
    }
    assert "USDC-USD" not in load_registry("coinbase")


# ---------------------------------------------------------------------- Bitstamp


def test_bitstamp_control_unknown_and_missing() -> None:
    """Acks, heartbeat replies and reconnect requests are control frames."""
    p = make_parser("bitstamp")
    for name in ("subscription_succeeded.json", "heartbeat_reply.json", "request_reconnect.json"):
        assert p.parse(frame("bitstamp", name), RECV) == []
    with pytest.raises(UnknownMessageError):
        p.parse(BitstampSim().unknown_frame(), RECV)
    with pytest.raises(ParseError):
        p.parse('{"event":"bts:error","channel":"","data":{"code":null,"message":"Bad"}}', RECV)
    with pytest.raises(MissingMetadataError):
        p.parse(frame("bitstamp", "live_trade_trimmed.json"), RECV)
    garbage(p, frame("bitstamp", "order_book_constructed.json"))


def test_bitstamp_plan_one_subscribe_per_channel() -> None:
    """Each channel is its own bts:subscribe; the client heartbeat is bts:heartbeat."""
    ep = VenueEndpoints(ws="wss://ws.bitstamp.net", rest="https://www.bitstamp.net")
    (plan,) = get_venue("bitstamp").plan(
        ep, [Stream("quotes", "usdtusd"), Stream("trades", "usdtusd")]
    )
    assert plan.url == "wss://ws.bitstamp.net/"
    assert [msgspec.json.decode(f) for f in plan.subscribe] == [
        {"event": "bts:subscribe", "data": {"channel": "order_book_usdtusd"}},
        {"event": "bts:subscribe", "data": {"channel": "live_trades_usdtusd"}},
    ]
    assert get_venue("bitstamp").heartbeat.message == '{"event":"bts:heartbeat"}'


# ---------------------------------------------------------------------- Binance Spot


def test_binance_spot_agg_trade_and_non_usd_quotes() -> None:
    """aggTrade m=true is a taker sell; a BTC-quoted trade cannot be valued in USD."""
    p = make_parser("binance-spot", spot("binance-spot", "BNBBTC", "BNB", "BTC"))
    with pytest.raises(ParseError):
        p.parse(frame("binance-spot", "agg_trade_docs.json"), RECV)
    usdc = (
        frame("binance-spot", "agg_trade_docs.json")
        .replace("BNBBTC", "USDCUSDT")
        .replace("bnbbtc", "usdcusdt")
        .replace('"p":"0.001"', '"p":"0.9998"')
    )
    assert p.parse(usdc, RECV) == [
        Trade(
            **ids("binance-spot", "USDCUSDT", "USDC", "USDT"),
            ts_event=1_672_515_782_136 * MS,
            ts_recv=RECV,
            price=0.9998,
            size=100.0,
            notional_usd=99.98,
            side="sell",
        )
    ]


def test_binance_spot_control_unknown_and_missing() -> None:
    """Subscribe replies are control; unknown streams and symbols raise."""
    p = make_parser("binance-spot")
    assert p.parse(frame("binance-spot", "subscribe_reply.json"), RECV) == []
    with pytest.raises(UnknownMessageError):
        p.parse(BinanceSpotSim().unknown_frame(), RECV)
    with pytest.raises(MissingMetadataError):
        p.parse(frame("binance-spot", "book_ticker_docs.json"), RECV)
    garbage(p, frame("binance-spot", "book_ticker_docs.json"))


def test_binance_spot_keeps_usdt_as_quote() -> None:
    """USDC/USDT stays USDC-USDT-SPOT so the peg processor can chain it through USDT/USD."""
    reg = load_registry("binance-spot")
    usdc = reg.get("USDCUSDT")
    assert usdc is not None
    assert (usdc.instrument, usdc.base, usdc.quote) == ("USDC-USDT-SPOT", "USDC", "USDT")


# ---------------------------------------------------------------------- all spot venues


@pytest.mark.parametrize("venue", SPOT)
def test_roundtrip_through_simulator(venue: str) -> None:
    """Quotes and trades survive SimVenue.encode → parse for every default symbol."""
    sim = SIMS[venue]()
    p = make_parser(venue)
    reg = load_registry(venue)
    events: list[Event] = []
    for i, sym in enumerate(get_venue(venue).default_symbols):
        inst = reg.get(sym)
        assert inst is not None
        m = {"venue": venue, "symbol": sym, "instrument": inst.instrument, "asset": inst.base}
        ts = (1_790_000_000_000 + i) * MS
        events.append(
            Quote(
                **m,
                ts_event=ts,
                ts_recv=0,
                bid=0.9995,
                ask=1.0005,
                bid_size=1500.0,
                ask_size=2500.25,
            )
        )
        events.append(
            Trade(
                **m,
                ts_event=ts,
                ts_recv=0,
                price=0.9999,
                size=1234.5,
                notional_usd=0.9999 * 1234.5,
                side="sell",
            )
        )
    out = [e for ev in events for _, text in sim.encode(ev) for e in p.parse(text, RECV)]
    expected = [
        msgspec.structs.replace(e, ts_event=RECV)
        if venue == "binance-spot" and isinstance(e, Quote)
        else e
        for e in events
    ]
    same(out, expected)


@pytest.mark.parametrize("venue", [v for v in SPOT if get_venue(v).stamp is None])
async def test_websocket_session_against_simulator(venue: str) -> None:
    """Connect to the plan URL, subscribe, receive published events; REST metadata matches."""
    spec = get_venue(venue)
    async with ExchangeSimulator([SIMS[venue]()], ping_interval_s=None) as sim:
        ep = VenueEndpoints(ws=sim.ws_base(venue), rest=sim.rest_base(venue))
        async with (
            aiohttp.ClientSession() as http,
            http.get(ep.rest + spec.instruments_url) as resp,
        ):
            assert resp.status == 200
            body = await resp.read()
        assert sorted(spec.parse_instruments(body), key=lambda i: i.symbol) == sorted(
            packaged_instruments(venue), key=lambda i: i.symbol
        )

        sym = spec.default_symbols[0]
        inst = load_registry(venue).get(sym)
        assert inst is not None
        (plan,) = spec.plan(ep, [Stream("quotes", sym), Stream("trades", sym)])
        p = spec.make_parser(load_registry(venue))
        async with plan_session(plan, p, recv_ns=RECV) as sess:
            got, ws = sess.events, sess.ws
            await sess.subscribe()
            await eventually(lambda: any(len(s.subscriptions) >= 2 for s in sim.sessions(venue)))
            if spec.heartbeat.message is not None:
                await ws.send(spec.heartbeat.message)
                await eventually(lambda: sim.sessions(venue)[0].pings == 1)
            m = {"venue": venue, "symbol": sym, "instrument": inst.instrument, "asset": inst.base}
            ts = 1_790_000_000_000 * MS
            quote = Quote(
                **m, ts_event=ts, ts_recv=0, bid=0.9997, ask=0.9999, bid_size=10.0, ask_size=20.0
            )
            trade = Trade(
                **m, ts_event=ts, ts_recv=0, price=0.9998, size=50.0, notional_usd=49.99, side="buy"
            )
            assert sim.publish_many([quote, trade]) == 2
            await eventually(lambda: len(got) >= 2)
        assert (sess.binary_frames, sess.errors) == (0, [])
        if venue == "binance-spot":
            quote = msgspec.structs.replace(quote, ts_event=RECV)
        same(got, [quote, trade])
