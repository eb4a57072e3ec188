"""Bybit v5 [bybit-linear]: parser, connection plan, simulator round trip, websocket."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import msgspec
import pytest

from monitor.instruments import Instrument, InstrumentRegistry
from monitor.simulator.server import ExchangeSimulator
from monitor.simulator.venues.bybit_linear import BybitLinearSim
from monitor.venues import packaged_instruments
from monitor.venues.base import (
    MissingMetadataError,
    ParseError,
    Stream,
    UnknownMessageError,
    VenueEndpoints,
)
from monitor.venues.bybit_linear import VENUE, BybitLinearParser, parse_instruments
from streams.events import Event, Funding, Liquidation, OpenInterest, Quote, Trade
from tests.helpers import assert_events, eventually, plan_session

DATA = Path(__file__).parent.parent / "data" / "ws" / "bybit-linear"
VID = "bybit-linear"
RECV = 1_790_000_000_123_456_789
MS = 1_000_000

ROSE = Instrument(
    venue=VID,
    symbol="ROSEUSDT",
    instrument="ROSE-USDT-PERP",
    base="ROSE",
    quote="USDT",
    kind="perp",
    funding_interval_h=8.0,
)


def _doc(name: str) -> str:
    return (DATA / name).read_text()


def _parser(*extra: Instrument) -> BybitLinearParser:
    return BybitLinearParser(InstrumentRegistry(VID, [*packaged_instruments(VID), *extra]))


def _head(symbol: str, instrument: str, ts_ms: int, recv: int = RECV) -> dict[str, Any]:
    """The header of an event of ``symbol`` at ``ts_ms`` (asset: the instrument's first part)."""
    return {
        "venue": VID,
        "symbol": symbol,
        "instrument": instrument,
        "asset": instrument.split("-", 1)[0],
        "ts_event": ts_ms * MS,
        "ts_recv": recv,
    }


def _ev(cls: type, symbol: str, **kw: object) -> Event:
    inst = {i.symbol: i for i in packaged_instruments(VID)}[symbol]
    base = {"venue": VID, "symbol": symbol, "instrument": inst.instrument, "asset": inst.base}
    event: Event = cls(**base, **kw)
    return event


# ---------------------------------------------------------------------- documented examples


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        # the documented publicTrade frame is one buy trade in BTC with ms → ns times
        pytest.param(
            "public_trade.json",
            Trade(
                **_head("BTCUSDT", "BTC-USDT-PERP", 1672304486865),
                price=16578.5,
                size=0.001,
                notional_usd=16.5785,
                side="buy",
            ),
            id="public-trade",
        ),
        # allLiquidation S="Sell" is the position side: a short was liquidated
        pytest.param(
            "all_liquidation.json",
            Liquidation(
                **_head("ROSEUSDT", "ROSE-USDT-PERP", 1739502302929),
                price=0.04499,
                size=20000.0,
                notional_usd=899.8,
                side="short",
            ),
            id="all-liquidation-sell-is-short",
        ),
        # a recorded inverse delta with no snapshot: no mark price yet, so only the quote, in BTC
        pytest.param(
            "tickers_delta_inverse.json",
            Quote(
                **_head("BTCUSD", "BTC-USD-PERP", 1680673822776),
                bid=28560.0,
                ask=28560.5,
                bid_size=340549 / 28560.0,  # USD contracts of 1 USD → BTC
                ask_size=70817 / 28560.5,
            ),
            id="inverse-delta-without-snapshot-is-only-a-quote",
        ),
    ],
)
def test_documented_frames_of_one_event(name: str, expected: Event) -> None:
    """Recorded and documented frames that carry one event parse to exactly it."""
    assert_events(_parser(ROSE).parse(_doc(name), RECV), [expected])


def test_all_liquidation_buy_is_long() -> None:
    """allLiquidation S="Buy" means a long was liquidated (the opposite of Binance)."""
    frame = _doc("all_liquidation.json").replace('"Sell"', '"Buy"')
    (event,) = _parser(ROSE).parse(frame, RECV)
    assert isinstance(event, Liquidation)
    assert event.side == "long"


def test_tickers_snapshot_doc_example() -> None:
    """A tickers snapshot gives funding (8 h), open interest and the best bid/ask."""
    events = _parser().parse(_doc("tickers_snapshot.json"), RECV)
    base = _head("BTCUSDT", "BTC-USDT-PERP", 1760325052630)
    expected: list[Event] = [
        Funding(
            **base,
            rate=-0.005,
            interval_h=8.0,
            rate_8h=-0.005,
            mark_price=66666.6,
            next_funding_ts=1760342400000 * MS,
        ),
        # no singleOpenInterest in this (2025) example: openInterest as published
        OpenInterest(**base, size=492373.72, notional_usd=492373.72 * 66666.6),
        Quote(**base, bid=66666.6, ask=66666.7, bid_size=23789.165, ask_size=23775.469),
    ]
    assert_events(events, expected)


def test_tickers_delta_merges_missing_fields_as_unchanged() -> None:
    """A delta updates only the fields it carries; the others keep their snapshot values."""
    parser = _parser()
    parser.parse(_doc("tickers_snapshot.json"), RECV)
    delta = (
        '{"topic":"tickers.BTCUSDT","type":"delta","data":{"symbol":"BTCUSDT",'
        '"singleOpenInterest":"246186.86","bid1Price":"66660.10"},"cs":9532239430,'
        '"ts":1760325052730}'
    )
    events = parser.parse(delta, RECV + 1)
    base = _head("BTCUSDT", "BTC-USDT-PERP", 1760325052730, recv=RECV + 1)
    expected: list[Event] = [
        # singleOpenInterest (one side) is preferred; mark price from the snapshot
        OpenInterest(**base, size=246186.86, notional_usd=246186.86 * 66666.6),
        Quote(**base, bid=66660.1, ask=66666.7, bid_size=23789.165, ask_size=23775.469),
    ]
    assert_events(events, expected)
    only_last = (
        '{"topic":"tickers.BTCUSDT","type":"delta","data":{"symbol":"BTCUSDT",'
        '"lastPrice":"66661.00"},"cs":9532239431,"ts":1760325052830}'
    )
    assert parser.parse(only_last, RECV + 2) == []
    funding = (
        '{"topic":"tickers.BTCUSDT","type":"delta","data":{"symbol":"BTCUSDT",'
        '"fundingRate":"0.0001"},"cs":9532239432,"ts":1760325052930}'
    )
    (event,) = parser.parse(funding, RECV + 3)
    assert isinstance(event, Funding)
    assert (event.rate, event.interval_h, event.mark_price) == (0.0001, 8.0, 66666.6)
    assert event.next_funding_ts == 1760342400000 * MS


def test_inverse_trade_and_open_interest_convert_usd_contracts() -> None:
    """Inverse sizes are USD contracts: base = USD / price, notional = contracts × 1 USD."""
    parser = _parser()
    trade = (
        '{"topic":"publicTrade.BTCUSD","type":"snapshot","ts":1781416439081,"data":[{'
        '"T":1781416439080,"s":"BTCUSD","S":"Sell","v":"12500","p":"62500.0","L":"MinusTick",'
        '"i":"x","BT":false}]}'
    )
    (t,) = parser.parse(trade, RECV)
    assert isinstance(t, Trade)
    assert (t.size, t.notional_usd, t.side) == (pytest.approx(0.2), 12500.0, "sell")
    snapshot = (
        '{"topic":"tickers.BTCUSD","type":"snapshot","data":{"symbol":"BTCUSD",'
        '"markPrice":"62500.0","openInterest":"1000000000","singleOpenInterest":"500000000",'
        '"fundingRate":"0.0001","fundingIntervalHour":"8","nextFundingTime":"1781424000000"},'
        '"cs":1,"ts":1781416439100}'
    )
    funding, oi = parser.parse(snapshot, RECV)
    assert isinstance(oi, OpenInterest)
    assert (oi.size, oi.notional_usd) == (pytest.approx(8000.0), 500_000_000.0)
    assert isinstance(funding, Funding)
    assert funding.rate_8h == pytest.approx(0.0001)


def test_funding_rate_8h_from_a_4h_interval() -> None:
    """A 4 h funding interval doubles the rate for its 8 h equivalent."""
    frame = _doc("tickers_snapshot.json").replace(
        '"fundingIntervalHour": "8"', '"fundingIntervalHour": "4"'
    )
    funding = _parser().parse(frame, RECV)[0]
    assert isinstance(funding, Funding)
    assert (funding.interval_h, funding.rate_8h) == (4.0, pytest.approx(-0.01))


# ---------------------------------------------------------------------- control and errors


def test_control_frames_give_no_events() -> None:
    """Subscribe acks and pongs (documented shapes) parse to no events."""
    parser = _parser()
    assert parser.parse(_doc("subscribe_ack.json"), RECV) == []
    assert parser.parse(_doc("pong.json"), RECV) == []


def test_failed_subscribe_raises_parse_error() -> None:
    """A rejected subscription (e.g. the removed liquidation topic) is a ParseError."""
    frame = (
        '{"success":false,"ret_msg":"error:handler not found,topic:liquidation.BTCUSDT",'
        '"conn_id":"c1","req_id":"1","op":"subscribe"}'
    )
    with pytest.raises(ParseError, match="handler not found") as info:
        _parser().parse(frame, RECV)
    assert type(info.value) is ParseError


def test_unknown_topics_raise_unknown_message_error() -> None:
    """Well-formed frames of topics we do not handle are UnknownMessageError."""
    parser = _parser()
    with pytest.raises(UnknownMessageError):
        parser.parse(BybitLinearSim().unknown_frame(), RECV)
    old = '{"topic":"liquidation.BTCUSDT","type":"snapshot","ts":1,"data":{"symbol":"BTCUSDT"}}'
    with pytest.raises(UnknownMessageError):
        parser.parse(old, RECV)


@pytest.mark.parametrize(
    "frame",
    [
        "\x00garbage-}{",
        _doc("public_trade.json")[:80],
        '{"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1,"data":[{"s":"BTCUSDT"}]}',
        '{"topic":"tickers.BTCUSDT","type":"delta","ts":1,"data":{"symbol":"BTCUSDT",'
        '"markPrice":"abc"}}',
        '{"topic":"tickers.BTCUSDT","type":"weird","ts":1,"data":{"symbol":"BTCUSDT"}}',
        "[1,2,3]",
    ],
)
def test_malformed_frames_raise_parse_error(frame: str) -> None:
    """Garbage, truncated and mistyped frames raise ParseError (not a subclass)."""
    with pytest.raises(ParseError) as info:
        _parser().parse(frame, RECV)
    assert type(info.value) is ParseError


def test_symbol_without_metadata_raises() -> None:
    """A symbol missing from the registry is never guessed."""
    with pytest.raises(MissingMetadataError):
        _parser().parse(_doc("all_liquidation.json"), RECV)


# ---------------------------------------------------------------------- plan and metadata


def test_plan_splits_paths_and_respects_limits() -> None:
    """Linear and inverse go to their paths; args ≤ 21,000 chars per connection, ≤100 per frame."""
    symbols = [f"COIN{i:04d}USDT" for i in range(700)]
    streams = [
        Stream(ch, s)
        for s in symbols
        for ch in ("trades", "liquidations", "funding", "open_interest", "quotes")
    ]
    streams += [Stream("trades", "BTCUSD"), Stream("funding", "BTCUSD"), Stream("trades", "*")]
    ep = VenueEndpoints(ws="ws://h:1/bybit-linear", rest="http://h:1/bybit-linear")
    plans = VENUE.plan(ep, streams)
    linear = [p for p in plans if p.url == "ws://h:1/bybit-linear/v5/public/linear"]
    inverse = [p for p in plans if p.url == "ws://h:1/bybit-linear/v5/public/inverse"]
    assert len(linear) + len(inverse) == len(plans)
    assert [p.streams for p in inverse] == [
        (Stream("trades", "BTCUSD"), Stream("funding", "BTCUSD"))
    ]
    all_topics: list[str] = []
    for p in plans:
        topics = [t for f in p.subscribe for t in json.loads(f)["args"]]
        assert len(json.dumps(topics)) <= 21_000
        assert all(len(json.loads(f)["args"]) <= 100 for f in p.subscribe)
        assert all(json.loads(f)["op"] == "subscribe" for f in p.subscribe)
        all_topics += topics
    assert len(all_topics) == len(set(all_topics)) == 700 * 3 + 2  # tickers shared by 3 channels
    assert sum(len(p.streams) for p in plans) == len(streams) - 1  # "*" has no Bybit topic
    assert "allLiquidation.COIN0000USDT" in all_topics


def test_instruments_from_simulated_rest_match_snapshot() -> None:
    """instruments-info (linear, inverse) parses back to the packaged snapshot."""
    sim = BybitLinearSim()
    got: list[Instrument] = []
    for category in ("linear", "inverse"):
        reply = sim.rest("/v5/market/instruments-info", {"category": category, "limit": "1000"})
        assert reply is not None
        assert reply.status == 200
        got += parse_instruments(msgspec.json.encode(reply.body))
    key = lambda i: i.symbol  # noqa: E731
    assert sorted(got, key=key) == sorted(packaged_instruments(VID), key=key)


# ---------------------------------------------------------------------- simulator round trip

T0 = 1_781_416_439_080 * MS


def _scenario() -> list[Event]:
    return [
        _ev(
            Trade,
            "BTCUSDT",
            ts_event=T0,
            ts_recv=0,
            price=100000.0,
            size=0.5,
            notional_usd=50000.0,
            side="buy",
        ),
        _ev(
            Liquidation,
            "BTCUSDT",
            ts_event=T0 + MS,
            ts_recv=0,
            price=99000.0,
            size=0.2,
            notional_usd=19800.0,
            side="long",
        ),
        _ev(
            Liquidation,
            "BTCUSDT",
            ts_event=T0 + 2 * MS,
            ts_recv=0,
            price=101000.0,
            size=0.1,
            notional_usd=10100.0,
            side="short",
        ),
        _ev(
            Funding,
            "BTCUSDT",
            ts_event=T0 + 3 * MS,
            ts_recv=0,
            rate=0.0001,
            interval_h=8.0,
            rate_8h=0.0001,
            mark_price=100010.0,
            next_funding_ts=1_781_424_000_000 * MS,
        ),
        _ev(
            OpenInterest,
            "BTCUSDT",
            ts_event=T0 + 4 * MS,
            ts_recv=0,
            size=50000.0,
            notional_usd=50000.0 * 100010.0,
        ),
        _ev(
            Quote,
            "BTCUSDT",
            ts_event=T0 + 5 * MS,
            ts_recv=0,
            bid=100000.0,
            ask=100000.1,
            bid_size=1.5,
            ask_size=2.0,
        ),
        _ev(
            Funding,
            "BTCUSDT",
            ts_event=T0 + 6 * MS,
            ts_recv=0,
            rate=-0.0002,
            interval_h=8.0,
            rate_8h=-0.0002,
            mark_price=100020.0,
            next_funding_ts=1_781_424_000_000 * MS,
        ),
        _ev(
            Trade,
            "BTCUSD",
            ts_event=T0 + 7 * MS,
            ts_recv=0,
            price=100000.0,
            size=0.01,
            notional_usd=1000.0,
            side="sell",
        ),
        _ev(
            Funding,
            "BTCUSD",
            ts_event=T0 + 8 * MS,
            ts_recv=0,
            rate=0.0001,
            interval_h=8.0,
            rate_8h=0.0001,
            mark_price=100000.0,
            next_funding_ts=1_781_424_000_000 * MS,
        ),
        _ev(
            OpenInterest,
            "BTCUSD",
            ts_event=T0 + 9 * MS,
            ts_recv=0,
            size=5000.0,
            notional_usd=500_000_000.0,
        ),
        _ev(
            Quote,
            "BTCUSD",
            ts_event=T0 + 10 * MS,
            ts_recv=0,
            bid=99999.5,
            ask=100000.0,
            bid_size=2.0,
            ask_size=3.0,
        ),
    ]


def test_round_trip_through_simulator_encoding() -> None:
    """Events → BybitLinearSim.encode → parser give the same events back."""
    sim, parser = BybitLinearSim(), _parser()
    parsed: list[Event] = []
    for event in _scenario():
        for _, frame in sim.encode(event):
            parsed += parser.parse(frame, 0)
    assert_events(parsed, _scenario(), keep_recv=False)


def test_simulator_sends_snapshot_then_changed_fields_only() -> None:
    """The first tickers frame is a snapshot; later ones are deltas with only changed fields."""
    sim = BybitLinearSim()
    first, second = _scenario()[3], _scenario()[6]
    ((_, snap),) = sim.encode(first)
    ((_, delta),) = sim.encode(second)
    assert json.loads(snap)["type"] == "snapshot"
    body = json.loads(delta)
    assert body["type"] == "delta"
    assert set(body["data"]) == {"symbol", "markPrice", "fundingRate"}


# ---------------------------------------------------------------------- websocket


async def test_websocket_against_simulator() -> None:
    """Subscribe per the plan, keep the ping heartbeat, and receive every published event."""
    sim_venue = BybitLinearSim()
    async with ExchangeSimulator([sim_venue]) as sim:
        ep = VenueEndpoints(ws=sim.ws_base(VID), rest=sim.rest_base(VID))
        streams = [
            Stream(ch, s)
            for s in ("BTCUSDT", "BTCUSD")
            for ch in ("trades", "liquidations", "funding", "open_interest", "quotes")
        ]
        plans = VENUE.plan(ep, streams)
        assert len(plans) == 2
        parser = _parser()
        errors: list[ParseError] = []
        async with contextlib.AsyncExitStack() as stack:
            sessions = [
                await stack.enter_async_context(plan_session(p, parser, errors=errors))
                for p in plans
            ]
            for sess in sessions:
                await sess.subscribe()
            await eventually(lambda: sum(len(s.subscriptions) for s in sim.sessions(VID)) == 6)
            acks = [json.loads(f) for sess in sessions for f in sess.raw]
            assert all(a["op"] == "subscribe" and a["success"] for a in acks)

            assert VENUE.heartbeat.message is not None
            await sessions[0].ws.send(VENUE.heartbeat.message)
            await eventually(
                lambda: any('"ret_msg":"pong"' in f for sess in sessions for f in sess.raw)
            )
            assert sum(s.pings for s in sim.sessions(VID)) == 1

            scenario = _scenario()
            assert sim.publish_many(scenario) == len(scenario)
            await eventually(lambda: sum(len(sess.events) for sess in sessions) == len(scenario))
            linear = [e for e in scenario if e.symbol == "BTCUSDT"]
            inverse = [e for e in scenario if e.symbol == "BTCUSD"]
            by_url = {sess.plan.url.rsplit("/", 1)[-1]: sess.events for sess in sessions}
            assert_events(by_url["linear"], linear, keep_recv=False)
            assert_events(by_url["inverse"], inverse, keep_recv=False)

            assert errors == []
            sim.send_unknown(VID)
            await eventually(lambda: len(errors) == 2)
            assert all(isinstance(e, UnknownMessageError) for e in errors)
