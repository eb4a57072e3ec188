"""Every venue's feed against the simulator's faults, over real websockets on 127.0.0.1.

For each venue: deliver, survive garbage/truncated/unknown frames (counted), reconnect and
resubscribe after a drop, and reconnect after a stall.
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
from monitor.simulator.venues import sim_venue
from monitor.venues import VENUE_MODULES, get_venue, load_registry
from monitor.venues.base import Stream, VenueEndpoints
from streams.events import Event, FeedStatus, Trade
from tests.helpers import eventually

T = 1_763_714_000_000_000_000
FAST = Backoff(initial_s=0.05, max_s=0.2, jitter=0.5)
VENUES = sorted(VENUE_MODULES)


class Run:
    """A venue feed connected to the simulator, collecting events."""

    def __init__(
        self, venue: str, sim: ExchangeSimulator, feed: VenueFeed, events: list[Event]
    ) -> None:
        self.venue = venue
        self.sim = sim
        self.feed = feed
        self.events = events
        self.symbol = feed.streams[0].symbol
        inst = feed.registry.get(self.symbol)
        assert inst is not None
        self.inst = inst
        self.n = 0

    def trade(self) -> Trade:
        self.n += 1
        price = 85_000.0 + self.n if self.inst.base in ("BTC", "XBT") else 1.0 + self.n / 1e4
        if self.inst.base == "ETH":
            price = 3_000.0 + self.n
        size = 0.5 if price > 100 else 1000.0
        return Trade(
            venue=self.venue,
            symbol=self.symbol,
            instrument=self.inst.instrument,
            asset=self.inst.base,
            ts_event=T + self.n * 1_000_000_000,
            ts_recv=0,
            price=price,
            size=size,
            notional_usd=price * size,
            side="buy",
        )

    def trades(self) -> list[Trade]:
        return [e for e in self.events if isinstance(e, Trade)]

    def subscribed(self) -> bool:
        return all(c.state == "subscribed" for c in self.feed.connections) and all(
            s.subscriptions for s in self.sim.sessions(self.venue)
        )

    async def deliver_one(self) -> None:
        before = len(self.trades())
        ev = self.trade()

        # a venue may need a moment to attach the subscription after the ack: publish until seen
        async def seen() -> bool:
            for _ in range(200):
                self.sim.publish(ev)
                await asyncio.sleep(0.02)
                if len(self.trades()) > before:
                    return True
            return False

        assert await seen(), f"{self.venue}: trade not delivered"
        got = self.trades()[-1]
        assert (got.venue, got.symbol, got.asset) == (self.venue, self.symbol, self.inst.base)
        assert got.price == pytest.approx(ev.price)
        assert got.size == pytest.approx(ev.size, rel=1e-6)


@contextlib.asynccontextmanager
async def run_venue(venue: str, stall_after_s: float | None = None) -> AsyncIterator[Run]:
    spec = get_venue(venue)
    sim = ExchangeSimulator([sim_venue(venue)], ping_interval_s=None)
    events: list[Event] = []

    async def sink(ev: Event) -> None:
        events.append(ev)

    async with sim, aiohttp.ClientSession() as http:
        feed = VenueFeed(
            spec,
            VenueEndpoints(ws=sim.ws_base(venue), rest=sim.rest_base(venue)),
            [Stream("trades", spec.default_symbols[0])],
            load_registry(venue),
            sink,
            MonitorMetrics(CollectorRegistry()),
            backoff=FAST,
            stall_after_s=stall_after_s,
            ping_interval_s=None,
            rng=random.Random(3),
        )
        task = asyncio.create_task(feed.run(http))
        r = Run(venue, sim, feed, events)
        try:
            await eventually(r.subscribed, what=f"{venue} subscribed")
            yield r
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


@pytest.mark.parametrize("venue", VENUES)
async def test_delivers_and_counts_bad_frames(venue: str) -> None:
    """Trades arrive; garbage, truncated and unknown frames are counted, never fatal."""
    async with run_venue(venue) as r:
        await r.deliver_one()
        sim = r.sim
        sim.send_garbage(venue, 2)
        sim.send_truncated(venue, sim.venues[venue].unknown_frame(), 1)
        sim.send_unknown(venue, 3)
        await r.deliver_one()
        assert r.feed.skipped.get("malformed", 0) == 3
        assert r.feed.skipped.get("unknown", 0) == 3
        assert sim.stats[venue].connections == 1


@pytest.mark.parametrize("venue", VENUES)
async def test_drop_reconnects_and_resubscribes(venue: str) -> None:
    """After a TCP drop the feed reconnects, replays its subscriptions and delivers again."""
    async with run_venue(venue) as r:
        await r.deliver_one()
        subs = [set(s.subscriptions) for s in r.sim.sessions(venue)]
        await r.sim.drop(venue)
        await eventually(
            lambda: r.sim.stats[venue].connections == 2 and r.subscribed(), what="reconnect"
        )
        assert [set(s.subscriptions) for s in r.sim.sessions(venue)] == subs
        await r.deliver_one()
        assert any(isinstance(e, FeedStatus) and e.status == "disconnected" for e in r.events)


@pytest.mark.parametrize("venue", VENUES)
async def test_stall_reconnects(venue: str) -> None:
    """An open but silent connection is declared stale and replaced."""
    async with run_venue(venue, stall_after_s=0.5) as r:
        await r.deliver_one()
        r.sim.stall(venue, 0.8)
        await eventually(
            lambda: r.sim.stats[venue].connections >= 2 and r.subscribed(),
            timeout_s=10,
            what="reconnect after stall",
        )
        assert any(isinstance(e, FeedStatus) and e.status == "stale" for e in r.events)


@contextlib.asynccontextmanager
async def run_with_spec(venue: str, **changes: object) -> AsyncIterator[Run]:
    """Like :func:`run_venue` with some VenueSpec fields replaced (short timers for tests)."""
    spec = dataclasses.replace(get_venue(venue), **changes)  # type: ignore[arg-type]
    sim = ExchangeSimulator([sim_venue(venue)], ping_interval_s=None)
    events: list[Event] = []

    async def sink(ev: Event) -> None:
        events.append(ev)

    async with sim:
        feed = VenueFeed(
            spec,
            VenueEndpoints(ws=sim.ws_base(venue), rest=sim.rest_base(venue)),
            [Stream("trades", spec.default_symbols[0])],
            load_registry(venue),
            sink,
            MonitorMetrics(CollectorRegistry()),
            backoff=FAST,
            ping_interval_s=None,
        )
        task = asyncio.create_task(feed.run())
        r = Run(venue, sim, feed, events)
        try:
            await eventually(r.subscribed, what=f"{venue} subscribed")
            yield r
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


async def test_rotates_before_the_lifetime_limit() -> None:
    """A connection is replaced before the venue's lifetime limit, without backoff."""
    async with run_with_spec("binance-usdm", lifetime_s=0.6) as r:
        await eventually(
            lambda: r.sim.stats["binance-usdm"].connections >= 3 and r.subscribed(),
            timeout_s=10,
            what="two rotations",
        )
        rotating = [e for e in r.events if isinstance(e, FeedStatus) and e.status == "rotating"]
        assert len(rotating) >= 2
        assert "lifetime" in rotating[0].reason
        await r.deliver_one()


@pytest.mark.parametrize(
    ("venue", "message"),
    [
        ("bybit-linear", '{"op":"ping"}'),
        ("hyperliquid", '{"method":"ping"}'),
        ("okx-swap", "ping"),
        ("bitmex", "ping"),
    ],
)
async def test_client_heartbeats_reach_the_venue(venue: str, message: str) -> None:
    """The venue's text heartbeat is sent on schedule (idle-only ones when the line is quiet)."""
    hb = get_venue(venue).heartbeat
    assert hb.message == message
    async with run_with_spec(venue, heartbeat=dataclasses.replace(hb, interval_s=0.2)) as r:
        [session] = r.sim.sessions(venue)
        start = session.client_frames
        await eventually(
            lambda: session.client_frames >= start + 3, timeout_s=5, what="three heartbeats"
        )
        assert session.subscriptions
