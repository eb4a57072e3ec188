"""Every venue's feed against the simulator's faults, over real websockets on 127.0.0.1.

For each venue: deliver, survive garbage/truncated/unknown frames (counted), reconnect and
resubscribe after a drop, and reconnect after a stall. The feeds run in
:func:`tests.helpers.venue_run`; their timers (stall, lifetime, heartbeat, backoff) run on its
manual clock, which the tests advance.
"""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from monitor.venues import VENUE_MODULES, get_venue
from streams.events import Trade
from tests.helpers import VenueRun, eventually, venue_run

T = 1_763_714_000_000_000_000
VENUES = sorted(VENUE_MODULES)


def a_trade(r: VenueRun, n: int) -> Trade:
    """The ``n``-th test trade on the run's first symbol, priced like its asset."""
    symbol = r.feed.streams[0].symbol
    inst = r.feed.registry.get(symbol)
    assert inst is not None
    price = 85_000.0 + n if inst.base in ("BTC", "XBT") else 1.0 + n / 1e4
    if inst.base == "ETH":
        price = 3_000.0 + n
    size = 0.5 if price > 100 else 1000.0
    return Trade(
        venue=r.venue,
        symbol=symbol,
        instrument=inst.instrument,
        asset=inst.base,
        ts_event=T + n * 1_000_000_000,
        ts_recv=0,
        price=price,
        size=size,
        notional_usd=price * size,
        side="buy",
    )


async def deliver_one(r: VenueRun) -> None:
    """Publish a new trade until the feed delivers it (a venue may attach the subscription a
    moment after its ack), and check what arrived."""
    before = len(r.trades())
    ev = a_trade(r, before + 1)

    async def seen() -> bool:
        r.sim.publish(ev)
        await asyncio.sleep(0.02)  # real time: the frame crosses the socket
        return len(r.trades()) > before

    await eventually(seen, what=f"{r.venue}: trade delivered")
    got = r.trades()[-1]
    assert (got.venue, got.symbol, got.asset) == (r.venue, ev.symbol, ev.asset)
    assert got.price == pytest.approx(ev.price)
    assert got.size == pytest.approx(ev.size, rel=1e-6)
    assert got.ts_recv == r.clock.now_ns()


@pytest.mark.parametrize("venue", VENUES)
async def test_delivers_and_counts_bad_frames(venue: str) -> None:
    """Trades arrive; garbage, truncated and unknown frames are counted, never fatal."""
    async with venue_run(venue) as r:
        await deliver_one(r)
        sim = r.sim
        sim.send_garbage(venue, 2)
        sim.send_truncated(venue, sim.venues[venue].unknown_frame(), 1)
        sim.send_unknown(venue, 3)
        await deliver_one(r)
        assert r.feed.skipped.get("malformed", 0) == 3
        assert r.feed.skipped.get("unknown", 0) == 3
        assert sim.stats[venue].connections == 1


@pytest.mark.parametrize("venue", VENUES)
async def test_drop_reconnects_and_resubscribes(venue: str) -> None:
    """After a TCP drop the feed reconnects, replays its subscriptions and delivers again."""
    async with venue_run(venue) as r:
        await deliver_one(r)
        subs = [set(s.subscriptions) for s in r.sim.sessions(venue)]
        await r.sim.drop(venue)
        await r.reconnect()
        assert r.sim.stats[venue].connections == 2
        assert [set(s.subscriptions) for s in r.sim.sessions(venue)] == subs
        await deliver_one(r)
        assert "disconnected" in r.statuses()


@pytest.mark.parametrize("venue", VENUES)
async def test_stall_reconnects(venue: str) -> None:
    """An open but silent connection is declared stale and replaced."""
    async with venue_run(venue, stall_after_s=0.5) as r:
        await deliver_one(r)
        await r.advance(0.6)
        await eventually(lambda: "stale" in r.statuses(), what="stale")
        await r.reconnect("reconnect after stall")
        assert r.sim.stats[venue].connections == 2
        await deliver_one(r)


async def test_rotates_before_the_lifetime_limit() -> None:
    """A connection is replaced before the venue's lifetime limit, without backoff."""
    venue = "binance-usdm"
    # the watchdog looks once a second (a quarter of the stall limit, at most 1 s); the lifetime
    # of 2.5 s is up at 96%, 2.4 s: the third look of each connection rotates it
    async with venue_run(venue, spec_changes={"lifetime_s": 2.5}) as r:
        for n in (2, 3):
            await r.advance(1.0)
            await r.advance(1.0)
            assert r.sim.stats[venue].connections == n - 1
            await r.advance(1.0)
            await eventually(
                lambda n=n: r.sim.stats[venue].connections == n and r.subscribed(),
                what=f"rotation to connection {n}",
            )
        rotating = r.reasons("rotating")
        assert len(rotating) == 2
        assert "lifetime" in rotating[0]
        assert r.feed.connections[0].attempt == 0
        await deliver_one(r)


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
    fast = dataclasses.replace(hb, interval_s=0.2)
    async with venue_run(venue, spec_changes={"heartbeat": fast}) as r:
        [session] = r.sim.sessions(venue)
        start = session.client_frames
        for n in (1, 2, 3):
            await r.advance(0.25)  # one interval and a bit: one heartbeat
            await eventually(
                lambda n=n: session.client_frames == start + n, timeout_s=5, what=f"heartbeat {n}"
            )
        assert session.subscriptions
