"""Bybit spot [bybit-spot]: documented frames, the plan, and instruments that keep USDT as quote."""

from __future__ import annotations

import msgspec
import pytest

from monitor.simulator.venues.bybit_spot import BybitSpotSim
from monitor.venues import get_venue, load_registry
from monitor.venues.base import (
    MissingMetadataError,
    ParseError,
    Stream,
    UnknownMessageError,
    VenueEndpoints,
)
from streams.events import Quote, Trade
from tests.test_venues.test_spot_venues import MS, RECV, frame, garbage, ids, make_parser, spot

BTC = ("bybit-spot", "BTCUSDT", "BTC", "USDT")


def test_orderbook_first_level_is_the_quote() -> None:
    """The documented book: best bid/ask are the first levels, ts of the push in ms."""
    p = make_parser("bybit-spot", spot(*BTC))
    assert p.parse(frame("bybit-spot", "orderbook_docs.json"), RECV) == [
        Quote(
            **ids(*BTC),
            ts_event=1_672_304_484_978 * MS,
            ts_recv=RECV,
            bid=16493.5,
            ask=16611.0,
            bid_size=0.006,
            ask_size=0.029,
        )
    ]


def test_public_trade_side_is_the_taker() -> None:
    p = make_parser("bybit-spot", spot(*BTC))
    assert p.parse(frame("bybit-spot", "public_trade_docs.json"), RECV) == [
        Trade(
            **ids(*BTC),
            ts_event=1_672_304_486_865 * MS,
            ts_recv=RECV,
            price=16578.5,
            size=0.001,
            notional_usd=pytest.approx(16.5785),  # type: ignore[arg-type]
            side="buy",
        )
    ]


def test_control_errors_unknown_and_missing() -> None:
    """Replies and pongs are control; a failed request, unknown topics, unknown symbols raise."""
    p = make_parser("bybit-spot")
    assert p.parse(frame("bybit-spot", "subscribe_reply_docs.json"), RECV) == []
    failed = frame("bybit-spot", "subscribe_reply_docs.json").replace("true", "false")
    with pytest.raises(ParseError):
        p.parse(failed, RECV)
    with pytest.raises(UnknownMessageError):
        p.parse(BybitSpotSim().unknown_frame(), RECV)
    with pytest.raises(MissingMetadataError):
        p.parse(frame("bybit-spot", "orderbook_docs.json"), RECV)
    empty = frame("bybit-spot", "orderbook_docs.json").replace(
        '"a":[["16611.00","0.029"],["16612.00","0.213"]]', '"a":[]'
    )
    assert make_parser("bybit-spot", spot(*BTC)).parse(empty, RECV) == []
    garbage(p, frame("bybit-spot", "orderbook_docs.json"))


def test_plan_uses_the_spot_path_and_ten_args_per_request() -> None:
    spec = get_venue("bybit-spot")
    ep = VenueEndpoints(ws="wss://stream.bybit.com", rest="https://api.bybit.com")
    syms = [f"C{i}USDT" for i in range(6)]
    streams = [Stream(ch, s) for s in syms for ch in ("quotes", "trades")]
    (plan,) = spec.plan(ep, streams)
    assert plan.url == "wss://stream.bybit.com/v5/public/spot"
    frames = [msgspec.json.decode(f) for f in plan.subscribe]
    assert [len(f["args"]) for f in frames] == [10, 2]
    assert {"orderbook.1.C0USDT", "publicTrade.C0USDT"} <= {a for f in frames for a in f["args"]}
    assert spec.heartbeat.message == '{"op":"ping"}'


def test_instruments_keep_usdt_as_quote() -> None:
    reg = load_registry("bybit-spot")
    for sym in get_venue("bybit-spot").default_symbols:
        inst = reg.get(sym)
        assert inst is not None
        assert (inst.kind, inst.quote) == ("spot", "USDT")
