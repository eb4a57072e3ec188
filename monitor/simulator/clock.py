"""The scenario clock: one clock for a simulated run, shared by the simulator and the daemon.

A scenario plays historical time (e.g. November 2025) compressed by ``speed``. Live, the daemon's
clock is the wall clock and the market's timestamps agree with it; against the simulator, the
market's clock is the scenario's. :class:`ScenarioClock` is that clock as a
:class:`~streams.clock.Clock`: an affine map of the local monotonic clock onto scenario time,

    now_ns = anchor_ns + (monotonic_ns - anchor_mono_ns) * speed

so ``now_ns()`` and ``monotonic()`` run ``speed`` times faster than the wall clock and
``sleep(s)`` waits ``s`` scenario seconds (``s / speed`` of wall time). A paused clock stands
still and holds its sleepers (the simulator holds it at the scenario's start until a client
has subscribed; the demo pauses it while the daemon catches up and once the scenario is over).
The clock never goes back: a re-anchoring that would move it back holds it until scenario
time catches up.

The simulator owns the clock and serves it as JSON at ``GET /_control/clock``
(:meth:`ScenarioClock.payload`: scenario time, the wall time it was read at, speed, paused); the
daemon in simulator mode builds an unanchored clock (:meth:`ScenarioClock.follower`), anchors
it from that endpoint (:meth:`ScenarioClock.adopt`) before any feed starts and re-reads it every
second, and hands the same object to every feed, connection, watchdog, backfill pacer, the
pipeline's idle ticks and the alert service's grouping and delivery timers. See
docs/architecture.md (the clock) and docs/scenarios.md.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from streams.units import NS_PER_SECOND

__all__ = ["CLOCK_PATH", "ScenarioClock"]

#: where the simulator serves its clock
CLOCK_PATH = "/_control/clock"
#: how often a sleeper on a paused clock looks whether it runs again (wall seconds)
_PAUSED_POLL_S = 0.05


class ScenarioClock:
    """Scenario time as an affine map of the local monotonic clock.

    Args:
        anchor_ns: scenario time at the anchor.
        speed: scenario seconds per wall second (> 0).
        paused: start paused (standing at ``anchor_ns``).
        max_step_s: when set, wall time between two reads beyond this many seconds is not
            counted (an event-loop stall is a pause of scenario time, not a jump of
            ``stall × speed``). Only for a clock every party reads in one process (the demo):
            a process following another's clock must count all of it.
    """

    def __init__(
        self,
        anchor_ns: int = 0,
        speed: float = 1.0,
        *,
        paused: bool = False,
        max_step_s: float | None = None,
    ) -> None:
        if speed <= 0:
            raise ValueError(f"speed must be > 0, got {speed}")
        self.speed = speed
        self.paused = paused
        self.anchored = True
        self._anchor_ns = anchor_ns
        self._anchor_mono = time.monotonic_ns()
        self._last_mono = self._anchor_mono
        self._max_step_ns = None if max_step_s is None else int(max_step_s * NS_PER_SECOND)
        self._last_ns = anchor_ns

    @classmethod
    def follower(cls) -> ScenarioClock:
        """An unanchored clock that will follow a simulator's (see :meth:`adopt`)."""
        clock = cls(0, 1.0, paused=True)
        clock.anchored = False
        return clock

    # ---------------------------------------------------------------- Clock protocol

    def now_ns(self) -> int:
        """Scenario time in Unix ns (never less than a value returned before)."""
        if self.paused:
            now = self._anchor_ns
        else:
            mono = time.monotonic_ns()
            gap = mono - self._last_mono
            if self._max_step_ns is not None and gap > self._max_step_ns:
                self._anchor_mono += gap - self._max_step_ns  # the stall is not counted
            self._last_mono = mono
            now = self._anchor_ns + int((mono - self._anchor_mono) * self.speed)
        if now > self._last_ns:
            self._last_ns = now
        return self._last_ns

    def monotonic(self) -> float:
        """``now_ns()`` in seconds (scenario seconds: intervals are in scenario time)."""
        return self.now_ns() / NS_PER_SECOND

    async def sleep(self, seconds: float) -> None:
        """Wait until ``seconds`` of scenario time have passed (``seconds / speed`` of wall time
        while the clock runs; a paused clock holds its sleepers)."""
        deadline = self.now_ns() + int(max(0.0, seconds) * NS_PER_SECOND)
        await asyncio.sleep(0)
        while (left := deadline - self.now_ns()) > 0:
            wall = _PAUSED_POLL_S if self.paused else left / NS_PER_SECOND / self.speed
            if self._max_step_ns is not None:  # a sleeper is not a stall: read within a step
                wall = min(wall, self._max_step_ns / NS_PER_SECOND)
            await asyncio.sleep(wall)

    # ---------------------------------------------------------------- control (the simulator)

    def pause(self) -> None:
        """Stand still at the current scenario time."""
        if not self.paused:
            self._anchor_ns = self.now_ns()
            self.paused = True

    def resume(self) -> None:
        """Run again from where the clock stands."""
        if self.paused:
            self._anchor_ns = self.now_ns()
            self._anchor_mono = self._last_mono = time.monotonic_ns()
            self.paused = False

    def payload(self) -> dict[str, Any]:
        """The clock as served at :data:`CLOCK_PATH`."""
        return {
            "now_ns": self.now_ns(),
            "wall_ns": time.time_ns(),
            "speed": self.speed,
            "paused": self.paused,
        }

    # ---------------------------------------------------------------- following (the daemon)

    def adopt(self, payload: dict[str, Any]) -> None:
        """Re-anchor on a simulator's :meth:`payload` (read at its ``wall_ns``).

        The time that passed on the wall clock since the simulator read its clock is added at
        its speed (both sides on one machine, or NTP-synchronised). The clock never goes back.

        Raises:
            KeyError, TypeError, ValueError: not a clock payload.
        """
        speed = float(payload["speed"])
        if speed <= 0:
            raise ValueError(f"speed must be > 0, got {speed}")
        now_ns = int(payload["now_ns"])
        paused = bool(payload["paused"])
        if not paused:
            now_ns += int(max(0, time.time_ns() - int(payload["wall_ns"])) * speed)
        self.speed = speed
        self.paused = paused
        self._anchor_ns = now_ns
        self._anchor_mono = self._last_mono = time.monotonic_ns()
        if not self.anchored:
            self._last_ns = now_ns
        self.anchored = True
