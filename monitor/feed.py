"""Run one venue: its websocket connections, its REST polls, parsing, and per-stream health.

A :class:`VenueFeed` turns a :class:`~monitor.venues.base.VenueSpec` plus the configured streams
into running connections. Every frame is captured (when a capture file is configured), parsed
(bad frames are counted by reason and logged, never fatal), and its events handed to the sink.
A per-stream watchdog tells a quiet channel from one that never delivered since subscribing,
and reports both as :class:`~streams.events.FeedStatus` events and metrics.

Every timer and stamp reads the injected :class:`~streams.clock.Clock` (the wall clock by
default), handed on to the connections: receive stamps, status stamps, the stream watchdog, the
poll intervals and their backoff. A run can give all its feeds one clock (the scenario's clock
against the simulator), and tests drive the timers with a :class:`~streams.clock.ManualClock`.
A REST ``Retry-After`` (seconds or an HTTP date) is honoured up to :data:`RETRY_AFTER_MAX_S`.
Every REST answer is read by :func:`monitor.rest.fetch`: a bad one (an error page, a body that
is not UTF-8 or not JSON, truncated or too large) is counted by outcome and the poll backs off.

Each connection, each poll and the stream watchdog is a task of its own (:meth:`VenueFeed.tasks`)
that the daemon runs under its :class:`~streams.supervisor.TaskSupervisor`: a bug that kills one
is logged, counted and restarted with backoff while the others go on.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import random
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TypeVar

import aiohttp
import structlog
from prometheus_client import CollectorRegistry

from monitor.capture import CaptureWriter
from monitor.connection import (
    DEFAULT_QUIET_S,
    ConnState,
    WebSocketConnection,
    watch_sleep,
)
from monitor.instruments import Instrument, InstrumentRegistry, save_instruments
from monitor.listings import plan_feed, plan_listed
from monitor.metrics import MonitorMetrics
from monitor.rest import fetch
from monitor.venues.base import (
    Channel,
    ConnectionPlan,
    ParseError,
    RestPoll,
    Stream,
    VenueEndpoints,
    VenueSpec,
)
from streams.backoff import Backoff, bounded_wait
from streams.clock import Clock, SystemClock
from streams.events import (
    EVENT_TYPE,
    Event,
    FeedState,
    FeedStatus,
    Funding,
    Liquidation,
    OpenInterest,
    Quote,
    Trade,
)
from streams.retry_after import retry_after_s
from streams.supervisor import TaskFactory, TaskSupervisor
from streams.units import NS_PER_SECOND

__all__ = ["EventSink", "VenueFeed", "refresh_instruments"]

_T = TypeVar("_T")

log = structlog.get_logger(__name__)

EventSink = Callable[[Event], Awaitable[None]]

_CHANNEL_OF: dict[type[Event], Channel] = {
    Trade: "trades",
    Liquidation: "liquidations",
    Funding: "funding",
    OpenInterest: "open_interest",
    Quote: "quotes",
}
_LOG_FIRST_N = 20
_LOG_EVERY = 1000
#: a rate-limited poll waits this long when the answer has no readable ``Retry-After``
RETRY_AFTER_DEFAULT_S = 60.0
#: and never longer than this, whatever the header says
RETRY_AFTER_MAX_S = 3600.0


class VenueFeed:
    """All connections and polls of one venue.

    Args:
        spec: the venue.
        endpoints: base URLs (live, or the simulator).
        streams: what to subscribe.
        registry: the venue's instruments.
        sink: where events go (the bus).
        metrics: the daemon's metrics.
        capture: optional capture file for raw frames.
        backoff: reconnect/poll backoff.
        ping_interval_s: websocket protocol ping interval.
        stall_after_s: override of the connection stall limit (tests).
        poll_interval_s: override of every REST poll's interval.
        rng: randomness for jitter and poll staggering.
        clock: the run's clock for stamps, watchdogs, polls and backoff (default: the wall
            clock); shared with the connections.
    """

    def __init__(
        self,
        spec: VenueSpec,
        endpoints: VenueEndpoints,
        streams: Sequence[Stream],
        registry: InstrumentRegistry,
        sink: EventSink,
        metrics: MonitorMetrics,
        *,
        capture: CaptureWriter | None = None,
        backoff: Backoff | None = None,
        ping_interval_s: float | None = 20.0,
        stall_after_s: float | None = None,
        poll_interval_s: float | None = None,
        rng: random.Random | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.spec = spec
        self.venue = spec.venue
        self.endpoints = endpoints
        self.streams = list(streams)
        self.registry = registry
        self.sink = sink
        self.metrics = metrics
        self.capture = capture
        self.backoff = backoff or Backoff()
        self.rng = rng or random.Random()
        self.clock: Clock = clock or SystemClock()
        self.parser = spec.make_parser(registry)
        derived = metrics.instruments_derived.labels(venue=self.venue)
        registry.on_derived = lambda _: derived.inc()  # each symbol read from its name, once
        self.plans = plan_feed(spec, endpoints, self.streams, registry)
        self.polls = spec.polls(endpoints, self.streams)
        if poll_interval_s is not None:
            self.polls = [dataclasses.replace(p, interval_s=poll_interval_s) for p in self.polls]
        self._conn_options = {"ping_interval_s": ping_interval_s, "stall_after_s": stall_after_s}
        self.connections = [self._new_connection(plan) for plan in self.plans]
        self._supervisor: TaskSupervisor | None = None  # set by start()
        self._listings_added = 0
        self.skipped: dict[str, int] = {}
        self.frames = 0
        self._m_frames = metrics.frames.labels(venue=self.venue)
        # per-stream freshness, monotonic seconds
        self._subscribed_at: dict[Stream, float] = {}
        self._last_event: dict[Stream, float] = {}
        self._stream_state: dict[Stream, FeedState] = {}
        #: the least quiet time before a stream counts as stale (the daemon raises it on a fast
        #: scenario clock, as it does the connections' stall limits)
        self.quiet_floor_s = 0.0
        self._log = log.bind(venue=self.venue)

    # ------------------------------------------------------------------ running

    def tasks(self, http: aiohttp.ClientSession | None = None) -> list[tuple[str, TaskFactory]]:
        """Every long-running part of the feed as ``(task name, factory)``, to be supervised.

        One task per connection (``feed:<venue>:<connection>``), one per REST poll
        (``poll:<venue>:<poll>``) and the stream watchdog (``feed:<venue>:watchdog``). Each can
        fail and be restarted on its own: a bug met by one connection or poll does not stop the
        venue's other parts, nor any other venue.
        """
        now = self.clock.monotonic()
        for st in self.streams:
            self._subscribed_at.setdefault(st, now)
        out: list[tuple[str, TaskFactory]] = [
            (f"feed:{self.venue}:{conn.plan.key}", functools.partial(self._run_connection, conn))
            for conn in self.connections
        ]
        if self.polls:
            if http is None:
                raise ValueError("REST polls need an aiohttp session")
            out.extend(
                (f"poll:{self.venue}:{poll.key}", functools.partial(self._poll, http, poll))
                for poll in self.polls
            )
        out.append((f"feed:{self.venue}:watchdog", self._watchdog))
        return out

    def start(
        self, supervisor: TaskSupervisor, http: aiohttp.ClientSession | None = None
    ) -> list[asyncio.Task[None]]:
        """Spawn :meth:`tasks` on ``supervisor``; return the supervised tasks.

        Connections :meth:`add_listings` adds later are spawned on the same supervisor.
        """
        self._supervisor = supervisor
        return [supervisor.spawn(factory, name) for name, factory in self.tasks(http)]

    async def run(
        self,
        http: aiohttp.ClientSession | None = None,
        supervisor: TaskSupervisor | None = None,
    ) -> None:
        """Run every connection, poll and the watchdog, supervised, until cancelled.

        Without a ``supervisor`` the feed makes its own (restarts are then counted in a
        registry of its own, not exported).
        """
        sup = supervisor or TaskSupervisor(CollectorRegistry(), clock=self.clock)
        tasks = self.start(sup, http)
        try:
            await asyncio.gather(*tasks)
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _run_connection(self, conn: WebSocketConnection) -> None:
        """One connection; if it dies of an exception it is reported down before the restart."""
        try:
            await conn.run()
        except Exception:
            conn.state = "disconnected"
            self.metrics.connected.labels(venue=self.venue, connection=conn.plan.key).set(0)
            raise

    def _new_connection(self, plan: ConnectionPlan) -> WebSocketConnection:
        return WebSocketConnection(
            self.spec,
            plan,
            self._on_frame,
            self._on_conn_status,
            backoff=self.backoff,
            ping_interval_s=self._conn_options["ping_interval_s"],
            stall_after_s=self._conn_options["stall_after_s"],
            rng=self.rng,
            clock=self.clock,
        )

    def add_listings(self, symbols: Sequence[str]) -> int:
        """Subscribe new listings on the channels taken per listed symbol (Bybit liquidations),
        on connections of their own, started at once when the feed runs. Returns how many
        connections were added."""
        self._listings_added += 1
        plans = plan_listed(
            self.spec, self.endpoints, self.streams, symbols, f"+{self._listings_added}"
        )
        for plan in plans:
            conn = self._new_connection(plan)
            self.plans.append(plan)
            self.connections.append(conn)
            if self._supervisor is not None:
                self._supervisor.spawn(
                    functools.partial(self._run_connection, conn), f"feed:{self.venue}:{plan.key}"
                )
        return len(plans)

    # ------------------------------------------------------------------ frames

    async def _on_frame(self, key: str, frame: str, ts_recv: int) -> int:
        self.frames += 1
        self._m_frames.inc()
        if self.capture is not None:
            self.capture.write(self.venue, frame, ts_recv)
        try:
            events = self.parser.parse(frame, ts_recv)
        except ParseError as e:
            self._skip(e.kind, e.reason, key)
            return 0
        except Exception as e:  # a parser bug must not take the connection down
            self._skip("error", f"{type(e).__name__}: {e}", key)
            return 0
        if not events:
            return 0
        now = self.clock.monotonic()
        for ev in events:
            ch = _CHANNEL_OF.get(type(ev))
            if ch is not None:
                st = Stream(ch, ev.symbol)
                if st not in self._subscribed_at:
                    st = Stream(ch, "*")
                self._last_event[st] = now
                if self._stream_state.get(st) in ("stale", "silent"):
                    await self._stream_status(st, "subscribed", "data resumed", ev.ts_recv)
            self.metrics.events.labels(venue=self.venue, type=EVENT_TYPE[type(ev)]).inc()
            await self.sink(ev)
        return len(events)

    def _skip(self, kind: str, reason: str, key: str) -> None:
        n = self.skipped.get(kind, 0) + 1
        self.skipped[kind] = n
        self.metrics.frames_skipped.labels(venue=self.venue, reason=kind).inc()
        if n <= _LOG_FIRST_N or n % _LOG_EVERY == 0:
            # not_ready is transient (e.g. open interest before the first mark price)
            emit = self._log.info if kind == "not_ready" else self._log.warning
            emit("feed.frame_skipped", kind=kind, reason=reason[:300], connection=key, count=n)

    # ------------------------------------------------------------------ status

    async def _on_conn_status(self, key: str, state: ConnState, reason: str) -> None:
        self.metrics.status_changes.labels(
            venue=self.venue, channel="connection", status=state
        ).inc()
        self.metrics.connected.labels(venue=self.venue, connection=key).set(
            1 if state == "subscribed" else 0
        )
        if state == "subscribed" and reason == "":
            self.metrics.connects.labels(venue=self.venue).inc()
            now = self.clock.monotonic()
            plan = next(p for p in self.plans if p.key == key)
            for st in plan.streams:
                self._subscribed_at[st] = now
                self._last_event.pop(st, None)
        elif state == "disconnected":
            self.metrics.reconnects.labels(venue=self.venue, reason=_reason_label(reason)).inc()
        self._log.info("feed.status", connection=key, state=state, reason=reason)
        ts = self.clock.now_ns()
        await self.sink(
            FeedStatus(
                venue=self.venue,
                symbol="",
                instrument="",
                asset="",
                ts_event=ts,
                ts_recv=ts,
                channel="connection",
                status=state,
                reason=f"{key}: {reason}" if reason else key,
            )
        )

    async def _stream_status(self, st: Stream, state: FeedState, reason: str, ts: int) -> None:
        self._stream_state[st] = state
        self.metrics.status_changes.labels(venue=self.venue, channel=st.channel, status=state).inc()
        self.metrics.stream_up.labels(venue=self.venue, channel=st.channel).set(
            1 if state == "subscribed" else 0
        )
        inst = self.registry.get(st.symbol) if st.symbol != "*" else None
        self._log.info(
            "feed.stream_status", channel=st.channel, symbol=st.symbol, state=state, reason=reason
        )
        await self.sink(
            FeedStatus(
                venue=self.venue,
                symbol=st.symbol,
                instrument=inst.instrument if inst else "",
                asset=inst.base if inst else "",
                ts_event=ts,
                ts_recv=ts,
                channel=st.channel,
                status=state,
                reason=reason,
            )
        )

    async def _watchdog(self, period_s: float = 1.0) -> None:
        """Report streams that never delivered (silent) or went quiet (stale)."""
        while True:
            now = await watch_sleep(self.clock, period_s)
            if now is None:
                continue  # events may wait unread: judge on the next round
            for st, since in self._subscribed_at.items():
                quiet = max(self.spec.quiet_s.get(st.channel, DEFAULT_QUIET_S), self.quiet_floor_s)
                last = self._last_event.get(st)
                state = self._stream_state.get(st)
                if last is None and now - since > quiet and state != "silent":
                    await self._stream_status(
                        st,
                        "silent",
                        f"no data since subscribing {now - since:.0f}s ago",
                        self.clock.now_ns(),
                    )
                elif last is not None and now - last > quiet and state not in ("stale", "silent"):
                    await self._stream_status(
                        st, "stale", f"quiet for {now - last:.0f}s", self.clock.now_ns()
                    )

    def stream_states(self) -> dict[Stream, FeedState]:
        """The current state of every stream that changed state at least once."""
        return dict(self._stream_state)

    # ------------------------------------------------------------------ REST

    def _retry_after(self, header: str | None) -> float:
        """The wait a rate-limited poll asks for, defaulted and bounded."""
        asked = retry_after_s(header, self.clock.now_ns() / NS_PER_SECOND)
        if asked is None:
            return RETRY_AFTER_DEFAULT_S
        wait, clamped = bounded_wait(asked, RETRY_AFTER_MAX_S)
        if clamped:
            self._log.warning("feed.retry_after_clamped", retry_after=header, wait_s=wait)
        return wait

    async def _poll(self, http: aiohttp.ClientSession, poll: RestPoll) -> None:
        await self.clock.sleep(self.rng.random() * min(poll.interval_s, 5.0))  # stagger
        attempt = 0
        while True:
            delay = poll.interval_s
            answer = await fetch(
                http, poll.url, venue=self.venue, what=poll.key, metrics=self.metrics
            )
            if answer.ok:
                attempt = 0
                await self._on_frame(poll.key, answer.text, self.clock.now_ns())
            elif answer.outcome == "rate_limited":
                delay = max(delay, self._retry_after(answer.retry_after))
            else:  # an error, or a body we cannot read: counted by fetch, retried with backoff
                delay = max(delay, self.backoff.delay(attempt, self.rng))
                attempt += 1
            await self.clock.sleep(delay)


def _reason_label(reason: str) -> str:
    """Map a disconnect reason to a closed label set."""
    for label in ("rotation", "stalled", "closed", "handshake", "connect failed", "invalid url"):
        if reason.startswith(label):
            return label.replace(" ", "_")
    return "other"


async def refresh_instruments(
    spec: VenueSpec,
    endpoints: VenueEndpoints,
    registry: InstrumentRegistry,
    http: aiohttp.ClientSession,
    cache_dir: str | None = None,
    metrics: MonitorMetrics | None = None,
) -> int:
    """Load the venue's instrument lists over REST into ``registry`` and the disk cache, then
    the funding intervals it publishes apart from them (Binance ``fundingInfo``).

    Failures (any answer :func:`monitor.rest.fetch` does not call ``ok``, or a body the venue's
    parser rejects) are logged and leave the packaged snapshot / cache in place.
    Returns the number of instruments loaded (0 on failure).
    """
    base = endpoints.rest.rstrip("/")
    loaded: list[Instrument] = []
    for path in (spec.instruments_url, *spec.extra_instruments_urls):
        got = await _read_listing(
            http, spec, base + path, "instruments", spec.parse_instruments, metrics,
            data=spec.instruments_body,
        )  # fmt: skip
        loaded.extend(got or [])
    if not loaded:
        return 0
    n = registry.update(loaded)
    if spec.funding_intervals is not None:
        path, parse = spec.funding_intervals
        hours = await _read_listing(http, spec, base + path, "funding_intervals", parse, metrics)
        if hours is not None:
            changed = registry.set_funding_intervals(hours)
            log.info("instruments.funding_intervals", venue=spec.venue, changed=changed)
    if cache_dir is not None:
        save_instruments(Path(cache_dir) / f"{spec.venue}.json", registry.all())
    log.info("instruments.refreshed", venue=spec.venue, count=n)
    return n


async def _read_listing(
    http: aiohttp.ClientSession,
    spec: VenueSpec,
    url: str,
    what: str,
    parse: Callable[[bytes], _T],
    metrics: MonitorMetrics | None,
    data: bytes | None = None,
) -> _T | None:
    """GET (POST with ``data``) one listing and parse it; None (logged) when either fails."""
    answer = await fetch(
        http, url, venue=spec.venue, what=what, metrics=metrics, data=data,
        headers={"Content-Type": "application/json"} if data is not None else None,
        timeout_s=15.0,
    )  # fmt: skip
    if not answer.ok:
        log.warning("instruments.refresh_failed", venue=spec.venue, what=what,
                    outcome=answer.outcome)  # fmt: skip
        return None
    try:
        return parse(answer.body)
    except (ValueError, TypeError, KeyError) as e:
        log.warning("instruments.refresh_failed", venue=spec.venue, what=what,
                    error=type(e).__name__)  # fmt: skip
        return None
