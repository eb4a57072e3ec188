"""Shared test helpers (imported by tests as ``from tests.helpers import ...``).

- :func:`eventually`: poll a condition (plain or async) until it holds, for what real I/O
  delivers (websocket frames, HTTP answers, other tasks).
- :func:`assert_events`: compare events field by field, floats within 1e-9 relative.
- :func:`venue_run`: the venue-run harness. It starts the exchange simulator for one venue on
  127.0.0.1 and a :class:`~monitor.feed.VenueFeed` against it, on a
  :class:`~streams.clock.ManualClock`, and collects what the feed delivers::

      async with venue_run("binance-usdm") as r:     # returns once every stream is subscribed
          r.sim.publish(trade)                         # the simulator (faults, stats, sessions)
          await eventually(lambda: len(r.trades()) == 1)
          await r.advance(0.5)                         # move the feed's timers, no real sleep
          assert "stale" in r.statuses()

  The websocket and HTTP I/O run in real time; every timer of the feed (stall, lifetime and
  stream watchdogs, heartbeats, reconnect backoff, poll intervals) runs on ``r.clock`` and only
  moves when the test advances it.
- :func:`plan_session`: the same harness one layer down, for the wire protocol the feed hides
  (acks, pings, back-fills): one raw websocket session of a venue's connection plan, every frame
  kept in ``raw`` and run through the venue's parser into ``events`` (parse errors in ``errors``)::

      async with plan_session(plan, parser) as s:
          await s.subscribe()
          await eventually(lambda: len(s.raw) == len(plan.subscribe))   # the acks
- :func:`run_clock_until`: advance a manual clock in steps until a condition holds, for code
  whose progress needs both the clock and real I/O (REST polls, paced backfills).
- :func:`btc_funding`, :func:`btc_open_interest`: Binance USD-M BTCUSDT marks and open interest,
  the events the history tests publish to the simulator (its REST history) or feed to processors.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import random
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import msgspec
import pytest
from prometheus_client import CollectorRegistry
from websockets.asyncio.client import ClientConnection, connect

from monitor.feed import VenueFeed
from monitor.metrics import MonitorMetrics
from monitor.simulator.server import ExchangeSimulator
from monitor.simulator.venues import sim_venue
from monitor.venues import get_venue, load_registry
from monitor.venues.base import ConnectionPlan, FrameParser, ParseError, Stream, VenueEndpoints
from streams.backoff import Backoff
from streams.clock import ManualClock
from streams.events import Event, FeedStatus, Funding, OpenInterest, Trade
from streams.supervisor import TaskSupervisor

DATA = Path(__file__).parent / "data"

#: where a harness's manual clock starts (2025-11-21, a realistic receive stamp)
RUN_START_NS = 1_763_714_000_000_000_000
#: reconnect backoff of the harness's feeds: 0.05 s doubling up to 0.2 s, half jittered
FAST_BACKOFF = Backoff(initial_s=0.05, max_s=0.2, jitter=0.5)
_POLL_S = 0.01  # how often eventually looks again (real time)

E = TypeVar("E", bound=Event)


def btc_funding(ts: int, mark: float) -> Funding:
    """A Binance USD-M BTCUSDT funding update with its mark price (0.01% per 8 h)."""
    return Funding(
        venue="binance-usdm",
        symbol="BTCUSDT",
        instrument="BTC-USDT-PERP",
        asset="BTC",
        ts_event=ts,
        ts_recv=0,
        rate=0.0001,
        interval_h=8.0,
        rate_8h=0.0001,
        mark_price=mark,
        next_funding_ts=None,
    )


def btc_open_interest(
    ts: int, usd: float, price: float = 100_000.0, ts_recv: int = 0
) -> OpenInterest:
    """Binance USD-M BTCUSDT open interest of ``usd`` (``usd / price`` coins)."""
    return OpenInterest(
        venue="binance-usdm",
        symbol="BTCUSDT",
        instrument="BTC-USDT-PERP",
        asset="BTC",
        ts_event=ts,
        ts_recv=ts_recv,
        size=usd / price,
        notional_usd=usd,
    )


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now (bound and released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def eventually(
    cond: Callable[[], bool | Awaitable[bool]], timeout_s: float = 30.0, what: str = ""
) -> None:
    """Poll ``cond`` (plain or async) until it is true; fail the test after ``timeout_s``.

    The default is generous: a passing test returns as soon as ``cond`` holds, and CI runs the
    suite beside the episode backtests on two cores.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        r = cond()
        if not isinstance(r, bool):
            r = await r
        if r:
            return
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout_s}s waiting for {what or cond}")
        await asyncio.sleep(_POLL_S)


async def settle(clock: ManualClock, seconds: float) -> None:
    """Advance ``clock`` and give the tasks it wakes a few turns of the loop."""
    clock.advance(seconds)
    for _ in range(5):
        await asyncio.sleep(0)


async def run_clock_until(
    clock: ManualClock,
    cond: Callable[[], bool],
    step_s: float,
    timeout_s: float = 10.0,
    what: str = "",
) -> None:
    """Advance ``clock`` by ``step_s`` at a time until ``cond`` holds (real-time ``timeout_s``).

    Between steps the loop polls briefly in real time so that I/O started by the woken timers
    (an HTTP request, a reconnect) can complete.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not cond():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout_s}s waiting for {what or cond}")
        await settle(clock, step_s)
        await asyncio.sleep(_POLL_S)


def ws_frame(venue: str, name: str) -> str:
    """Load a recorded frame from ``tests/data/ws/<venue>/<name>.json``."""
    return (DATA / "ws" / venue / f"{name}.json").read_text(encoding="utf-8").strip()


def _plain(event: Event, keep_recv: bool) -> dict[str, object]:
    d: dict[str, object] = msgspec.to_builtins(event)
    if not keep_recv:
        d.pop("ts_recv")
    return d


def assert_events(actual: list[Event], expected: list[Event], keep_recv: bool = True) -> None:
    """Compare events field by field; floats within 1e-9 relative (decimal formatting)."""
    assert [type(e).__name__ for e in actual] == [type(e).__name__ for e in expected]
    for got, want in zip(actual, expected, strict=True):
        g, w = _plain(got, keep_recv), _plain(want, keep_recv)
        assert g.keys() == w.keys()
        for key, value in w.items():
            if isinstance(value, float):
                assert g[key] == pytest.approx(value, rel=1e-9), key
            else:
                assert g[key] == value, key


class SeedRecorder:
    """A hand-written backfill target (``monitor.backfill.Seedable``) keeping what it was given."""

    def __init__(self) -> None:
        self.seeds: list[tuple[str, str, list[tuple[int, float]]]] = []

    def seed_history(self, asset: str, venue: str, points: Sequence[tuple[int, float]]) -> None:
        self.seeds.append((asset, venue, list(points)))


# ---------------------------------------------------------------------- the venue-run harness


@dataclasses.dataclass
class VenueRun:
    """A running feed of one venue against the simulator (built by :func:`venue_run`).

    Attributes:
        venue: the venue id.
        sim: the simulator (publish, faults, ``stats``, ``sessions``).
        feed: the feed under test (``connections``, ``skipped``, ``spec``).
        clock: the manual clock all the feed's timers and stamps run on.
        registry: the Prometheus registry of the feed's metrics.
        events: everything the feed handed its sink, in order (market events and statuses).
        supervisor: runs the feed's connections, polls and watchdog (restarts on the clock,
            with :data:`FAST_BACKOFF`; ``riskmon_task_restarts_total`` on ``registry``).
    """

    venue: str
    sim: ExchangeSimulator
    feed: VenueFeed
    clock: ManualClock
    registry: CollectorRegistry
    events: list[Event] = dataclasses.field(default_factory=list)
    supervisor: TaskSupervisor | None = None

    def of_type(self, cls: type[E]) -> list[E]:
        """The delivered events of one class."""
        return [e for e in self.events if isinstance(e, cls)]

    def trades(self) -> list[Trade]:
        """The delivered trades."""
        return self.of_type(Trade)

    def statuses(self, channel: str = "connection") -> list[str]:
        """The states reported for ``channel`` (``connection`` or a stream's channel), in order."""
        return [e.status for e in self.of_type(FeedStatus) if e.channel == channel]

    def reasons(self, status: str) -> list[str]:
        """The reasons given with every status ``status``."""
        return [e.reason for e in self.of_type(FeedStatus) if e.status == status]

    def metric(self, name: str, **labels: str) -> float:
        """A sample of the feed's metrics (0 when absent)."""
        return self.registry.get_sample_value(name, labels) or 0.0

    def subscribed(self) -> bool:
        """Every connection is subscribed and the simulator has seen every session subscribe."""
        return all(c.state == "subscribed" for c in self.feed.connections) and all(
            s.subscriptions for s in self.sim.sessions(self.venue)
        )

    def waiting_to_reconnect(self) -> bool:
        """Some connection is down and sleeping out its backoff on :attr:`clock`."""
        return any(c.state == "disconnected" for c in self.feed.connections)

    async def advance(self, seconds: float) -> None:
        """Move the clock (firing the timers due) and let the woken tasks run."""
        await settle(self.clock, seconds)

    async def advance_until(
        self, cond: Callable[[], bool], step_s: float, timeout_s: float = 10.0, what: str = ""
    ) -> None:
        """:func:`run_clock_until` on this run's clock."""
        await run_clock_until(self.clock, cond, step_s, timeout_s, what)

    async def reconnect(self, what: str = "reconnect") -> None:
        """Wait for a connection to go down, sleep out its backoff on the clock, wait until
        every connection is subscribed again."""
        await eventually(self.waiting_to_reconnect, what=f"{what}: disconnected")
        await self.advance(self.feed.backoff.max_s)
        await eventually(self.subscribed, what=what)


@contextlib.asynccontextmanager
async def venue_run(
    venue: str,
    streams: Sequence[Stream] | None = None,
    *,
    spec_changes: Mapping[str, Any] | None = None,
    stall_after_s: float | None = None,
    poll_interval_s: float | None = None,
    seed: int = 1,
) -> AsyncIterator[VenueRun]:
    """Serve ``venue`` from the simulator on 127.0.0.1 and run a feed against it.

    Yields once every connection is subscribed; on exit the feed is cancelled and the simulator
    and HTTP session closed. Protocol pings are off on both sides; reconnects use
    :data:`FAST_BACKOFF` on the run's :class:`~streams.clock.ManualClock`.

    Args:
        venue: the venue id (the simulator is ``sim_venue(venue)``, reachable as
            ``run.sim.venues[venue]``).
        streams: what to subscribe; default: trades of the venue's first default symbol.
        spec_changes: ``VenueSpec`` fields to replace (short lifetimes, heartbeats, quiet times).
        stall_after_s: the connections' stall limit (default: the venue's quiet times).
        poll_interval_s: every REST poll's interval (default: the venue's).
        seed: the jitter's random seed.
    """
    spec = get_venue(venue)
    if spec_changes:
        spec = dataclasses.replace(spec, **spec_changes)
    clock = ManualClock(RUN_START_NS)
    registry = CollectorRegistry()
    async with (
        ExchangeSimulator([sim_venue(venue)], ping_interval_s=None) as sim,
        aiohttp.ClientSession() as http,
    ):
        events: list[Event] = []

        async def sink(ev: Event) -> None:
            events.append(ev)

        feed = VenueFeed(
            spec,
            VenueEndpoints(ws=sim.ws_base(venue), rest=sim.rest_base(venue)),
            list(streams) if streams is not None else [Stream("trades", spec.default_symbols[0])],
            load_registry(venue),
            sink,
            MonitorMetrics(registry),
            backoff=FAST_BACKOFF,
            ping_interval_s=None,
            stall_after_s=stall_after_s,
            poll_interval_s=poll_interval_s,
            rng=random.Random(seed),
            clock=clock,
        )
        supervisor = TaskSupervisor(registry, clock=clock, backoff=FAST_BACKOFF, failing_after=3)
        run = VenueRun(venue, sim, feed, clock, registry, events, supervisor)
        task = asyncio.create_task(feed.run(http, supervisor), name=f"test-feed-{venue}")
        try:
            await eventually(run.subscribed, what=f"{venue} subscribed")
            yield run
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


@dataclasses.dataclass
class PlanSession:
    """One raw websocket session of a connection plan (see :func:`plan_session`)."""

    plan: ConnectionPlan
    ws: ClientConnection
    raw: list[str]
    events: list[Event]
    errors: list[ParseError]
    binary_frames: int = 0

    async def subscribe(self) -> None:
        """Send every subscribe frame of the plan."""
        for frame in self.plan.subscribe:
            await self.ws.send(frame)


@contextlib.asynccontextmanager
async def plan_session(
    plan: ConnectionPlan,
    parser: FrameParser,
    *,
    recv_ns: int | None = None,
    raw: list[str] | None = None,
    events: list[Event] | None = None,
    errors: list[ParseError] | None = None,
    respond: Callable[[str], str | None] | None = None,
) -> AsyncIterator[PlanSession]:
    """Connect to ``plan.url`` and read every frame until the block exits.

    Each frame (binary ones decoded, and counted in ``binary_frames``) is appended to ``raw`` and
    parsed with ``parser`` at ``recv_ns`` (default: the wall clock) into ``events``; a
    :class:`ParseError` goes to ``errors``. Pass the lists of an earlier session to continue them
    (a reconnect with the same parser). ``respond`` answers frames that want a reply (a venue's
    test requests) before they are parsed. Nothing is subscribed until
    :meth:`PlanSession.subscribe`.
    """
    async with connect(plan.url) as ws:
        session = PlanSession(
            plan,
            ws,
            raw if raw is not None else [],
            events if events is not None else [],
            errors if errors is not None else [],
        )

        async def read() -> None:
            async for message in ws:
                if not isinstance(message, str):
                    session.binary_frames += 1
                frame = message if isinstance(message, str) else message.decode()
                session.raw.append(frame)
                reply = respond(frame) if respond is not None else None
                if reply is not None:
                    await ws.send(reply)
                try:
                    session.events.extend(
                        parser.parse(frame, time.time_ns() if recv_ns is None else recv_ns)
                    )
                except ParseError as e:
                    session.errors.append(e)

        task = asyncio.create_task(read(), name=f"test-plan-session-{plan.key}")
        try:
            yield session
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
