"""The daemon's side of the simulator's scenario clock (docs/architecture.md, the clock).

``riskmon run`` with ``simulator:`` set builds one unanchored :class:`ScenarioClock`
(:func:`monitor.wiring.run_clock`). Before any feed starts the daemon anchors it on the
simulator's ``GET /_control/clock`` (:meth:`ClockFollower.anchor`), then re-reads it every second
(:meth:`ClockFollower.follow`) so that pauses and restarts of the scenario reach every timer. A
simulator that plays no scenario answers 404, and one that does not answer in time is logged:
the clock then runs as the wall clock, at speed 1.

At ``speed`` s a hiccup of h wall seconds looks like s·h seconds of silence, so on a fast clock
:func:`apply_wall_floors` keeps the daemon's limits at least a few wall seconds long.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence

import aiohttp
import structlog

from monitor.feed import VenueFeed
from monitor.simulator.clock import CLOCK_PATH, ScenarioClock
from streams.engine import SkewLimits, StreamEngine
from streams.processors.feed_health import FeedHealthProcessor
from streams.units import NS_PER_SECOND

__all__ = [
    "SKEW_WALL_FLOOR_S",
    "WALL_FLOOR_S",
    "ClockFollower",
    "apply_feed_wall_floors",
    "apply_wall_floors",
]

#: on a scenario clock: wall seconds of silence before a connection stalls or idle ticks run
WALL_FLOOR_S = 1.0
#: on a scenario clock: an event's time may stray at least this many wall seconds (at speed s,
#: s times as many scenario seconds) before the engine drops it
SKEW_WALL_FLOOR_S = 10.0


def apply_wall_floors(
    speed: float, skew: SkewLimits, engine: StreamEngine, feeds: Sequence[VenueFeed]
) -> None:
    """Stall and stream-quiet limits, and the grace of feed ages, of at least
    :data:`WALL_FLOOR_S` wall seconds at ``speed``; event-time skew limits (configured:
    ``skew``) of at least :data:`SKEW_WALL_FLOOR_S`."""
    floor = WALL_FLOOR_S * speed
    skew_floor = round(SKEW_WALL_FLOOR_S * speed * NS_PER_SECOND)
    engine.skew = SkewLimits(
        max(skew.max_ahead_ns, skew_floor), max(skew.max_behind_ns, skew_floor)
    )
    if speed <= 1.0:
        return
    for p in engine.processors:
        if isinstance(p, FeedHealthProcessor):
            p.age_grace_ns = round(floor * NS_PER_SECOND)
    apply_feed_wall_floors(speed, feeds)


def apply_feed_wall_floors(speed: float, feeds: Sequence[VenueFeed]) -> None:
    """The feeds' part of :func:`apply_wall_floors` (the Kafka feeds role has no engine)."""
    if speed <= 1.0:
        return
    floor = WALL_FLOOR_S * speed
    for feed in feeds:
        feed.quiet_floor_s = max(feed.quiet_floor_s, floor)
        for conn in feed.connections:
            conn.stall_after_s = max(conn.stall_after_s, floor)


_READ_ERRORS = (aiohttp.ClientError, TimeoutError, ValueError, KeyError, TypeError)


class ClockFollower:
    """Keeps ``clock`` on the scenario clock the simulator serves at ``url``.

    Args:
        clock: the run's scenario clock (shared with the alert service).
        url: the simulator's clock endpoint (its base URL + ``CLOCK_PATH``).
        log: the logger of the events ``clock.simulator``, ``clock.wall``,
            ``clock.simulator_unreachable`` and ``clock.read_failed``.
    """

    def __init__(self, clock: ScenarioClock, url: str, log: structlog.BoundLogger) -> None:
        self.clock = clock
        self.url = url
        self._log = log

    @classmethod
    def of(
        cls, clock: object, simulator: str | None, log: structlog.BoundLogger
    ) -> ClockFollower | None:
        """The follower of the simulator's clock, when the run's ``clock`` is a scenario clock
        (``simulator:`` set, :func:`monitor.wiring.run_clock`); else None."""
        if not (isinstance(clock, ScenarioClock) and simulator):
            return None
        return cls(clock, simulator.rstrip("/") + CLOCK_PATH, log)

    async def read(self, http: aiohttp.ClientSession) -> bool:
        """Adopt the simulator's clock; False when it has none (no scenario: 404)."""
        async with http.get(self.url, timeout=aiohttp.ClientTimeout(total=5)) as resp:
            if resp.status == 404:
                return False
            resp.raise_for_status()
            self.clock.adopt(await resp.json())
            return True

    async def anchor(self, http: aiohttp.ClientSession, wait_s: float = 30.0) -> bool:
        """Anchor an unanchored clock on the simulator's; True to keep following it.

        A clock already anchored is left alone (False). A simulator that plays no scenario (404)
        leaves the clock on wall time; one that does not answer within ``wait_s`` too, with an
        error logged.
        """
        clock, url = self.clock, self.url
        if clock.anchored:
            return False
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_s
        error = ""
        while loop.time() < deadline:
            try:
                if await self.read(http):
                    self._log.info(
                        "clock.simulator", url=url, now_ns=clock.now_ns(), speed=clock.speed,
                        paused=clock.paused,
                    )  # fmt: skip
                    return True
                self._log.info("clock.wall", reason="the simulator plays no scenario", url=url)
                break
            except _READ_ERRORS as e:
                error = repr(e)
                await asyncio.sleep(0.5)
        else:
            self._log.error("clock.simulator_unreachable", url=url, error=error, fallback="wall")
        clock.adopt(
            {"now_ns": time.time_ns(), "wall_ns": time.time_ns(), "speed": 1.0, "paused": False}
        )
        return False

    async def follow(
        self,
        http: aiohttp.ClientSession,
        period_s: float = 1.0,
        on_read: Callable[[], None] | None = None,
    ) -> None:
        """Re-read the simulator's clock every ``period_s`` of wall time (pauses, restarts);
        ``on_read`` runs after each successful read (the speed may have changed)."""
        while True:
            await asyncio.sleep(period_s)
            try:
                if await self.read(http) and on_read is not None:
                    on_read()
            except _READ_ERRORS as e:
                self._log.debug("clock.read_failed", url=self.url, error=repr(e))
