"""Scenarios: deterministic streams of normalized events that the simulator plays.

A scenario is generated from a seed; the simulator's venues encode its events into each venue's
native frames, so a scenario exercises the real connections and parsers end to end.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from monitor.simulator.server import ExchangeSimulator
from streams.events import Event

__all__ = ["Scenario", "ScenarioInfo", "play"]

_NS = 1_000_000_000


@dataclass(frozen=True)
class ScenarioInfo:
    """What a scenario covers.

    Attributes:
        name: the id used by ``--scenario``.
        description: one paragraph for the CLI and the report.
        start_ns: first event time.
        end_ns: last event time.
        symbols: venue id → venue symbols the daemon must subscribe to.
        worst_ns: the episode's worst point (for lead times in backtests), if any.
    """

    name: str
    description: str
    start_ns: int
    end_ns: int
    symbols: dict[str, list[str]]
    worst_ns: int | None = None
    notes: list[str] = field(default_factory=list)


class Scenario(Protocol):
    """A seeded, deterministic event stream."""

    info: ScenarioInfo

    def events(self) -> Iterator[Event]:
        """Yield the events in ``ts_event`` order."""
        ...


async def play(
    sim: ExchangeSimulator,
    events: Iterator[Event],
    start_ns: int,
    speed: float,
    on_progress: Callable[[int], None] | None = None,
) -> int:
    """Publish ``events`` into ``sim`` at ``speed`` × event time; return how many were published.

    ``speed`` 60 plays one hour of event time in one minute; ``speed <= 0`` plays as fast as
    possible (yielding to the loop every few hundred events).
    """
    t0 = time.monotonic()
    n = 0
    for ev in events:
        if speed > 0:
            due = (ev.ts_event - start_ns) / _NS / speed
            wait = due - (time.monotonic() - t0)
            if wait > 0.002:
                await asyncio.sleep(wait)
        elif n % 256 == 0:
            await asyncio.sleep(0)
        sim.publish(ev)
        n += 1
        if on_progress is not None:
            on_progress(ev.ts_event)
    return n
