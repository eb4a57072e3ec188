"""The run's clock, injected wherever time is read.

One clock per run (docs/architecture.md): the wall clock live, a :class:`ManualClock` in tests and
replays, the scenario's clock when the daemon runs against the simulator. Components never read
``time`` directly; they are handed a :class:`Clock`.

- ``now_ns()`` is the run's time in Unix nanoseconds (what ``ts_recv`` and timers use);
- ``monotonic()`` is seconds on a clock that never goes back, for intervals and deadlines;
- ``sleep(seconds)`` waits on that same clock, so a test that advances a manual clock wakes the
  sleepers whose deadline has come, without real sleeps.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from typing import Protocol, runtime_checkable

from streams.units import NS_PER_SECOND

__all__ = ["Clock", "ManualClock", "SystemClock", "wait_event"]


@runtime_checkable
class Clock(Protocol):
    """A source of time: the run's Unix time, a monotonic reading and a sleep on the same clock."""

    def now_ns(self) -> int:
        """The run's current time in ns since the epoch."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (only differences are meaningful)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` on this clock."""
        ...


class SystemClock:
    """The wall clock: ``time.time_ns``, ``time.monotonic`` and ``asyncio.sleep``."""

    def now_ns(self) -> int:
        """Return ``time.time_ns()``."""
        return time.time_ns()

    def monotonic(self) -> float:
        """Return ``time.monotonic()``."""
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        """``asyncio.sleep(seconds)``."""
        await asyncio.sleep(max(0.0, seconds))


class ManualClock:
    """A clock that moves only when told to: tests, replays and scenario-driven runs.

    ``advance``/``set`` move it forward (never back) and wake every ``sleep`` whose deadline has
    come, in deadline order. ``monotonic()`` is ``now_ns()`` in seconds.
    """

    def __init__(self, start_ns: int = 0) -> None:
        self._now_ns = start_ns
        self._sleepers: list[tuple[int, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def now_ns(self) -> int:
        """The clock's current time."""
        return self._now_ns

    def monotonic(self) -> float:
        """``now_ns()`` in seconds."""
        return self._now_ns / NS_PER_SECOND

    async def sleep(self, seconds: float) -> None:
        """Wait until the clock has been moved ``seconds`` past now."""
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        deadline = self._now_ns + int(seconds * NS_PER_SECOND)
        heapq.heappush(self._sleepers, (deadline, next(self._seq), fut))
        await fut

    def set(self, now_ns: int) -> None:
        """Move the clock to ``now_ns`` if that is later than now; wake the sleepers due."""
        if now_ns <= self._now_ns:
            return
        self._now_ns = now_ns
        while self._sleepers and self._sleepers[0][0] <= now_ns:
            _, _, fut = heapq.heappop(self._sleepers)
            if not fut.done():
                fut.set_result(None)

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds``."""
        self.set(self._now_ns + int(seconds * NS_PER_SECOND))

    @property
    def sleepers(self) -> int:
        """How many sleeps are waiting (including cancelled ones not yet reached)."""
        return sum(1 for _, _, f in self._sleepers if not f.done())


async def wait_event(event: asyncio.Event, clock: Clock, seconds: float, cap_s: float) -> bool:
    """Wait until ``event`` is set, ``seconds`` have passed on ``clock``, or ``cap_s`` of wall
    time (whichever comes first); return whether the event is set.

    Timers that wait for a deadline *or* a wake-up (the alert dispatcher's grouping, the
    deliverers' retries) use it: the deadline is on the run's clock (a scenario clock at 60x
    reaches a 30 s ``group_wait`` in half a wall second; a manual clock when a test advances it),
    the wall cap bounds the wait whatever the clock does.
    """
    if event.is_set():
        return True
    waiter = asyncio.ensure_future(event.wait())
    sleeper = asyncio.ensure_future(clock.sleep(max(0.0, seconds)))
    try:
        await asyncio.wait({waiter, sleeper}, timeout=cap_s, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for t in (waiter, sleeper):
            t.cancel()
    return event.is_set()
