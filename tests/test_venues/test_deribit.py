"""Deribit [deribit]: parser, instruments, plan, simulator round trip and websocket session."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import msgspec
import pytest

from monitor.instruments import InstrumentRegistry
from monitor.simulator.server import ExchangeSimulator
from monitor.simulator.venues.deribit import DeribitSim
from monitor.venues import load_registry, packaged_instruments
from monitor.venues.base import (
    MissingMetadataError,
    ParseError,
    Stream,
    UnknownMessageError,
    VenueEndpoints,
)
from monitor.venues.deribit import VENUE, parse_instruments, respond
from streams.events import Event, Funding, Liquidation, OpenInterest, Quote, Trade
from tests.helpers import eventually, plan_session

DATA = Path(__file__).resolve().parents[1] / "data" / "ws" / "deribit"
RECV = 1_790_000_000_000_000_000
MS = 1_000_000


def frame(name: str) -> str:
    return (DATA / name).read_text().strip()


def parse(name: str) -> list[Event]:
    return VENUE.make_parser(load_registry("deribit")).parse(frame(name), RECV)


def same(actual: list[Event], expected: list[Event]) -> None:
    """Compare events field by field, floats to 1e-9 relative, ignoring ts_recv."""
    assert [type(e) for e in actual] == [type(e) for e in expected]
    for a, e in zip(actual, expected, strict=True):
        da, de = msgspec.structs.asdict(a), msgspec.structs.asdict(e)
        da.pop("ts_recv")
        de.pop("ts_recv")
        assert da.keys() == de.keys()
        for k, v in de.items():
            if isinstance(v, float):
                assert da[k] == pytest.approx(v, rel=1e-9, abs=1e-12), k
            else:
                assert da[k] == v, k


INV = {"venue": "deribit", "symbol": "BTC-PERPETUAL", "instrument": "BTC-USD-PERP", "asset": "BTC"}
LIN = {
    "venue": "deribit",
    "symbol": "BTC_USDC-PERPETUAL",
    "instrument": "BTC-USDC-PERP",
    "asset": "BTC",
}


# ---------------------------------------------------------------------- documented frames


def test_inverse_trade_amount_is_usd() -> None:
    """An inverse BTC-PERPETUAL trade of 30 USD is 30/price BTC with a 30 USD notional."""
    out = parse("trades_btc_perpetual_live.json")
    assert out == [
        Trade(
            **INV,
            ts_event=1781416501150 * MS,
            ts_recv=RECV,
            price=64345.0,
            size=30.0 / 64345.0,
            notional_usd=30.0,
            side="buy",
        )
    ]


def test_liquidation_T_taker_sell_liquidates_a_long() -> None:
    """Flag T with a taker sell: the taker's sell liquidation order closed a long."""
    size = 1120.0 / 4469.5
    ts = 1584058044032 * MS
    assert parse("trades_liquidation_T.json") == [
        Trade(
            **INV,
            ts_event=ts,
            ts_recv=RECV,
            price=4469.5,
            size=size,
            notional_usd=1120.0,
            side="sell",
        ),
        Liquidation(
            **INV,
            ts_event=ts,
            ts_recv=RECV,
            price=4469.5,
            size=size,
            notional_usd=1120.0,
            side="long",
        ),
    ]


def test_liquidation_M_taker_buy_liquidates_the_selling_maker_long() -> None:
    """Flag M with a taker buy: the maker sold, so its liquidation closed a long."""
    size = 2500.0 / 4469.5
    ts = 1584058044032 * MS
    assert parse("trades_liquidation_M_constructed.json") == [
        Trade(
            **INV,
            ts_event=ts,
            ts_recv=RECV,
            price=4469.5,
            size=size,
            notional_usd=2500.0,
            side="buy",
        ),
        Liquidation(
            **INV,
            ts_event=ts,
            ts_recv=RECV,
            price=4469.5,
            size=size,
            notional_usd=2500.0,
            side="long",
        ),
    ]


def test_liquidation_MT_emits_one_liquidation_per_side() -> None:
    """Flag MT on a linear perp: the buying maker (short) and the selling taker (long)."""
    ts = 1790133840887 * MS
    notional = 0.25 * 86776.0
    assert parse("trades_liquidation_MT_constructed.json") == [
        Trade(
            **LIN,
            ts_event=ts,
            ts_recv=RECV,
            price=86776.0,
            size=0.25,
            notional_usd=notional,
            side="sell",
        ),
        Liquidation(
            **LIN,
            ts_event=ts,
            ts_recv=RECV,
            price=86776.0,
            size=0.25,
            notional_usd=notional,
            side="short",
        ),
        Liquidation(
            **LIN,
            ts_event=ts,
            ts_recv=RECV,
            price=86776.0,
            size=0.25,
            notional_usd=notional,
            side="long",
        ),
    ]


def test_inverse_ticker_gives_funding_oi_in_usd_and_quote() -> None:
    """BTC-PERPETUAL ticker: OI 66128281 USD is OI/mark BTC; book amounts are USD too."""
    ts = 1564617604229 * MS
    assert parse("ticker_btc_perpetual.json") == [
        Funding(
            **INV,
            ts_event=ts,
            ts_recv=RECV,
            rate=0.0,
            interval_h=8.0,
            rate_8h=0.00016281,  # the venue's funding_8h, not the live current_funding
            mark_price=10094.1,
            next_funding_ts=None,
        ),
        OpenInterest(
            **INV, ts_event=ts, ts_recv=RECV, size=66128281 / 10094.1, notional_usd=66128281.0
        ),
        Quote(
            **INV,
            ts_event=ts,
            ts_recv=RECV,
            bid=10095.0,
            ask=10095.5,
            bid_size=7000 / 10095.0,
            ask_size=250 / 10095.5,
        ),
    ]


def test_linear_ticker_rate_8h_is_the_venues_funding_8h() -> None:
    """BTC_USDC ticker: rate is current_funding, rate_8h is funding_8h; OI and books are BTC."""
    ts = 1790133840887 * MS
    assert parse("ticker_btc_usdc_perpetual.json") == [
        Funding(
            **LIN,
            ts_event=ts,
            ts_recv=RECV,
            rate=1.423e-4,
            interval_h=8.0,
            rate_8h=5.149e-5,
            mark_price=86778.14,
            next_funding_ts=None,
        ),
        OpenInterest(
            **LIN, ts_event=ts, ts_recv=RECV, size=459.3409, notional_usd=459.3409 * 86778.14
        ),
        Quote(
            **LIN,
            ts_event=ts,
            ts_recv=RECV,
            bid=86775.9,
            ask=86778.0,
            bid_size=0.0645,
            ask_size=0.3001,
        ),
    ]


def test_control_frames_parse_to_nothing() -> None:
    """Heartbeats and subscribe acknowledgements are control frames."""
    assert parse("heartbeat_test_request.json") == []
    assert parse("subscribe_ack.json") == []


def test_test_request_is_answered_with_public_test() -> None:
    """respond() answers the server's test_request with a public/test call, nothing else."""
    reply = respond(frame("heartbeat_test_request.json"))
    assert reply is not None
    msg = msgspec.json.decode(reply)
    assert msg["jsonrpc"] == "2.0"
    assert msg["method"] == "public/test"
    assert msg["params"] == {}
    assert isinstance(msg["id"], int)
    assert respond(frame("trades_btc_perpetual_live.json")) is None
    assert respond('{"jsonrpc":"2.0","method":"heartbeat","params":{"type":"heartbeat"}}') is None


def test_error_replies_raise_parse_error() -> None:
    """Error replies (with or without id) are malformed-for-us frames, not unknown ones."""
    for name in ("error_raw_unauthorized.json", "error_invalid_json.json"):
        with pytest.raises(ParseError) as info:
            parse(name)
        assert type(info.value) is ParseError


def test_unknown_channel_and_method_raise_unknown_message() -> None:
    """A channel or notification method we do not handle is an UnknownMessageError."""
    with pytest.raises(UnknownMessageError):
        parse("platform_state.json")
    p = VENUE.make_parser(load_registry("deribit"))
    with pytest.raises(UnknownMessageError):
        p.parse('{"jsonrpc":"2.0","method":"brand_new","params":{}}', RECV)


def test_garbage_and_truncated_frames_raise_parse_error() -> None:
    """Frames that are not JSON or are cut short raise ParseError."""
    p = VENUE.make_parser(load_registry("deribit"))
    good = frame("ticker_btc_perpetual.json")
    for bad in (
        "\x00garbage-}{",
        good[: len(good) // 2],
        '{"jsonrpc":"2.0"}',
        '{"jsonrpc":"2.0","method":"subscription","params":{"channel":"ticker.X.100ms",'
        '"data":{"timestamp":"soon"}}}',
    ):
        with pytest.raises(ParseError) as info:
            p.parse(bad, RECV)
        assert not isinstance(info.value, (UnknownMessageError, MissingMetadataError))


def test_symbol_without_metadata_raises_missing_metadata() -> None:
    """A frame for an instrument absent from the registry is skipped, never guessed."""
    p = VENUE.make_parser(InstrumentRegistry("deribit"))
    with pytest.raises(MissingMetadataError):
        p.parse(frame("ticker_btc_perpetual.json"), RECV)
    with pytest.raises(MissingMetadataError):
        p.parse(frame("trades_liquidation_T.json"), RECV)


# ---------------------------------------------------------------------- metadata and plan


def test_parse_instruments_reads_inverse_and_linear_perpetuals() -> None:
    """get_instruments rows become BTC-USD-PERP (inverse) and BTC-USDC-PERP (linear)."""
    insts = parse_instruments((DATA / "get_instruments.json").read_bytes())
    assert [
        (
            i.symbol,
            i.instrument,
            i.base,
            i.quote,
            i.kind,
            i.inverse,
            i.contract_size,
            i.funding_interval_h,
        )
        for i in insts
    ] == [
        ("BTC-PERPETUAL", "BTC-USD-PERP", "BTC", "USD", "perp", True, 1.0, 8.0),
        ("BTC_USDC-PERPETUAL", "BTC-USDC-PERP", "BTC", "USDC", "perp", False, 1.0, 8.0),
    ]


def test_packaged_snapshot_covers_default_symbols() -> None:
    """Every default symbol has packaged metadata, so parsing works offline."""
    reg = load_registry("deribit")
    assert all(s in reg for s in VENUE.default_symbols)


def test_plan_sets_heartbeat_then_subscribes_each_channel_once() -> None:
    """The plan sends set_heartbeat first and one trades + one ticker channel per symbol."""
    ep = VenueEndpoints(ws="wss://www.deribit.com", rest="https://www.deribit.com")
    streams = [Stream(c, "BTC-PERPETUAL") for c in VENUE.channels]
    (plan,) = VENUE.plan(ep, streams)
    assert plan.url == "wss://www.deribit.com/ws/api/v2"
    first, *subs = [msgspec.json.decode(f) for f in plan.subscribe]
    assert first["method"] == "public/set_heartbeat"
    assert first["params"] == {"interval": 30}
    channels = [c for s in subs for c in s["params"]["channels"]]
    assert channels == ["trades.BTC-PERPETUAL.100ms", "ticker.BTC-PERPETUAL.100ms"]
    assert set(plan.streams) == set(streams)
    assert VENUE.polls(ep, streams) == []


# ---------------------------------------------------------------------- simulator round trip


def _roundtrip(events: list[Event]) -> list[Event]:
    sim = DeribitSim()
    p = VENUE.make_parser(load_registry("deribit"))
    out: list[Event] = []
    for ev in events:
        for topic, text in sim.encode(ev):
            if topic.endswith(".100ms"):
                out.extend(p.parse(text, RECV))
    return out


def test_roundtrip_trades_and_liquidations() -> None:
    """Trades and liquidations survive encode → parse (a liquidation brings its trade)."""
    ts = 1_790_000_000_123 * MS
    trade = Trade(
        **INV,
        ts_event=ts,
        ts_recv=0,
        price=90000.0,
        size=1000.0 / 90000.0,
        notional_usd=1000.0,
        side="buy",
    )
    liq = Liquidation(
        **LIN, ts_event=ts, ts_recv=0, price=90000.0, size=0.5, notional_usd=45000.0, side="short"
    )
    out = _roundtrip([trade, liq])
    liq_trade = Trade(
        **LIN, ts_event=ts, ts_recv=0, price=90000.0, size=0.5, notional_usd=45000.0, side="buy"
    )
    same(out, [trade, liq_trade, liq])


def test_roundtrip_ticker_state() -> None:
    """Funding, OI and quotes share the ticker; the last of each parses back unchanged."""
    ts = 1_790_000_000_000 * MS
    fund = Funding(
        **INV, ts_event=ts, ts_recv=0, rate=2e-4, interval_h=8.0, rate_8h=2e-4, mark_price=90000.0
    )
    oi = OpenInterest(**INV, ts_event=ts + MS, ts_recv=0, size=9e8 / 90000.0, notional_usd=9e8)
    quote = Quote(
        **INV, ts_event=ts + 2 * MS, ts_recv=0, bid=89999.5, ask=90000.0, bid_size=1.0, ask_size=2.0
    )
    out = _roundtrip([fund, oi, quote])
    last: dict[type, Event] = {type(e): e for e in out}
    same(
        [last[Funding], last[OpenInterest], last[Quote]],
        [
            msgspec.structs.replace(fund, ts_event=quote.ts_event),
            msgspec.structs.replace(oi, ts_event=quote.ts_event),
            quote,
        ],
    )


# ---------------------------------------------------------------------- websocket session


async def test_websocket_session_against_simulator() -> None:
    """Plan URL + frames subscribe on the simulator; events arrive; test_request is answered."""
    sim_venue = DeribitSim()
    sim_venue.heartbeat_interval_s = 0.05
    async with ExchangeSimulator([sim_venue], ping_interval_s=None) as sim:
        ep = VenueEndpoints(ws=sim.ws_base("deribit"), rest=sim.rest_base("deribit"))
        insts = []
        async with aiohttp.ClientSession() as http:
            for path in (VENUE.instruments_url, *VENUE.extra_instruments_urls):
                async with http.get(ep.rest + path) as resp:
                    insts.extend(parse_instruments(await resp.read()))
        assert sorted(insts, key=lambda i: i.symbol) == sorted(
            packaged_instruments("deribit"), key=lambda i: i.symbol
        )

        streams = [Stream(c, "BTC-PERPETUAL") for c in VENUE.channels]
        (plan,) = VENUE.plan(ep, streams)
        p = VENUE.make_parser(load_registry("deribit"))
        async with plan_session(plan, p, recv_ns=RECV, respond=respond) as sess:
            got = sess.events
            await sess.subscribe()
            await eventually(
                lambda: any(
                    s.subscriptions == {"trades.BTC-PERPETUAL.100ms", "ticker.BTC-PERPETUAL.100ms"}
                    for s in sim.sessions("deribit")
                )
            )
            ts = 1_790_000_000_000 * MS
            liq = Liquidation(
                **INV,
                ts_event=ts,
                ts_recv=0,
                price=90000.0,
                size=0.1,
                notional_usd=9000.0,
                side="long",
            )
            fund = Funding(
                **INV,
                ts_event=ts,
                ts_recv=0,
                rate=1e-4,
                interval_h=8.0,
                rate_8h=1e-4,
                mark_price=90000.0,
            )
            assert sim.publish_many([liq, fund]) == 2
            await eventually(lambda: len(got) >= 3)
            await eventually(lambda: sim.sessions("deribit")[0].pings >= 2)
        assert (sess.binary_frames, sess.errors) == (0, [])
        same(
            got[:3],
            [
                Trade(
                    **INV,
                    ts_event=ts,
                    ts_recv=0,
                    price=90000.0,
                    size=0.1,
                    notional_usd=9000.0,
                    side="sell",
                ),
                liq,
                fund,
            ],
        )
