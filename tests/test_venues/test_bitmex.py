"""BitMEX [bitmex]: table parser, partial/update merge, instruments, simulator and websocket."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import msgspec
import pytest

from monitor.instruments import InstrumentRegistry
from monitor.simulator.server import ExchangeSimulator
from monitor.simulator.venues.bitmex import BitmexSim
from monitor.venues import load_registry, packaged_instruments
from monitor.venues.base import (
    MissingMetadataError,
    ParseError,
    Stream,
    UnknownMessageError,
    VenueEndpoints,
)
from monitor.venues.bitmex import VENUE, parse_instruments
from monitor.venues.bitmex.parse import BitmexParser
from streams.events import Event, Funding, Liquidation, OpenInterest, Quote, Trade
from tests.helpers import eventually, plan_session

DATA = Path(__file__).resolve().parents[1] / "data" / "ws" / "bitmex"
RECV = 1_790_000_000_000_000_000
MS = 1_000_000
NOV24 = 1_795_478_400_000 * MS  # 2026-11-24T00:00:00Z

XBTUSD = {"venue": "bitmex", "symbol": "XBTUSD", "instrument": "BTC-USD-PERP", "asset": "BTC"}
XBTUSDT = {"venue": "bitmex", "symbol": "XBTUSDT", "instrument": "BTC-USDT-PERP", "asset": "BTC"}


def frame(name: str) -> str:
    return (DATA / name).read_text().strip()


def new_parser() -> BitmexParser:
    return BitmexParser(load_registry("bitmex"))


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


# ---------------------------------------------------------------------- documented frames


def test_inverse_trade_contracts_are_usd() -> None:
    """XBTUSD: 200 contracts = 200 USD = 200/price BTC; side is the taker's."""
    assert new_parser().parse(frame("trade_partial_live.json"), RECV) == [
        Trade(
            **XBTUSD,
            ts_event=1_781_416_361_303 * MS,
            ts_recv=RECV,
            price=64330.3,
            size=200 / 64330.3,
            notional_usd=200.0,
            side="sell",
        )
    ]


def test_trade_partial_is_not_replayed_after_reconnect() -> None:
    """A second partial repeating a published trade emits nothing; newer inserts do."""
    p = new_parser()
    p.parse(frame("trade_partial_live.json"), RECV)
    assert p.parse(frame("trade_partial_live.json"), RECV) == []
    newer = (
        frame("trade_partial_live.json")
        .replace('"partial"', '"insert"')
        .replace("05:52:41.303Z", "05:52:42.000Z")
    )
    assert len(p.parse(newer, RECV)) == 1


def test_liquidation_order_counted_once_at_insert() -> None:
    """A Buy liquidation order closes a short; counted at insert with ts_event = ts_recv."""
    p = new_parser()
    out = p.parse(frame("liquidation_insert.json"), RECV)
    assert out == [
        Liquidation(
            **XBTUSD,
            ts_event=RECV,
            ts_recv=RECV,
            price=10106.0,
            size=9214 / 10106.0,
            notional_usd=9214.0,
            side="short",
        )
    ]
    assert p.parse(frame("liquidation_delete.json"), RECV) == []
    assert p.parse(frame("liquidation_insert.json"), RECV) == []  # same orderID
    update = frame("liquidation_insert.json").replace('"insert"', '"update"')
    assert p.parse(update, RECV) == []


def test_sell_liquidation_order_closes_a_long() -> None:
    """side Sell is a liquidation order selling out a long position."""
    text = frame("liquidation_insert.json").replace('"Buy"', '"Sell"')
    (liq,) = new_parser().parse(text, RECV)
    assert isinstance(liq, Liquidation)
    assert liq.side == "long"


def test_instrument_partial_then_updates_are_merged() -> None:
    """The partial gives funding + OI; a mark update re-emits funding with the merged rate."""
    p = new_parser()
    ts = 1_595_415_000_794 * MS
    nxt = 1_595_419_200_000 * MS  # 2020-07-22T12:00:00Z
    assert p.parse(frame("instrument_partial_xbtusd.json"), RECV) == [
        Funding(
            **XBTUSD,
            ts_event=ts,
            ts_recv=RECV,
            rate=0.0001,
            interval_h=8.0,
            rate_8h=0.0001,
            mark_price=9341.21,
            next_funding_ts=nxt,
        ),
        OpenInterest(
            **XBTUSD, ts_event=ts, ts_recv=RECV, size=737748536 / 9341.21, notional_usd=737748536.0
        ),
    ]
    assert p.parse(frame("instrument_update_mark.json"), RECV) == [
        Funding(
            **XBTUSD,
            ts_event=ts,
            ts_recv=RECV,
            rate=0.0001,
            interval_h=8.0,
            rate_8h=0.0001,
            mark_price=9341.13,
            next_funding_ts=nxt,
        ),
    ]
    assert p.parse(frame("instrument_update_last_price.json"), RECV) == []
    oi = '{"table":"instrument","action":"update","data":[{"symbol":"XBTUSD","openInterest":1000}]}'
    (ev,) = p.parse(oi, RECV)
    assert ev == OpenInterest(
        **XBTUSD, ts_event=ts, ts_recv=RECV, size=1000 / 9341.13, notional_usd=1000.0
    )


def test_open_interest_before_any_mark_is_a_parse_error() -> None:
    """OI cannot be valued without a mark price: reported, not guessed."""
    oi = '{"table":"instrument","action":"update","data":[{"symbol":"XBTUSD","openInterest":1000}]}'
    with pytest.raises(ParseError):
        new_parser().parse(oi, RECV)


def test_linear_contracts_use_underlying_to_position_multiplier() -> None:
    """XBTUSDT: 1e-6 BTC per contract, so 250000 contracts at 90000 = 0.25 BTC."""
    text = (
        '{"table":"trade","action":"insert","data":[{"timestamp":"2026-11-24T00:00:00.000Z",'
        '"symbol":"XBTUSDT","side":"Buy","size":250000,"price":90000}]}'
    )
    assert new_parser().parse(text, RECV) == [
        Trade(
            **XBTUSDT,
            ts_event=NOV24,
            ts_recv=RECV,
            price=90000.0,
            size=0.25,
            notional_usd=22500.0,
            side="buy",
        )
    ]


def test_quote_sizes_are_converted() -> None:
    """quote:XBTUSD sizes are USD contracts, converted to BTC at their side's price."""
    text = (
        '{"table":"quote","action":"insert","data":[{"timestamp":"2026-11-24T00:00:00.000Z",'
        '"symbol":"XBTUSD","bidSize":9000,"bidPrice":90000,"askPrice":90000.5,'
        '"askSize":45000}]}'
    )
    assert new_parser().parse(text, RECV) == [
        Quote(
            **XBTUSD,
            ts_event=NOV24,
            ts_recv=RECV,
            bid=90000.0,
            ask=90000.5,
            bid_size=0.1,
            ask_size=45000 / 90000.5,
        )
    ]


def test_control_frames_parse_to_nothing() -> None:
    """The welcome, subscribe acks and the text pong are control frames."""
    p = new_parser()
    assert p.parse(frame("welcome.json"), RECV) == []
    assert p.parse(frame("subscribe_ack.json"), RECV) == []
    assert p.parse("pong", RECV) == []


def test_errors_unknown_tables_and_garbage() -> None:
    """Error frames and garbage raise ParseError; tables/actions we skip are unknown."""
    p = new_parser()
    with pytest.raises(ParseError) as info:
        p.parse(frame("error_unknown_table.json"), RECV)
    assert type(info.value) is ParseError
    with pytest.raises(UnknownMessageError):
        p.parse(frame("funding_partial.json"), RECV)
    with pytest.raises(UnknownMessageError):
        p.parse('{"table":"trade","action":"replace","data":[]}', RECV)
    good = frame("liquidation_insert.json")
    for bad in (
        "\x00garbage-}{",
        good[: len(good) // 2],
        "ping",
        '{"table":"trade","action":"insert","data":[{"symbol":"XBTUSD"}]}',
    ):
        with pytest.raises(ParseError) as info:
            p.parse(bad, RECV)
        assert not isinstance(info.value, (UnknownMessageError, MissingMetadataError))


def test_quanto_and_unknown_symbols_have_no_metadata() -> None:
    """ETHUSD (quanto) and expired TRXZ19 are not in the registry: MissingMetadataError."""
    p = new_parser()
    with pytest.raises(MissingMetadataError):
        p.parse(frame("instrument_update_ethusd_oi.json"), RECV)
    with pytest.raises(MissingMetadataError):
        p.parse(frame("liquidation_insert_quanto.json"), RECV)
    with pytest.raises(MissingMetadataError):
        BitmexParser(InstrumentRegistry("bitmex")).parse(frame("trade_partial_live.json"), RECV)


# ---------------------------------------------------------------------- metadata and plan


def test_parse_instruments_from_recorded_row() -> None:
    """The recorded XBTUSD row: inverse, 1 USD per contract, 8 h funding, XBT → BTC."""
    rows = msgspec.json.decode(frame("instrument_partial_xbtusd.json"))["data"]
    (inst,) = parse_instruments(msgspec.json.encode(rows))
    assert (
        inst.symbol,
        inst.instrument,
        inst.base,
        inst.quote,
        inst.kind,
        inst.inverse,
        inst.contract_size,
        inst.funding_interval_h,
    ) == ("XBTUSD", "BTC-USD-PERP", "BTC", "USD", "perp", True, 1.0, 8.0)


def test_parse_instruments_skips_quanto_and_futures() -> None:
    """Quanto swaps and dated futures are left out rather than guessed."""
    rows = [
        {
            "symbol": "ETHUSD",
            "typ": "FFWCSX",
            "state": "Open",
            "underlying": "ETH",
            "quoteCurrency": "USD",
            "isQuanto": True,
            "isInverse": False,
            "multiplier": 100,
        },
        {
            "symbol": "XBTZ26",
            "typ": "FFCCSX",
            "state": "Open",
            "underlying": "XBT",
            "quoteCurrency": "USD",
            "isQuanto": False,
            "isInverse": True,
            "multiplier": -100000000,
            "underlyingToSettleMultiplier": -100000000,
        },
        {
            "symbol": "ETHUSDT",
            "typ": "FFWCSX",
            "state": "Open",
            "underlying": "ETH",
            "quoteCurrency": "USDT",
            "isQuanto": False,
            "isInverse": False,
            "multiplier": 1,
            "underlyingToPositionMultiplier": 100000,
            "fundingInterval": "2000-01-01T08:00:00.000Z",
        },
    ]
    (inst,) = parse_instruments(msgspec.json.encode(rows))
    assert (inst.symbol, inst.instrument, inst.inverse, inst.contract_size) == (
        "ETHUSDT",
        "ETH-USDT-PERP",
        False,
        pytest.approx(1e-5),
    )


def test_plan_subscribes_tables_per_symbol() -> None:
    """Funding and OI share instrument:SYM; the URL ends in /realtime."""
    ep = VenueEndpoints(ws="wss://ws.bitmex.com", rest="https://www.bitmex.com")
    streams = [Stream(c, "XBTUSD") for c in VENUE.channels]
    (plan,) = VENUE.plan(ep, streams)
    assert plan.url == "wss://ws.bitmex.com/realtime"
    (sub,) = [msgspec.json.decode(f) for f in plan.subscribe]
    assert sub == {
        "op": "subscribe",
        "args": ["trade:XBTUSD", "liquidation:XBTUSD", "instrument:XBTUSD", "quote:XBTUSD"],
    }
    assert VENUE.heartbeat.message == "ping"
    assert VENUE.heartbeat.idle_only
    assert VENUE.heartbeat.interval_s == 5.0


# ---------------------------------------------------------------------- simulator round trip


def test_roundtrip_through_simulator_encoding() -> None:
    """Every event type survives BitmexSim.encode → parse, inverse and linear."""
    sim = BitmexSim()
    p = new_parser()
    ts = 1_790_000_000_000 * MS
    events: list[Event] = [
        Funding(
            **XBTUSD,
            ts_event=ts,
            ts_recv=0,
            rate=1e-4,
            interval_h=8.0,
            rate_8h=1e-4,
            mark_price=90000.0,
            next_funding_ts=ts + 3600 * 1000 * MS,
        ),
        OpenInterest(**XBTUSD, ts_event=ts, ts_recv=0, size=5e8 / 90000.0, notional_usd=5e8),
        Trade(
            **XBTUSD,
            ts_event=ts,
            ts_recv=0,
            price=90000.0,
            size=100 / 90000.0,
            notional_usd=100.0,
            side="buy",
        ),
        Trade(
            **XBTUSDT,
            ts_event=ts,
            ts_recv=0,
            price=90000.0,
            size=0.5,
            notional_usd=45000.0,
            side="sell",
        ),
        Liquidation(
            **XBTUSDT,
            ts_event=ts,
            ts_recv=0,
            price=89000.0,
            size=2.0,
            notional_usd=178000.0,
            side="long",
        ),
        Quote(
            **XBTUSDT, ts_event=ts, ts_recv=0, bid=89999.0, ask=90001.0, bid_size=1.5, ask_size=0.25
        ),
    ]
    out: list[Event] = []
    for ev in events:
        for topic, text in sim.encode(ev):
            if ":" in topic:
                out.extend(p.parse(text, RECV))
    expected = list(events)
    expected[4] = msgspec.structs.replace(events[4], ts_event=RECV)  # no venue time
    same(out, expected)


# ---------------------------------------------------------------------- websocket session


async def test_websocket_session_against_simulator() -> None:
    """Welcome, acks and partials, then inserts/updates; ping is answered with pong."""
    async with ExchangeSimulator([BitmexSim()], ping_interval_s=None) as sim:
        ep = VenueEndpoints(ws=sim.ws_base("bitmex"), rest=sim.rest_base("bitmex"))
        async with (
            aiohttp.ClientSession() as http,
            http.get(ep.rest + VENUE.instruments_url) as resp,
        ):
            body = await resp.read()
        assert sorted(parse_instruments(body), key=lambda i: i.symbol) == sorted(
            packaged_instruments("bitmex"), key=lambda i: i.symbol
        )

        (plan,) = VENUE.plan(ep, [Stream(c, "XBTUSD") for c in VENUE.channels])
        p = VENUE.make_parser(load_registry("bitmex"))
        async with plan_session(plan, p, recv_ns=RECV) as sess:
            got, raw = sess.events, sess.raw
            await sess.subscribe()
            await eventually(lambda: sum('"partial"' in r for r in raw) == 4)
            ts = 1_790_000_000_000 * MS
            fund = Funding(
                **XBTUSD,
                ts_event=ts,
                ts_recv=0,
                rate=-2e-4,
                interval_h=8.0,
                rate_8h=-2e-4,
                mark_price=90000.0,
            )
            oi = OpenInterest(
                **XBTUSD, ts_event=ts, ts_recv=0, size=1e9 / 90000.0, notional_usd=1e9
            )
            liq = Liquidation(
                **XBTUSD,
                ts_event=ts,
                ts_recv=0,
                price=88000.0,
                size=10000 / 88000.0,
                notional_usd=10000.0,
                side="short",
            )
            sim.publish_many([fund, oi, liq])
            await eventually(lambda: len(got) >= 3)
            await sess.ws.send("ping")
            await eventually(lambda: "pong" in raw)
            assert sim.sessions("bitmex")[0].pings == 1
        assert (sess.binary_frames, sess.errors) == (0, [])
        same(got, [fund, oi, msgspec.structs.replace(liq, ts_event=RECV)])
