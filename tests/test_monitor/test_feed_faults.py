"""The connection manager and feed against the simulator's fault injection (Binance USD-M).

Each test runs a real :class:`VenueFeed` over real websockets to the simulator on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import random
from collections.abc import AsyncIterator

import aiohttp
import pytest
from prometheus_client import CollectorRegistry

from streams.backoff import Backoff
from monitor.feed import VenueFeed
from monitor.metrics import MonitorMetrics
from monitor.simulator.server import ExchangeSimulator
from monitor.simulator.venues.binance_usdm import BinanceUsdmSim
from monitor.venues import get_venue, load_registry
from monitor.venues.base import Stream, VenueEndpoints
from streams.events import Event, FeedStatus, Funding, Liquidation, OpenInterest, Trade
from tests.helpers import eventually

V = "binance-usdm"
T = 1_763_714_000_000_000_000
FAST = Backoff(initial_s=0.05, max_s=0.2, jitter=0.5)


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


class Harness:
    """A simulator plus one Binance feed collecting what it delivers."""

    def __init__(
        self,
        sim: ExchangeSimulator,
        feed: VenueFeed,
        events: list[Event],
        registry: CollectorRegistry,
    ) -> None:
        self.sim = sim
        self.feed = feed
        self.events = events
        self.registry = registry

    def trades(self) -> list[Trade]:
        return [e for e in self.events if isinstance(e, Trade)]

    def statuses(self, channel: str = "connection") -> list[str]:
        return [e.status for e in self.events if isinstance(e, FeedStatus) and e.channel == channel]

    def metric(self, name: str, **labels: str) -> float:
        return self.registry.get_sample_value(name, labels) or 0.0

    def subscribed(self) -> bool:
        return all(c.state == "subscribed" for c in self.feed.connections)


@contextlib.asynccontextmanager
async def start_harness(
    stall_after_s: float | None = None,
    channels: tuple[str, ...] = ("trades", "liquidations"),
) -> AsyncIterator[Harness]:
    sim = ExchangeSimulator([BinanceUsdmSim()], ping_interval_s=None)
    await sim.start()
    registry = CollectorRegistry()
    events: list[Event] = []

    async def sink(ev: Event) -> None:
        events.append(ev)

    spec = get_venue(V)
    streams = [Stream(ch, "BTCUSDT") for ch in channels]  # type: ignore[arg-type]
    feed = VenueFeed(
        spec,
        VenueEndpoints(ws=sim.ws_base(V), rest=sim.rest_base(V)),
        streams,
        load_registry(V),
        sink,
        MonitorMetrics(registry),
        backoff=FAST,
        stall_after_s=stall_after_s,
        ping_interval_s=None,
        poll_interval_s=0.05,
        rng=random.Random(1),
    )
    http = aiohttp.ClientSession()
    task = asyncio.create_task(feed.run(http))
    h = Harness(sim, feed, events, registry)
    try:
        await eventually(h.subscribed, what="subscription")
        yield h
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await http.close()
        await sim.stop()


@pytest.fixture(name="h")
async def _h() -> AsyncIterator[Harness]:
    async with start_harness() as h:
        yield h


async def test_delivers_and_subscribes_on_market_path(h: Harness) -> None:
    """Subscriptions reach the /market path and published trades arrive as events."""
    [session] = h.sim.sessions(V)
    assert session.path == "/market/stream"
    assert session.subscriptions == {"btcusdt@aggTrade", "btcusdt@forceOrder"}
    h.sim.publish_many(trade(i) for i in range(5))
    await eventually(lambda: len(h.trades()) == 5, what="5 trades")
    assert [t.price for t in h.trades()] == [85_000.0 + i for i in range(5)]


async def test_drop_reconnects_and_resubscribes(h: Harness) -> None:
    """A TCP drop is noticed, reconnected with backoff and every subscription is replayed."""
    assert await h.sim.drop(V) == 1
    await eventually(lambda: h.sim.stats[V].connections == 2 and h.subscribed(), what="reconnect")
    await eventually(
        lambda: (
            h.sim.sessions(V)
            and h.sim.sessions(V)[0].subscriptions == {"btcusdt@aggTrade", "btcusdt@forceOrder"}
        ),
        what="resubscribe",
    )
    h.sim.publish(trade(1))
    await eventually(lambda: len(h.trades()) == 1, what="trade after reconnect")
    assert "disconnected" in h.statuses()
    assert h.metric("riskmon_feed_reconnects_total", venue=V, reason="closed") == 1.0


async def test_garbage_truncated_unknown_are_counted_not_fatal(h: Harness) -> None:
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
    """An open but silent connection is declared stale and reconnected."""
    async with start_harness(stall_after_s=0.4) as h:
        h.sim.publish(trade(0))
        await eventually(lambda: len(h.trades()) == 1)
        h.sim.stall(V, 0.6)
        await eventually(lambda: "stale" in h.statuses(), what="stale status")
        await eventually(
            lambda: h.sim.stats[V].connections >= 2 and h.subscribed(), what="reconnect after stall"
        )
        assert h.metric("riskmon_feed_reconnects_total", venue=V, reason="stalled") >= 1.0


async def test_refused_connections_back_off_then_connect(h: Harness) -> None:
    """While the venue refuses connections the feed retries with backoff, then gets through."""
    h.sim.refuse(V, 0.5)
    await h.sim.drop(V)
    await eventually(lambda: h.sim.stats[V].refused >= 1, what="a refused attempt")
    await eventually(
        lambda: h.subscribed() and h.sim.stats[V].open_sessions == 1,
        what="connected after refusals",
    )
    reasons = [
        e.reason for e in h.events if isinstance(e, FeedStatus) and e.status == "disconnected"
    ]
    assert any("handshake failed" in r for r in reasons)


async def test_silent_subscription_is_reported() -> None:
    """A subscription that never delivers (the retired-URL failure mode) is reported silent."""
    async with start_harness() as h:
        h.feed.spec = dataclasses.replace(
            get_venue(V), quiet_s={"liquidations": 0.3, "trades": 60.0}
        )
        h.sim.publish_many(trade(i) for i in range(3))
        await eventually(
            lambda: "silent" in h.statuses("liquidations"), timeout_s=5, what="silent liquidations"
        )
        assert "silent" not in h.statuses("trades")


async def test_rest_errors_are_counted_and_recovered() -> None:
    """429 with Retry-After and 503 answers are counted; polling resumes and OI arrives."""
    async with start_harness(channels=("trades", "funding", "open_interest")) as h:
        h.sim.publish(funding_event(85_000.0))
        h.sim.rest_errors(V, 429, 1, retry_after_s=0.1)
        h.sim.rest_errors(V, 503, 2)
        h.sim.publish(oi_event(90_000.0))
        await eventually(
            lambda: any(isinstance(e, OpenInterest) for e in h.events),
            what="open interest after errors",
        )
        oi = next(e for e in h.events if isinstance(e, OpenInterest))
        assert oi.size == 90_000.0
        assert oi.notional_usd == 90_000.0 * 85_000.0
        assert h.metric("riskmon_feed_rest_requests_total", venue=V, outcome="rate_limited") == 1.0
        assert h.metric("riskmon_feed_rest_requests_total", venue=V, outcome="server_error") == 2.0


async def test_liquidation_roundtrip_over_websocket(h: Harness) -> None:
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
    await eventually(lambda: any(isinstance(e, Liquidation) for e in h.events))
    got = next(e for e in h.events if isinstance(e, Liquidation))
    assert (got.side, got.price, got.size, got.ts_event) == ("long", 84_000.0, 1.5, T)


async def test_server_requested_reconnect_bitstamp() -> None:
    """Bitstamp's bts:request_reconnect makes the feed reconnect and resubscribe at once."""
    from monitor.simulator.venues.bitstamp import BitstampSim

    bitstamp = BitstampSim()
    sim = ExchangeSimulator([bitstamp], ping_interval_s=None)
    events: list[Event] = []

    async def sink(ev: Event) -> None:
        events.append(ev)

    async with sim:
        spec = get_venue("bitstamp")
        feed = VenueFeed(
            spec,
            VenueEndpoints(ws=sim.ws_base("bitstamp"), rest=sim.rest_base("bitstamp")),
            [Stream("quotes", "usdtusd")],
            load_registry("bitstamp"),
            sink,
            MonitorMetrics(CollectorRegistry()),
            backoff=FAST,
            ping_interval_s=None,
        )
        task = asyncio.create_task(feed.run())
        try:
            await eventually(lambda: feed.connections[0].state == "subscribed")
            sim.send_raw("bitstamp", [bitstamp.reconnect_request()])
            await eventually(
                lambda: (
                    sim.stats["bitstamp"].connections == 2
                    and feed.connections[0].state == "subscribed"
                ),
                what="reconnect",
            )
            assert sim.sessions("bitstamp")[0].subscriptions
            reasons = [
                e.reason for e in events if isinstance(e, FeedStatus) and e.status == "rotating"
            ]
            assert any("asked for a reconnect" in r for r in reasons)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
