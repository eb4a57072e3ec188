"""The connection manager and feed against the simulator's fault injection (Binance USD-M).

Each test runs a real :class:`VenueFeed` over real websockets to the simulator on 127.0.0.1
(:func:`tests.helpers.venue_run`); its timers run on a manual clock the tests advance.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from monitor.simulator.venues.bitstamp import BitstampSim
from monitor.venues.base import Channel, Stream
from streams.events import Funding, Liquidation, OpenInterest, Trade
from tests.helpers import FAST_BACKOFF, VenueRun, eventually, venue_run

V = "binance-usdm"
T = 1_763_714_000_000_000_000


def trade(i: int) -> Trade:
    return Trade(
        venue=V,
        symbol="BTCUSDT",
        instrument="BTC-USDT-PERP",
        asset="BTC",
        ts_event=T + i * 1_000_000,
        ts_recv=0,
        price=85_000.0 + i,
        size=0.5,
        notional_usd=0.5 * (85_000.0 + i),
        side="buy",
    )


def funding_event(mark_price: float) -> Funding:
    return Funding(
        venue=V,
        symbol="BTCUSDT",
        instrument="BTC-USDT-PERP",
        asset="BTC",
        ts_event=T,
        ts_recv=0,
        rate=0.0001,
        interval_h=8.0,
        rate_8h=0.0001,
        mark_price=mark_price,
        next_funding_ts=None,
    )


def oi_event(size: float) -> OpenInterest:
    return OpenInterest(
        venue=V,
        symbol="BTCUSDT",
        instrument="BTC-USDT-PERP",
        asset="BTC",
        ts_event=T,
        ts_recv=0,
        size=size,
        notional_usd=0.0,
    )


def btc(*channels: Channel) -> list[Stream]:
    return [Stream(ch, "BTCUSDT") for ch in channels]


@pytest.fixture(name="h")
async def _h() -> AsyncIterator[VenueRun]:
    async with venue_run(V, btc("trades", "liquidations")) as h:
        yield h


async def test_delivers_and_subscribes_on_market_path(h: VenueRun) -> None:
    """Subscriptions reach the /market path and published trades arrive as events, stamped with
    the run's clock."""
    [session] = h.sim.sessions(V)
    assert session.path == "/market/stream"
    assert session.subscriptions == {"btcusdt@aggTrade", "btcusdt@forceOrder"}
    h.sim.publish_many(trade(i) for i in range(5))
    await eventually(lambda: len(h.trades()) == 5, what="5 trades")
    assert [t.price for t in h.trades()] == [85_000.0 + i for i in range(5)]
    assert {t.ts_recv for t in h.trades()} == {h.clock.now_ns()}


async def test_drop_reconnects_and_resubscribes(h: VenueRun) -> None:
    """A TCP drop is noticed, reconnected after the backoff and every subscription is replayed."""
    assert await h.sim.drop(V) == 1
    await eventually(h.waiting_to_reconnect, what="disconnected")
    await h.advance(FAST_BACKOFF.max_s)
    await eventually(lambda: h.sim.stats[V].connections == 2 and h.subscribed(), what="reconnect")
    assert h.sim.sessions(V)[0].subscriptions == {"btcusdt@aggTrade", "btcusdt@forceOrder"}
    h.sim.publish(trade(1))
    await eventually(lambda: len(h.trades()) == 1, what="trade after reconnect")
    assert "disconnected" in h.statuses()
    assert h.metric("riskmon_feed_reconnects_total", venue=V, reason="closed") == 1.0


async def test_garbage_truncated_unknown_are_counted_not_fatal(h: VenueRun) -> None:
    """Bad frames are counted by reason; the connection stays up and keeps delivering."""
    h.sim.send_garbage(V, 3)
    h.sim.send_truncated(V, '{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade"}}', 2)
    h.sim.send_unknown(V, 4)
    h.sim.publish(trade(7))
    await eventually(lambda: len(h.trades()) == 1, what="trade after garbage")
    assert h.feed.skipped == {"malformed": 5, "unknown": 4}
    assert h.metric("riskmon_feed_frames_skipped_total", venue=V, reason="malformed") == 5.0
    assert h.metric("riskmon_feed_frames_skipped_total", venue=V, reason="unknown") == 4.0
    assert h.sim.stats[V].connections == 1


async def test_stall_is_detected_and_reconnected() -> None:
    """A connection silent for longer than the stall limit (on the clock) is declared stale and
    reconnected; one silent for less is left alone."""
    async with venue_run(V, btc("trades", "liquidations"), stall_after_s=0.4) as h:
        h.sim.publish(trade(0))
        await eventually(lambda: len(h.trades()) == 1)
        await h.advance(0.3)
        assert "stale" not in h.statuses()
        await h.advance(0.2)
        await eventually(lambda: "stale" in h.statuses(), what="stale status")
        assert h.reasons("stale")[0].endswith("no data for 0.5s")
        await h.reconnect("reconnect after stall")
        assert h.sim.stats[V].connections == 2
        assert h.metric("riskmon_feed_reconnects_total", venue=V, reason="stalled") == 1.0


async def test_refused_connections_back_off_then_connect(h: VenueRun) -> None:
    """While the venue refuses connections the feed retries only as its backoff (on the clock)
    allows, then gets through."""
    h.sim.refuse(V, 3600.0)
    await h.sim.drop(V)
    for refused in (1, 2):
        await eventually(h.waiting_to_reconnect, what="backing off")
        await h.advance(FAST_BACKOFF.max_s)
        await eventually(lambda n=refused: h.sim.stats[V].refused == n, what=f"refusal {refused}")
    await eventually(h.waiting_to_reconnect, what="backing off")
    h.sim.refuse(V, 0.0)
    await h.advance(FAST_BACKOFF.max_s)
    await eventually(
        lambda: h.subscribed() and h.sim.stats[V].open_sessions == 1,
        what="connected after refusals",
    )
    assert h.sim.stats[V].refused == 2
    assert any("handshake failed" in r for r in h.reasons("disconnected"))


async def test_silent_subscription_is_reported() -> None:
    """A subscription that never delivers (the retired-URL failure mode) is reported silent once
    its quiet time has passed on the clock."""
    quiet = {"liquidations": 0.3, "trades": 60.0}
    async with venue_run(
        V, btc("trades", "liquidations"), spec_changes={"quiet_s": quiet}, stall_after_s=60.0
    ) as h:
        h.sim.publish_many(trade(i) for i in range(3))
        await eventually(lambda: len(h.trades()) == 3, what="3 trades")
        await h.advance(1.0)  # one watchdog period
        await eventually(lambda: "silent" in h.statuses("liquidations"), what="silent")
        assert "silent" not in h.statuses("trades")


async def test_rest_errors_are_counted_and_recovered() -> None:
    """429 with Retry-After and 503 answers are counted; polling resumes and OI arrives."""
    streams = btc("trades", "funding", "open_interest")
    async with venue_run(V, streams, poll_interval_s=0.05) as h:
        h.sim.publish(funding_event(85_000.0))
        await eventually(lambda: bool(h.of_type(Funding)), what="funding")
        h.sim.rest_errors(V, 429, 1, retry_after_s=0.1)
        h.sim.rest_errors(V, 503, 2)
        h.sim.publish(oi_event(90_000.0))
        await h.advance_until(
            lambda: bool(h.of_type(OpenInterest)),
            step_s=0.05,
            what="open interest after errors",
        )
        oi = h.of_type(OpenInterest)[0]
        assert oi.size == 90_000.0
        assert oi.notional_usd == 90_000.0 * 85_000.0
        assert h.metric("riskmon_feed_rest_requests_total", venue=V, outcome="rate_limited") == 1.0
        assert h.metric("riskmon_feed_rest_requests_total", venue=V, outcome="server_error") == 2.0


async def test_liquidation_roundtrip_over_websocket(h: VenueRun) -> None:
    """A liquidation published by the simulator arrives with the liquidated position side."""
    liq = Liquidation(
        venue=V,
        symbol="BTCUSDT",
        instrument="BTC-USDT-PERP",
        asset="BTC",
        ts_event=T,
        ts_recv=0,
        price=84_000.0,
        size=1.5,
        notional_usd=126_000.0,
        side="long",
    )
    h.sim.publish(liq)
    await eventually(lambda: bool(h.of_type(Liquidation)))
    [got] = h.of_type(Liquidation)
    assert (got.side, got.price, got.size, got.ts_event) == ("long", 84_000.0, 1.5, T)


async def test_server_requested_reconnect_bitstamp() -> None:
    """Bitstamp's bts:request_reconnect makes the feed reconnect and resubscribe at once."""
    async with venue_run("bitstamp", [Stream("quotes", "usdtusd")]) as r:
        bitstamp = r.sim.venues["bitstamp"]
        assert isinstance(bitstamp, BitstampSim)
        r.sim.send_raw("bitstamp", [bitstamp.reconnect_request()])
        await eventually(
            lambda: r.sim.stats["bitstamp"].connections == 2 and r.subscribed(), what="reconnect"
        )
        assert any("asked for a reconnect" in reason for reason in r.reasons("rotating"))
