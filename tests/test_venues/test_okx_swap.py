"""OKX v5 swaps [okx-swap]: parser, connection plan, simulator round trip, websocket."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest

from monitor.instruments import Instrument, InstrumentRegistry
from monitor.simulator.server import ExchangeSimulator
from monitor.simulator.venues.okx_swap import OkxSwapSim
from monitor.venues import packaged_instruments
from monitor.venues.base import (
    Heartbeat,
    MissingMetadataError,
    ParseError,
    Stream,
    UnknownMessageError,
    VenueEndpoints,
)
from monitor.venues.okx_swap import VENUE, OkxSwapParser, parse_instruments
from streams.events import Event, Funding, Liquidation, OpenInterest, Quote, Trade
from tests.helpers import assert_events, eventually, plan_session

DATA = Path(__file__).parent.parent / "data" / "ws" / "okx-swap"
VID = "okx-swap"
RECV = 1_790_000_000_123_456_789
MS = 1_000_000


def _inst(symbol: str, base: str, contract_size: float) -> Instrument:
    return Instrument(
        venue=VID,
        symbol=symbol,
        instrument=f"{base}-USDT-PERP",
        base=base,
        quote="USDT",
        kind="perp",
        contract_size=contract_size,
    )


IOST = _inst("IOST-USDT-SWAP", "IOST", 1000.0)  # ctVal 1000 IOST (given here, not guessed)
WNCG = _inst("WNCG-USDT-SWAP", "WNCG", 1.0)


def _doc(name: str) -> str:
    return (DATA / name).read_text()


def _parser(*extra: Instrument) -> OkxSwapParser:
    return OkxSwapParser(InstrumentRegistry(VID, [*packaged_instruments(VID), *extra]))


def _base(symbol: str, ts_ms: int, recv: int = RECV) -> dict[str, object]:
    inst = {i.symbol: i for i in [*packaged_instruments(VID), IOST, WNCG]}[symbol]
    return {
        "venue": VID,
        "symbol": symbol,
        "instrument": inst.instrument,
        "asset": inst.base,
        "ts_event": ts_ms * MS,
        "ts_recv": recv,
    }


def _mark(inst_id: str, px: str, ts: str = "1700724675000") -> str:
    return (
        f'{{"arg":{{"channel":"mark-price","instId":"{inst_id}"}},"data":[{{"instId":'
        f'"{inst_id}","instType":"SWAP","markPx":"{px}","ts":"{ts}"}}]}}'
    )


# ---------------------------------------------------------------------- documented examples


def test_trades_linear_contracts_to_base() -> None:
    """31.27 BTC-USDT-SWAP contracts of 0.01 BTC are 0.3127 BTC (recorded 2026 frame)."""
    events = _parser().parse(_doc("trades.json"), RECV)
    expected = Trade(
        **_base("BTC-USDT-SWAP", 1781416584831),
        price=64311.0,
        size=0.3127,
        notional_usd=0.3127 * 64311.0,
        side="buy",
    )
    assert_events(events, [expected])


def test_trades_inverse_contracts_are_usd() -> None:
    """5 BTC-USD-SWAP contracts of 100 USD: notional 500 USD, size 500 / price BTC."""
    frame = _doc("trades.json").replace("BTC-USDT-SWAP", "BTC-USD-SWAP").replace("31.27", "5")
    frame = frame.replace('"side":"buy"', '"side":"sell"')
    expected = Trade(
        **_base("BTC-USD-SWAP", 1781416584831),
        price=64311.0,
        size=500.0 / 64311.0,
        notional_usd=500.0,
        side="sell",
    )
    assert_events(_parser().parse(frame, RECV), [expected])


def test_liquidation_doc_example_hedge_short() -> None:
    """posSide "short" (hedge mode): a short was liquidated; 13 contracts × 1000 IOST."""
    events = _parser(IOST).parse(_doc("liquidation_orders.json"), RECV)
    expected = Liquidation(
        **_base("IOST-USDT-SWAP", 1692266434010),
        price=0.007831,
        size=13000.0,
        notional_usd=13000.0 * 0.007831,
        side="short",
    )
    assert_events(events, [expected])


@pytest.mark.parametrize(
    ("pos_side", "side", "liquidated"),
    [("long", "sell", "long"), ("net", "sell", "long"), ("net", "buy", "short")],
)
def test_liquidation_side_rules(pos_side: str, side: str, liquidated: str) -> None:
    """posSide when long/short, else (net) a sell order closes a long."""
    frame = (
        _doc("liquidation_orders.json")
        .replace('"posSide": "short"', f'"posSide": "{pos_side}"')
        .replace('"side": "buy"', f'"side": "{side}"')
    )
    (event,) = _parser(IOST).parse(frame, RECV)
    assert isinstance(event, Liquidation)
    assert event.side == liquidated


def test_liquidations_skip_instruments_without_metadata() -> None:
    """The all-swap channel: unknown instruments are skipped, known ones still emitted."""
    unknown = _doc("liquidation_orders.json").replace("IOST", "PEPE")  # listed after the snapshot
    assert "PEPE-USDT-SWAP" not in {i.symbol for i in packaged_instruments(VID)}
    two = json.loads(unknown)
    other = json.loads(json.dumps(two["data"][0]).replace("PEPE", "BTC"))
    two["data"].append(other)
    (event,) = _parser().parse(json.dumps(two), RECV)
    assert isinstance(event, Liquidation)
    assert (event.symbol, event.size) == ("BTC-USDT-SWAP", pytest.approx(0.13))
    with pytest.raises(MissingMetadataError):
        _parser().parse(unknown, RECV)


def test_packaged_iost_matches_the_documented_contract_value() -> None:
    """The packaged snapshot's IOST-USDT-SWAP is the docs example's 1000 IOST per contract."""
    (packaged,) = [i for i in packaged_instruments(VID) if i.symbol == "IOST-USDT-SWAP"]
    assert (packaged.contract_size, packaged.inverse) == (IOST.contract_size, False)


def test_open_interest_doc_example_uses_coin_and_usd() -> None:
    """The 2026 open-interest frame: oiCcy is the size in BTC, oiUsd the notional."""
    events = _parser().parse(_doc("open_interest.json"), RECV)
    expected = OpenInterest(
        **_base("BTC-USDT-SWAP", 1743041250440),
        size=22161.1301000000309,
        notional_usd=1939251795.54769270396321,
    )
    assert_events(events, [expected])


def test_open_interest_without_usd_needs_a_mark_price() -> None:
    """Older frames have no oiUsd: the notional is contracts × ctVal × mark price."""
    parser = _parser(WNCG)
    with pytest.raises(ParseError, match="without oiUsd"):
        parser.parse(_doc("open_interest_without_usd.json"), RECV)
    assert parser.parse(_doc("mark_price.json"), RECV) == []
    events = parser.parse(_doc("open_interest_without_usd.json"), RECV)
    expected = OpenInterest(
        **_base("WNCG-USDT-SWAP", 1640131258756),
        size=644195.0,
        notional_usd=644195.0 * 2.1729,
    )
    assert_events(events, [expected])


def test_open_interest_inverse_from_contracts() -> None:
    """Inverse OI without oiCcy/oiUsd: 1000 contracts × 100 USD, size = USD / mark."""
    parser = _parser()
    parser.parse(_mark("BTC-USD-SWAP", "50000"), RECV)
    frame = (
        '{"arg":{"channel":"open-interest","instId":"BTC-USD-SWAP"},"data":[{"instId":'
        '"BTC-USD-SWAP","instType":"SWAP","oi":"1000","ts":"1700724675500"}]}'
    )
    (event,) = parser.parse(frame, RECV)
    assert isinstance(event, OpenInterest)
    assert (event.size, event.notional_usd) == (pytest.approx(2.0), 100000.0)


def test_funding_doc_example_waits_for_the_mark_price() -> None:
    """funding-rate has no mark price: the update is held until the first mark-price frame."""
    parser = _parser()
    assert parser.parse(_doc("funding_rate.json"), RECV) == []
    events = parser.parse(_mark("BTC-USD-SWAP", "37000.5"), RECV + 5)
    expected = Funding(
        **_base("BTC-USD-SWAP", 1700724675402),
        rate=0.0001875391284828,
        interval_h=8.0,  # nextFundingTime - fundingTime = 28,800,000 ms
        rate_8h=0.0001875391284828,
        mark_price=37000.5,
        next_funding_ts=1700726400000 * MS,
    )
    assert_events(events, [expected])
    again = parser.parse(_doc("funding_rate.json"), RECV + 6)
    assert [e.ts_recv for e in again] == [RECV + 6]


@pytest.mark.parametrize(("hours", "rate_8h"), [(4, 0.0002), (2, 0.0004), (1, 0.0008)])
def test_funding_variable_intervals(hours: int, rate_8h: float) -> None:
    """The interval is nextFundingTime - fundingTime; rate_8h = rate × 8 / interval."""
    frame = (
        _doc("funding_rate.json")
        .replace("0.0001875391284828", "0.0001")
        .replace("1700755200000", str(1700726400000 + hours * 3_600_000))
    )
    parser = _parser()
    parser.parse(_mark("BTC-USD-SWAP", "37000.5"), RECV)
    (event,) = parser.parse(frame, RECV)
    assert isinstance(event, Funding)
    assert (event.interval_h, event.rate_8h) == (float(hours), pytest.approx(rate_8h))


def test_tickers_quote_sizes_in_base() -> None:
    """tickers bid/ask sizes are contracts: 250 × 0.01 BTC = 2.5 BTC; an empty side gives none."""
    frame = (
        '{"arg":{"channel":"tickers","instId":"BTC-USDT-SWAP"},"data":[{"instType":"SWAP",'
        '"instId":"BTC-USDT-SWAP","last":"64312.9","lastSz":"1","askPx":"64313","askSz":"100",'
        '"bidPx":"64312.9","bidSz":"250","ts":"1781414919074"}]}'
    )
    expected = Quote(
        **_base("BTC-USDT-SWAP", 1781414919074),
        bid=64312.9,
        ask=64313.0,
        bid_size=2.5,
        ask_size=1.0,
    )
    assert_events(_parser().parse(frame, RECV), [expected])
    empty = frame.replace('"bidPx":"64312.9"', '"bidPx":""')
    assert _parser().parse(empty, RECV) == []


# ---------------------------------------------------------------------- control and errors


def test_control_frames_give_no_events() -> None:
    """The documented subscribe ack, the text pong and notices parse to no events."""
    parser = _parser()
    assert parser.parse(_doc("subscribe_ack.json"), RECV) == []
    assert parser.parse("pong", RECV) == []
    notice = (
        '{"event":"notice","code":"64008","msg":"The connection will soon be closed",'
        '"connId":"a4d3ae55"}'
    )
    assert parser.parse(notice, RECV) == []


def test_error_event_raises_parse_error() -> None:
    """An "event":"error" reply is a ParseError carrying the code."""
    frame = '{"event":"error","code":"60012","msg":"Invalid request","connId":"a4d3ae55"}'
    with pytest.raises(ParseError, match="60012") as info:
        _parser().parse(frame, RECV)
    assert type(info.value) is ParseError


def test_unknown_channels_and_events_raise_unknown_message_error() -> None:
    """Well-formed frames of channels or events we do not handle are UnknownMessageError."""
    parser = _parser()
    with pytest.raises(UnknownMessageError):
        parser.parse(OkxSwapSim().unknown_frame(), RECV)
    with pytest.raises(UnknownMessageError):
        parser.parse('{"event":"brand-new","connId":"x"}', RECV)


@pytest.mark.parametrize(
    "frame",
    [
        "\x00garbage-}{",
        _doc("trades.json")[:70],
        '{"arg":{"channel":"trades","instId":"BTC-USDT-SWAP"},"data":[{"instId":"BTC-USDT-SWAP"}]}',
        '{"arg":{"channel":"open-interest","instId":"BTC-USDT-SWAP"},"data":[{"instId":'
        '"BTC-USDT-SWAP","oi":"1","oiCcy":"x","oiUsd":"1","ts":"1"}]}',
        '{"connId":"x"}',
        "[]",
    ],
)
def test_malformed_frames_raise_parse_error(frame: str) -> None:
    """Garbage, truncated and mistyped frames raise ParseError (not a subclass)."""
    with pytest.raises(ParseError) as info:
        _parser().parse(frame, RECV)
    assert type(info.value) is ParseError


def test_symbol_without_metadata_raises() -> None:
    """A per-instrument frame for an instrument without metadata is never guessed."""
    with pytest.raises(MissingMetadataError):
        _parser().parse(_doc("trades.json").replace("BTC-USDT-SWAP", "NEW-USDT-SWAP"), RECV)


# ---------------------------------------------------------------------- plan and metadata


def test_plan_keeps_instruments_together_and_respects_limits() -> None:
    """≤300 args per connection, ≤100 per request, liquidation-orders once on the first one."""
    symbols = [f"C{i:03d}-USDT-SWAP" for i in range(150)]
    streams = [
        Stream(ch, s)
        for s in symbols
        for ch in ("trades", "liquidations", "funding", "open_interest", "quotes")
    ]
    ep = VenueEndpoints(ws="ws://h:1/okx-swap", rest="http://h:1/okx-swap")
    plans = VENUE.plan(ep, streams)
    assert {p.url for p in plans} == {"ws://h:1/okx-swap/ws/v5/public"}
    per_conn = []
    for p in plans:
        args = [a for f in p.subscribe for a in json.loads(f)["args"]]
        assert all(len(json.loads(f)["args"]) <= 100 for f in p.subscribe)
        assert all(len(f.encode()) < 64 * 1024 for f in p.subscribe)
        assert len(args) <= 300
        per_conn.append(args)
    liq = {"channel": "liquidation-orders", "instType": "SWAP"}
    assert per_conn[0][0] == liq
    assert sum(a == liq for args in per_conn for a in args) == 1
    for args in per_conn:  # funding-rate and its mark-price on the same connection
        funding = {a["instId"] for a in args if a["channel"] == "funding-rate"}
        marks = {a["instId"] for a in args if a["channel"] == "mark-price"}
        assert funding == marks
    total = sum(len(a) for a in per_conn)
    assert total == 1 + 150 * 5  # trades, funding-rate, open-interest, mark-price, tickers
    assert sum(len(p.streams) for p in plans) == len(streams)


def test_instruments_from_simulated_rest_match_snapshot() -> None:
    """/api/v5/public/instruments?instType=SWAP parses back to the packaged snapshot."""
    reply = OkxSwapSim().rest("/api/v5/public/instruments", {"instType": "SWAP"})
    assert reply is not None
    assert reply.status == 200
    got = parse_instruments(msgspec.json.encode(reply.body))
    key = lambda i: i.symbol  # noqa: E731
    assert sorted(got, key=key) == sorted(packaged_instruments(VID), key=key)
    btc_usd = next(i for i in got if i.symbol == "BTC-USD-SWAP")
    assert (btc_usd.inverse, btc_usd.contract_size, btc_usd.instrument) == (
        True,
        100.0,
        "BTC-USD-PERP",
    )


# ---------------------------------------------------------------------- simulator round trip

T0 = 1_781_416_439_080


def _scenario() -> list[Event]:
    nxt = 1_781_424_000_000 * MS
    return [
        Trade(
            **_base("BTC-USDT-SWAP", T0, 0),
            price=100000.0,
            size=0.25,
            notional_usd=25000.0,
            side="buy",
        ),
        Liquidation(
            **_base("BTC-USDT-SWAP", T0 + 1, 0),
            price=99000.0,
            size=0.5,
            notional_usd=49500.0,
            side="long",
        ),
        Liquidation(
            **_base("ETH-USDT-SWAP", T0 + 2, 0),
            price=3000.0,
            size=2.0,
            notional_usd=6000.0,
            side="short",
        ),
        Funding(
            **_base("BTC-USDT-SWAP", T0 + 3, 0),
            rate=0.0001,
            interval_h=4.0,
            rate_8h=0.0002,
            mark_price=100010.0,
            next_funding_ts=nxt,
        ),
        OpenInterest(
            **_base("BTC-USDT-SWAP", T0 + 4, 0), size=20000.0, notional_usd=20000.0 * 100010.0
        ),
        Quote(
            **_base("BTC-USDT-SWAP", T0 + 5, 0),
            bid=100000.0,
            ask=100000.1,
            bid_size=1.5,
            ask_size=2.0,
        ),
        Trade(
            **_base("BTC-USD-SWAP", T0 + 6, 0),
            price=100000.0,
            size=0.01,
            notional_usd=1000.0,
            side="sell",
        ),
        Funding(
            **_base("BTC-USD-SWAP", T0 + 7, 0),
            rate=-0.00005,
            interval_h=8.0,
            rate_8h=-0.00005,
            mark_price=99990.0,
            next_funding_ts=nxt,
        ),
        OpenInterest(
            **_base("BTC-USD-SWAP", T0 + 8, 0), size=5000.0, notional_usd=5000.0 * 99990.0
        ),
        Quote(
            **_base("BTC-USD-SWAP", T0 + 9, 0),
            bid=99999.5,
            ask=100000.0,
            bid_size=2.0,
            ask_size=3.0,
        ),
    ]


def test_round_trip_through_simulator_encoding() -> None:
    """Events → OkxSwapSim.encode (contracts) → parser give the same events back."""
    sim, parser = OkxSwapSim(), _parser()
    parsed: list[Event] = []
    for event in _scenario():
        for _, frame in sim.encode(event):
            parsed += parser.parse(frame, 0)
    assert_events(parsed, _scenario(), keep_recv=False)


# ---------------------------------------------------------------------- websocket


async def test_websocket_against_simulator() -> None:
    """Subscribe per the plan, answer the text ping, and receive every published event."""
    async with ExchangeSimulator([OkxSwapSim()]) as sim:
        ep = VenueEndpoints(ws=sim.ws_base(VID), rest=sim.rest_base(VID))
        streams = [
            Stream(ch, s)
            for s in ("BTC-USDT-SWAP", "BTC-USD-SWAP")
            for ch in ("trades", "liquidations", "funding", "open_interest", "quotes")
        ]
        (plan,) = VENUE.plan(ep, streams)
        async with plan_session(plan, _parser()) as sess:
            raw, got, errors = sess.raw, sess.events, sess.errors
            await sess.subscribe()
            n_args = sum(len(json.loads(f)["args"]) for f in plan.subscribe)
            await eventually(lambda: len(raw) == n_args)
            assert all(json.loads(f)["event"] == "subscribe" for f in raw)

            assert VENUE.heartbeat == Heartbeat(interval_s=25.0, message="ping", idle_only=True)
            await sess.ws.send("ping")
            await eventually(lambda: "pong" in raw)
            assert [s.pings for s in sim.sessions(VID)] == [1]

            # the ETH liquidation arrives too: liquidation-orders covers every swap
            sim.publish_many(_scenario())
            await eventually(lambda: len(got) == len(_scenario()))
            assert_events(got, _scenario(), keep_recv=False)

            sim.send_unknown(VID)
            sim.send_garbage(VID)
            await eventually(lambda: len(errors) == 2)
            assert [type(e) for e in errors] == [UnknownMessageError, ParseError]


def test_funding_push_recorded_before_okx_added_ts_uses_the_receive_time() -> None:
    """Older captures' funding-rate pushes have no ``ts``: the push time is the receive time
    (fundingTime is the settlement, up to a period ahead), the rest is as documented."""
    doc = json.loads(_doc("funding_rate.json"))
    for item in doc["data"]:
        del item["ts"]
    parser = _parser()
    parser.parse(_mark("BTC-USD-SWAP", "37000.5"), RECV)
    (event,) = parser.parse(json.dumps(doc), RECV + 7)
    assert isinstance(event, Funding)
    assert event.ts_event == RECV + 7
    assert event.next_funding_ts == 1700726400000 * MS
    assert event.rate == pytest.approx(0.0001875391284828)
