"""Gate spot [gate-spot]: documented frames, the plan, requests that carry their send time, and a
live feed against the simulator (FDUSD's third quoting venue)."""

from __future__ import annotations

import msgspec
import pytest

from monitor.simulator.venues.gate_spot import GateSpotSim
from monitor.venues import get_venue, load_registry
from monitor.venues.base import (
    MissingMetadataError,
    ParseError,
    Stream,
    UnknownMessageError,
    VenueEndpoints,
)
from monitor.venues.gate_spot import stamp
from streams.events import Quote, Trade
from tests.helpers import eventually, plan_session, venue_run
from tests.test_venues.test_spot_venues import MS, RECV, frame, garbage, ids, make_parser, spot

BTC = ("gate-spot", "BTC_USDT", "BTC", "USDT")
GT = ("gate-spot", "GT_USDT", "GT", "USDT")


def test_book_ticker_is_the_quote() -> None:
    """The documented book ticker: best bid/ask with base-unit sizes, ``t`` (ms) as event time."""
    p = make_parser("gate-spot", spot(*BTC))
    assert p.parse(frame("gate-spot", "book_ticker_docs.json"), RECV) == [
        Quote(
            **ids(*BTC),
            ts_event=1_606_293_275_123 * MS,
            ts_recv=RECV,
            bid=19177.79,
            ask=19179.38,
            bid_size=0.0003341504,
            ask_size=0.09,
        )
    ]


def test_trade_side_is_the_taker_and_time_has_sub_ms() -> None:
    """``create_time_ms`` is a decimal string of ms: its fraction survives into ns."""
    p = make_parser("gate-spot", spot(*GT))
    assert p.parse(frame("gate-spot", "trade_docs.json"), RECV) == [
        Trade(
            **ids(*GT),
            ts_event=1_606_292_218_213_457_800,
            ts_recv=RECV,
            price=0.4705,
            size=16.47,
            notional_usd=pytest.approx(0.4705 * 16.47),  # type: ignore[arg-type]
            side="sell",
        )
    ]


def test_control_errors_unknown_and_missing() -> None:
    """Replies and pongs are control; a reply with an error, an unknown channel or side, or a
    pair without metadata raise (counted by the feed)."""
    p = make_parser("gate-spot", spot(*GT))
    assert p.parse(frame("gate-spot", "subscribe_reply_docs.json"), RECV) == []
    assert p.parse(frame("gate-spot", "pong_constructed.json"), RECV) == []
    with pytest.raises(ParseError, match="unknown currency pair GIBBERISH_USD"):
        p.parse(frame("gate-spot", "subscribe_error_docs.json"), RECV)
    with pytest.raises(UnknownMessageError):
        p.parse(GateSpotSim().unknown_frame(), RECV)
    odd_side = frame("gate-spot", "trade_docs.json").replace('"sell"', '"short"')
    with pytest.raises(ParseError) as info:
        p.parse(odd_side, RECV)
    assert not isinstance(info.value, (UnknownMessageError, MissingMetadataError))
    with pytest.raises(MissingMetadataError):
        p.parse(frame("gate-spot", "book_ticker_docs.json"), RECV)
    garbage(p, frame("gate-spot", "trade_docs.json"))


def test_plan_one_request_per_channel_stamped_at_send() -> None:
    """One connection on /ws/v4/; a subscribe per channel with every pair; the requests and the
    ping state their send time only once stamped."""
    spec = get_venue("gate-spot")
    ep = VenueEndpoints(ws="wss://api.gateio.ws", rest="https://api.gateio.ws")
    streams = [Stream(ch, s) for s in ("FDUSD_USDT", "USDC_USDT") for ch in ("quotes", "trades")]
    (plan,) = spec.plan(ep, streams)
    assert plan.url == "wss://api.gateio.ws/ws/v4/"
    requests = [msgspec.json.decode(f) for f in plan.subscribe]
    assert [(r["channel"], r["event"], r["payload"], r["time"]) for r in requests] == [
        ("spot.book_ticker", "subscribe", ["FDUSD_USDT", "USDC_USDT"], 0),
        ("spot.trades", "subscribe", ["FDUSD_USDT", "USDC_USDT"], 0),
    ]
    assert spec.stamp is stamp
    assert msgspec.json.decode(stamp(plan.subscribe[0], 1_790_000_123.9))["time"] == 1_790_000_123
    assert spec.heartbeat.message is not None
    assert msgspec.json.decode(stamp(spec.heartbeat.message, 1_790_000_000.0)) == {
        "time": 1_790_000_000,
        "channel": "spot.ping",
    }


def test_fdusd_and_usds_are_packaged_with_usdt_as_quote() -> None:
    """Every default pair is USDT-quoted (converted through USDT's USD price); FDUSD and Sky's
    USDS are among them."""
    reg = load_registry("gate-spot")
    defaults = get_venue("gate-spot").default_symbols
    for sym in defaults:
        inst = reg.get(sym)
        assert inst is not None
        assert (inst.kind, inst.quote) == ("spot", "USDT")
    bases: dict[str, tuple[str, str]] = {}
    for sym in ("FDUSD_USDT", "USDS_USDT"):
        assert sym in defaults
        inst = reg.get(sym)
        assert inst is not None
        bases[sym] = (inst.instrument, inst.base)
    assert bases == {
        "FDUSD_USDT": ("FDUSD-USDT-SPOT", "FDUSD"),
        "USDS_USDT": ("USDS-USDT-SPOT", "USDS"),
    }


async def test_unstamped_requests_are_refused_and_counted() -> None:
    """Sent as planned (time 0), Gate refuses the request: the reply is a parse error."""
    spec = get_venue("gate-spot")
    async with venue_run("gate-spot") as run:
        ep = VenueEndpoints(ws=run.sim.ws_base("gate-spot"), rest=run.sim.rest_base("gate-spot"))
        (plan,) = spec.plan(ep, [Stream("quotes", "FDUSD_USDT")])
        async with plan_session(plan, spec.make_parser(load_registry("gate-spot"))) as sess:
            await sess.subscribe()
            await eventually(lambda: len(sess.errors) == 1)
        assert "invalid argument: time" in str(sess.errors[0])


async def test_feed_subscribes_pings_and_delivers_fdusd() -> None:
    """The real feed stamps its requests (the simulator refuses unstamped ones), pings every
    10 s with ``spot.ping``, and FDUSD quotes and trades arrive as events."""
    streams = [Stream("quotes", "FDUSD_USDT"), Stream("trades", "FDUSD_USDT")]
    async with venue_run("gate-spot", streams) as run:
        sim = run.sim.venues["gate-spot"]
        assert isinstance(sim, GateSpotSim)
        assert sim.requests_without_time == 0
        (session,) = run.sim.sessions("gate-spot")
        both = {"spot.book_ticker:FDUSD_USDT", "spot.trades:FDUSD_USDT"}
        await eventually(lambda: session.subscriptions == both, what="both channels")
        await run.advance(10.0)
        await eventually(lambda: session.pings == 1)
        assert sim.requests_without_time == 0
        inst = load_registry("gate-spot").get("FDUSD_USDT")
        assert inst is not None
        m = ids("gate-spot", "FDUSD_USDT", "FDUSD", "USDT")
        ts = 1_790_000_000_000 * MS
        quote = Quote(
            **m, ts_event=ts, ts_recv=0, bid=0.9987, ask=0.999, bid_size=5e5, ask_size=7e5
        )
        trade = Trade(
            **m, ts_event=ts, ts_recv=0, price=0.9988, size=1e4, notional_usd=9988.0, side="buy"
        )
        assert run.sim.publish_many([quote, trade]) == 2
        await eventually(lambda: len(run.of_type(Quote)) == 1 and len(run.trades()) == 1)
        (got_q,) = run.of_type(Quote)
        (got_t,) = run.trades()
        assert (got_q.bid, got_q.ask, got_q.ts_event) == (0.9987, 0.999, ts)
        assert (got_t.price, got_t.size, got_t.side, got_t.ts_event) == (0.9988, 1e4, "buy", ts)
