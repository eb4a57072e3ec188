"""Hyperliquid [hyperliquid]: parser, connection plan, simulator round trip, websocket."""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp
import msgspec
import pytest

from monitor.instruments import InstrumentRegistry
from monitor.simulator.server import ExchangeSimulator
from monitor.simulator.venues.hyperliquid import HyperliquidSim
from monitor.venues import packaged_instruments
from monitor.venues.base import (
    MissingMetadataError,
    ParseError,
    Stream,
    UnknownMessageError,
    VenueEndpoints,
)
from monitor.venues.hyperliquid import (
    INSTRUMENTS_BODY,
    VENUE,
    HyperliquidParser,
    parse_instruments,
)
from streams.events import Event, Funding, OpenInterest, Quote, Trade
from tests.helpers import assert_events, eventually, plan_session

DATA = Path(__file__).parent.parent / "data" / "ws" / "hyperliquid"
VID = "hyperliquid"
RECV = 1_790_000_000_123_456_789
MS = 1_000_000


def _doc(name: str) -> str:
    return (DATA / name).read_text()


def _parser() -> HyperliquidParser:
    return HyperliquidParser(InstrumentRegistry(VID, packaged_instruments(VID)))


def _base(coin: str, ts_event: int, recv: int = RECV) -> dict[str, object]:
    return {
        "venue": VID,
        "symbol": coin,
        "instrument": f"{coin}-USDC-PERP",
        "asset": coin,
        "ts_event": ts_event,
        "ts_recv": recv,
    }


# ---------------------------------------------------------------------- documented examples


def test_trades_recorded_frame() -> None:
    """A recorded trades frame: side "B" is a buy by the aggressor; sizes in coins."""
    events = _parser().parse(_doc("trades.json"), RECV)
    expected = Trade(
        **_base("BTC", 1781416943647 * MS),
        price=64411.0,
        size=0.31377,
        notional_usd=64411.0 * 0.31377,
        side="buy",
    )
    assert_events(events, [expected])


def test_trade_side_a_is_sell() -> None:
    """Side "A" (ask) is a sell by the aggressor."""
    (event,) = _parser().parse(_doc("trades.json").replace('"side":"B"', '"side":"A"'), RECV)
    assert isinstance(event, Trade)
    assert event.side == "sell"


def test_active_asset_ctx_hourly_funding_and_oi_in_coins() -> None:
    """activeAssetCtx: hourly funding (×8 for 8 h), OI in coins × markPx, ts = receive time."""
    events = _parser().parse(_doc("active_asset_ctx.json"), RECV)
    expected: list[Event] = [
        Funding(
            **_base("BTC", RECV),
            rate=0.0000125,
            interval_h=1.0,
            rate_8h=0.0001,
            mark_price=64405.0,
            next_funding_ts=None,
        ),
        OpenInterest(**_base("BTC", RECV), size=32227.66018, notional_usd=32227.66018 * 64405.0),
    ]
    assert_events(events, expected)


def test_bbo_quote_and_one_sided_book() -> None:
    """bbo gives a quote; a recorded one-level frame (one side missing) gives none."""
    assert _parser().parse(_doc("bbo_one_side.json"), RECV) == []
    frame = (
        '{"channel":"bbo","data":{"coin":"ETH","time":1750948919838,"bbo":[{"px":"2500.1",'
        '"sz":"12.5","n":3},{"px":"2500.2","sz":"8.25","n":2}]}}'
    )
    expected = Quote(
        **_base("ETH", 1750948919838 * MS),
        bid=2500.1,
        ask=2500.2,
        bid_size=12.5,
        ask_size=8.25,
    )
    assert_events(_parser().parse(frame, RECV), [expected])
    null_side = frame.replace('{"px":"2500.2","sz":"8.25","n":2}', "null")
    assert _parser().parse(null_side, RECV) == []


def test_backfilled_trades_are_dropped() -> None:
    """Trades re-sent after a resubscribe (same time and tid, or older) are not emitted twice."""
    parser = _parser()
    first = json.loads(_doc("trades.json"))
    newer = dict(first["data"][0], tid=1, time=first["data"][0]["time"] + 5)
    same_time = dict(first["data"][0], tid=2)
    assert len(parser.parse(_doc("trades.json"), RECV)) == 1
    backfill = json.dumps({"channel": "trades", "data": [first["data"][0], same_time, newer]})
    events = parser.parse(backfill, RECV)
    assert [(e.ts_event // MS) for e in events] == [same_time["time"], newer["time"]]
    assert parser.parse(backfill, RECV) == []


# ---------------------------------------------------------------------- control and errors


def test_control_frames_give_no_events() -> None:
    """subscriptionResponse and pong parse to no events."""
    parser = _parser()
    ack = (
        '{"channel":"subscriptionResponse","data":{"method":"subscribe","subscription":'
        '{"type":"trades","coin":"BTC"}}}'
    )
    assert parser.parse(ack, RECV) == []
    assert parser.parse('{"channel":"pong"}', RECV) == []


def test_error_channel_raises_parse_error() -> None:
    """An "error" channel frame is a ParseError with the venue's text."""
    with pytest.raises(ParseError, match="Invalid subscription") as info:
        _parser().parse('{"channel":"error","data":"Invalid subscription {}"}', RECV)
    assert type(info.value) is ParseError


def test_unknown_channel_raises_unknown_message_error() -> None:
    """Well-formed frames of channels we do not handle are UnknownMessageError."""
    with pytest.raises(UnknownMessageError):
        _parser().parse(HyperliquidSim().unknown_frame(), RECV)
    spot_ctx = '{"channel":"activeAssetCtx","data":{"coin":"BTC","ctx":{"markPx":"1.0"}}}'
    with pytest.raises(UnknownMessageError):
        _parser().parse(spot_ctx, RECV)


@pytest.mark.parametrize(
    "frame",
    [
        "\x00garbage-}{",
        _doc("trades.json")[:60],
        '{"channel":"trades","data":[{"coin":"BTC","side":"B"}]}',
        '{"channel":"bbo","data":{"coin":"BTC","time":"soon","bbo":[]}}',
        '{"data":[]}',
        "42",
    ],
)
def test_malformed_frames_raise_parse_error(frame: str) -> None:
    """Garbage, truncated and mistyped frames raise ParseError (not a subclass)."""
    with pytest.raises(ParseError) as info:
        _parser().parse(frame, RECV)
    assert type(info.value) is ParseError


def test_coin_without_metadata_raises() -> None:
    """A coin missing from the registry is never guessed."""
    with pytest.raises(MissingMetadataError):
        _parser().parse(_doc("trades.json").replace('"coin":"BTC"', '"coin":"NEWCOIN"'), RECV)


# ---------------------------------------------------------------------- spec, plan, metadata


def test_spec_has_no_liquidation_channel() -> None:
    """Hyperliquid publishes no liquidation feed: the spec says so and the plan skips it."""
    assert "liquidations" not in VENUE.channels
    assert "No public liquidation feed" in VENUE.notes
    ep = VenueEndpoints(ws="ws://h:1/hyperliquid", rest="http://h:1/hyperliquid")
    assert VENUE.plan(ep, [Stream("liquidations", "BTC")]) == []


def test_plan_one_message_per_coin_and_type() -> None:
    """Funding and OI share activeAssetCtx; ≤100 subscriptions per connection on /ws."""
    coins = [f"C{i:03d}" for i in range(120)]
    streams = [
        Stream(ch, c) for c in coins for ch in ("trades", "funding", "open_interest", "quotes")
    ]
    ep = VenueEndpoints(ws="ws://h:1/hyperliquid", rest="http://h:1/hyperliquid")
    plans = VENUE.plan(ep, streams)
    assert {p.url for p in plans} == {"ws://h:1/hyperliquid/ws"}
    subs = [json.loads(f) for p in plans for f in p.subscribe]
    assert all(len(p.subscribe) <= 100 for p in plans)
    assert len(subs) == 120 * 3
    assert {s["method"] for s in subs} == {"subscribe"}
    assert {s["subscription"]["type"] for s in subs} == {"trades", "activeAssetCtx", "bbo"}
    assert sum(len(p.streams) for p in plans) == len(streams)


def test_heartbeat_is_method_ping() -> None:
    """The client pings with {"method":"ping"} well within the 60 s server timeout."""
    assert VENUE.heartbeat.message == '{"method":"ping"}'
    assert VENUE.heartbeat.interval_s is not None
    assert VENUE.heartbeat.interval_s <= 50


def test_instruments_from_meta_match_snapshot() -> None:
    """POST /info {"type":"meta"} parses back to the packaged snapshot (USDC perps, 1 h)."""
    reply = HyperliquidSim().rest_post("/info", {}, INSTRUMENTS_BODY)
    assert reply is not None
    assert reply.status == 200
    got = parse_instruments(msgspec.json.encode(reply.body))
    key = lambda i: i.symbol  # noqa: E731
    assert sorted(got, key=key) == sorted(packaged_instruments(VID), key=key)
    delisted = b'{"universe":[{"name":"OLD","szDecimals":1,"maxLeverage":3,"isDelisted":true}]}'
    assert parse_instruments(delisted) == []


# ---------------------------------------------------------------------- simulator round trip

T0 = 1_781_416_439_080 * MS


def _scenario() -> list[Event]:
    return [
        Trade(**_base("BTC", T0, 0), price=100000.0, size=0.25, notional_usd=25000.0, side="buy"),
        Trade(**_base("ETH", T0 + MS, 0), price=3000.0, size=2.0, notional_usd=6000.0, side="sell"),
        Quote(
            **_base("BTC", T0 + 2 * MS, 0), bid=100000.0, ask=100001.0, bid_size=1.5, ask_size=2.0
        ),
    ]


def _ctx_events() -> tuple[Funding, OpenInterest]:
    funding = Funding(
        **_base("BTC", T0, 0), rate=0.0000125, interval_h=1.0, rate_8h=0.0001, mark_price=100010.0
    )
    oi = OpenInterest(**_base("BTC", T0, 0), size=30000.0, notional_usd=30000.0 * 100010.0)
    return funding, oi


def test_round_trip_through_simulator_encoding() -> None:
    """Events → HyperliquidSim.encode → parser give the same events back."""
    sim, parser = HyperliquidSim(), _parser()
    parsed: list[Event] = []
    for event in _scenario():
        for _, frame in sim.encode(event):
            parsed += parser.parse(frame, 0)
    assert_events(parsed, _scenario(), keep_recv=False)
    funding, oi = _ctx_events()
    assert sim.encode(funding) == []  # the context is sent whole, once OI is known too
    ((_, frame),) = sim.encode(oi)
    recv = 1_790_000_000_000_000_000
    got = parser.parse(frame, recv)
    # no timestamp on the wire: ts_event is the receive time
    want: list[Event] = [
        msgspec.structs.replace(funding, ts_event=recv, ts_recv=recv),
        msgspec.structs.replace(oi, ts_event=recv, ts_recv=recv),
    ]
    assert_events(got, want)


# ---------------------------------------------------------------------- websocket


async def test_websocket_against_simulator() -> None:
    """Subscribe per the plan, ping, receive events, and drop the back-fill after a reconnect."""
    async with ExchangeSimulator([HyperliquidSim()]) as sim:
        ep = VenueEndpoints(ws=sim.ws_base(VID), rest=sim.rest_base(VID))
        streams = [
            Stream(ch, c)
            for c in ("BTC", "ETH")
            for ch in ("trades", "funding", "open_interest", "quotes")
        ]
        (plan,) = VENUE.plan(ep, streams)
        parser = _parser()
        async with plan_session(plan, parser) as sess:
            raw, got, errors = sess.raw, sess.events, sess.errors
            await sess.subscribe()
            await eventually(lambda: len(raw) == len(plan.subscribe))
            assert all(json.loads(f)["channel"] == "subscriptionResponse" for f in raw)

            assert VENUE.heartbeat.message is not None
            await sess.ws.send(VENUE.heartbeat.message)
            await eventually(lambda: '{"channel":"pong"}' in raw)

            sim.publish_many(_scenario())
            funding, oi = _ctx_events()
            sim.publish_many([funding, oi])
            await eventually(lambda: len(got) == len(_scenario()) + 2)
            assert_events(got[:3], _scenario(), keep_recv=False)
            assert [type(e) for e in got[3:]] == [Funding, OpenInterest]
            assert errors == []

        # reconnect with the same parser: the subscribe back-fill repeats the BTC trade
        frames_before = len(raw)
        async with plan_session(plan, parser, raw=raw, events=got, errors=errors) as sess:
            await sess.ws.send(plan.subscribe[0])  # trades BTC
            await eventually(lambda: len(raw) == frames_before + 2)  # ack + back-fill
            assert json.loads(raw[-1])["channel"] == "trades"
            assert len(got) == len(_scenario()) + 2  # nothing emitted twice

        async with (
            aiohttp.ClientSession() as http,
            http.post(
                ep.rest + VENUE.instruments_url,
                data=INSTRUMENTS_BODY,
            ) as resp,
        ):
            assert resp.status == 200
            assert len(parse_instruments(await resp.read())) == len(packaged_instruments(VID))
