"""Keep one websocket connection of a venue alive for months.

A :class:`WebSocketConnection` owns one :class:`~monitor.venues.base.ConnectionPlan`: it connects,
sends the subscribe frames (again after every reconnect), keeps the venue's heartbeat, answers
server heartbeats, rotates before the venue's connection-lifetime limit, declares the connection
stalled when it delivers no data for longer than its busiest channel allows, and reconnects with
capped, jittered exponential backoff. Every state change is reported through ``on_status``.

Time comes from the injected :class:`~streams.clock.Clock` (the wall clock by default): receive
stamps (``ts_recv``), the stall and lifetime watchdog, the heartbeat and the reconnect backoff all
read and sleep on it, so a run can hand every connection one run clock and tests drive the
timers with a :class:`~streams.clock.ManualClock`. The websocket I/O itself (handshake, open and
close timeouts, protocol pings) and the gap between subscribe frames, which respects the venue's
incoming-message limit, stay on the event loop's real time.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import Literal

import structlog
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from monitor.venues.base import ConnectionPlan, VenueSpec
from streams.backoff import Backoff
from streams.clock import Clock, SystemClock
from streams.units import NS_PER_SECOND

__all__ = ["ConnState", "FrameHandler", "StatusHandler", "WebSocketConnection"]

log = structlog.get_logger(__name__)

ConnState = Literal["connecting", "connected", "subscribed", "stale", "disconnected", "rotating"]
#: ``(connection_key, frame, ts_recv_ns) -> number of events it produced``
FrameHandler = Callable[[str, str, int], Awaitable[int]]
#: ``(connection_key, state, reason)``
StatusHandler = Callable[[str, ConnState, str], Awaitable[None]]

DEFAULT_QUIET_S = 60.0
SUBSCRIBE_GAP_S = 0.25  # stay well under the venues' incoming-message limits (Binance: 10/s)
ROTATE_MARGIN = 0.96  # rotate at 96% of the venue's lifetime limit (23 h of Binance's 24 h)


#: wall seconds a watchdog's wake-up may be late before the event loop counts as stalled
LOOP_STALL_S = 0.25


def loop_was_stalled(slept: float, step: float, wall: float) -> bool:
    """Whether a watchdog's ``sleep(step)`` overran because the event loop itself was stalled.

    ``slept`` is the time that passed on the run's clock, ``wall`` on the loop's. After a stall
    (a busy machine, a GC pause) frames may be waiting unread in the socket: judging silence
    then would report a live connection stalled, the more so on a fast scenario clock where a
    wall second is a minute. True when the clock overran the step twice over and at least
    :data:`LOOP_STALL_S` of wall time went by (a manual clock moved by a test is not a stall).
    """
    return slept > 2 * step and wall > LOOP_STALL_S


async def watch_sleep(clock: Clock, step: float) -> float | None:
    """A watchdog's nap: sleep ``step`` on ``clock``; the clock's ``monotonic()`` after it, or
    None when the event loop itself was stalled meanwhile (:func:`loop_was_stalled`: what waits
    unread runs first, nothing is judged on this round)."""
    loop = asyncio.get_running_loop()
    before, wall = clock.monotonic(), loop.time()
    await clock.sleep(step)
    now = clock.monotonic()
    return None if loop_was_stalled(now - before, step, loop.time() - wall) else now


class _Stalled(Exception):
    pass


class _Rotate(Exception):
    pass


class _Requested(Exception):
    pass


class WebSocketConnection:
    """One venue connection, reconnected forever until cancelled.

    Args:
        spec: the venue.
        plan: what to connect to and subscribe.
        on_frame: called with every text frame; returns the number of events parsed from it.
        on_status: called on every state change.
        backoff: reconnect delays.
        reset_after_s: a connection that stayed up this long resets the backoff.
        open_timeout_s: TCP + TLS + websocket handshake timeout.
        ping_interval_s: protocol ping interval (detects dead TCP peers); None to disable.
        ping_timeout_s: how long to wait for the pong.
        stall_after_s: no data frame for this long ⇒ reconnect; default: the smallest
            ``quiet_s`` of the plan's channels.
        rng: randomness for the jitter (seed it in tests).
        clock: the run's clock for receive stamps, watchdog, heartbeat and backoff (default:
            the wall clock).
    """

    def __init__(
        self,
        spec: VenueSpec,
        plan: ConnectionPlan,
        on_frame: FrameHandler,
        on_status: StatusHandler,
        *,
        backoff: Backoff | None = None,
        reset_after_s: float = 30.0,
        open_timeout_s: float = 10.0,
        ping_interval_s: float | None = 20.0,
        ping_timeout_s: float = 20.0,
        stall_after_s: float | None = None,
        rng: random.Random | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.spec = spec
        self.plan = plan
        self.on_frame = on_frame
        self.on_status = on_status
        self.backoff = backoff or Backoff()
        self.reset_after_s = reset_after_s
        self.open_timeout_s = open_timeout_s
        self.ping_interval_s = ping_interval_s
        self.ping_timeout_s = ping_timeout_s
        quiet = [spec.quiet_s.get(s.channel, DEFAULT_QUIET_S) for s in plan.streams]
        self.stall_after_s = (
            stall_after_s if stall_after_s is not None else min(quiet, default=DEFAULT_QUIET_S)
        )
        self.rng = rng or random.Random()
        self.clock: Clock = clock or SystemClock()
        self.state: ConnState = "disconnected"
        self.connects = 0
        self.attempt = 0
        self.frames = 0
        self._last_frame = 0.0
        self._last_data = 0.0
        self._ws: ClientConnection | None = None
        self._log = log.bind(venue=spec.venue, connection=plan.key)

    async def _set(self, state: ConnState, reason: str = "") -> None:
        self.state = state
        await self.on_status(self.plan.key, state, reason)

    async def run(self) -> None:
        """Connect, subscribe, read; reconnect on any failure. Returns only when cancelled."""
        while True:
            reason = await self._session()
            await self._set("disconnected", reason)
            if reason.startswith("rotation"):
                self.attempt = 0
                continue
            delay = self.backoff.delay(self.attempt, self.rng)
            self.attempt += 1
            self._log.info(
                "feed.reconnect_wait", delay_s=round(delay, 3), attempt=self.attempt, reason=reason
            )
            await self.clock.sleep(delay)

    async def _session(self) -> str:
        """Run one connection; return why it ended."""
        await self._set("connecting")
        started = self.clock.monotonic()
        try:
            async with connect(
                self.plan.url,
                open_timeout=self.open_timeout_s,
                ping_interval=self.ping_interval_s,
                ping_timeout=self.ping_timeout_s,
                close_timeout=2.0,
                max_size=2**24,
                max_queue=256,
                compression=None,
            ) as ws:
                self._ws = ws
                self.connects += 1
                await self._set("connected")
                for i, frame in enumerate(self.plan.subscribe):
                    if i:
                        await asyncio.sleep(SUBSCRIBE_GAP_S)  # the venue's real-time rate
                    await ws.send(self._stamped(frame))
                self._last_frame = self._last_data = self.clock.monotonic()
                await self._set("subscribed")
                return await self._serve(ws)
        except asyncio.CancelledError:
            raise
        except _Rotate:
            return "rotation"
        except _Requested:
            return "rotation: requested by the server"
        except _Stalled:
            return "stalled"
        except ConnectionClosed as e:
            return f"closed: code {e.rcvd.code if e.rcvd else 1006}"
        except InvalidURI:
            return "invalid url"
        except InvalidHandshake as e:
            return f"handshake failed: {type(e).__name__}"
        except (OSError, TimeoutError) as e:
            return f"connect failed: {type(e).__name__}"
        finally:
            self._ws = None
            if self.clock.monotonic() - started >= self.reset_after_s:
                self.attempt = 0

    async def _serve(self, ws: ClientConnection) -> str:
        tasks = [
            asyncio.create_task(self._read(ws), name=f"{self.plan.key}-read"),
            asyncio.create_task(self._watch(), name=f"{self.plan.key}-watch"),
        ]
        if self.spec.heartbeat.interval_s:
            tasks.append(asyncio.create_task(self._beat(ws), name=f"{self.plan.key}-beat"))
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for t in done:
                t.result()  # re-raise the reason the session ended
            return "server closed"
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _read(self, ws: ClientConnection) -> None:
        respond = self.spec.respond
        reconnect_on = self.spec.reconnect_on
        async for message in ws:
            ts = self.clock.now_ns()
            now = self.clock.monotonic()
            self._last_frame = now
            self.frames += 1
            frame = message if isinstance(message, str) else message.decode("utf-8", "replace")
            if respond is not None:
                reply = respond(frame)
                if reply is not None:
                    await ws.send(reply)
            if reconnect_on is not None and reconnect_on(frame):
                await self._set("rotating", "the server asked for a reconnect")
                raise _Requested
            if await self.on_frame(self.plan.key, frame, ts) > 0:
                self._last_data = now
                if self.state == "stale":
                    await self._set("subscribed", "data resumed")

    async def _watch(self) -> None:
        """Stall and lifetime watchdog."""
        lifetime = self.spec.lifetime_s
        opened = self.clock.monotonic()
        step = max(0.05, min(1.0, self.stall_after_s / 4))
        while True:
            now = await watch_sleep(self.clock, step)
            if now is None:
                continue  # frames may wait unread: let the reader run before judging silence
            silent = now - self._last_data
            if silent > self.stall_after_s:
                await self._set("stale", f"no data for {silent:.1f}s")
                self._log.warning("feed.stalled", silent_for_s=round(silent, 1))
                raise _Stalled
            if lifetime is not None and now - opened > lifetime * ROTATE_MARGIN:
                await self._set("rotating", "connection lifetime limit")
                self._log.info("feed.rotating", lifetime_s=lifetime)
                raise _Rotate

    def _stamped(self, frame: str) -> str:
        """``frame`` with its send time, on venues whose requests carry one (``spec.stamp``)."""
        stamp = self.spec.stamp
        return frame if stamp is None else stamp(frame, self.clock.now_ns() / NS_PER_SECOND)

    async def _beat(self, ws: ClientConnection) -> None:
        hb = self.spec.heartbeat
        assert hb.interval_s is not None
        while True:
            await self.clock.sleep(hb.interval_s if not hb.idle_only else hb.interval_s / 5)
            if hb.idle_only and self.clock.monotonic() - self._last_frame < hb.interval_s:
                continue
            if hb.message is None:
                await ws.ping()
            else:
                await ws.send(self._stamped(hb.message))
            if hb.idle_only:
                self._last_frame = self.clock.monotonic()

    async def drop(self) -> None:
        """Close the current connection (tests, admin); it reconnects."""
        if self._ws is not None:
            await self._ws.close()
