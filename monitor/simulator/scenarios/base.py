"""Scenarios: deterministic streams of normalized events that the simulator plays.

A scenario is generated from a seed; the simulator's venues encode its events into each venue's
native frames, so a scenario exercises the real connections and parsers end to end.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import structlog

from monitor.instruments import Instrument
from monitor.simulator.base import SimVenue
from monitor.simulator.server import ExchangeSimulator
from streams.events import Event
from streams.units import NS_PER_SECOND

__all__ = [
    "Backfill",
    "Scenario",
    "ScenarioInfo",
    "install_instruments",
    "play",
    "seed_backfill",
]

log = structlog.get_logger(__name__)


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
        notes: amounts, scaling and caveats, one line each (the report prints them).
        channels: venue id → channels the scenario publishes (the demo subscribes to these
            only); a venue absent here gets every channel it has.
        extra_instruments: venue id → instruments the scenario trades that the venue's packaged
            snapshot lacks (installed into the simulator and the parsers' registries).
        demo_speed: the ``--speed`` that plays the scenario in about two minutes.
        backfill_start_ns: where the backfilled history (:meth:`Scenario.backfill`) begins.
        silent: ``(venue, start_ns, end_ns)``: windows in which a venue sends nothing (a
            glitch the scenario models).
    """

    name: str
    description: str
    start_ns: int
    end_ns: int
    symbols: dict[str, list[str]]
    worst_ns: int | None = None
    notes: list[str] = field(default_factory=list)
    channels: dict[str, list[str]] = field(default_factory=dict)
    extra_instruments: dict[str, list[Instrument]] = field(default_factory=dict)
    demo_speed: float = 60.0
    backfill_start_ns: int | None = None
    silent: list[tuple[str, int, int]] = field(default_factory=list)


@dataclass(frozen=True)
class Backfill:
    """History a daemon loads on start-up (REST klines and open-interest history).

    The processors keep a 90-day rolling price high and a 60-day open-interest peak; a scenario
    hands that history over here instead of streaming weeks of events (the stream engine ticks
    once per second of event time, so weeks of ticks would take many minutes).

    Attributes:
        price: asset → ``(ts_ns, price)`` points (hourly, per minute over the last day).
        open_interest: ``(asset, venue)`` → ``(ts_ns, usd)`` points, same cadence.
    """

    price: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    open_interest: dict[tuple[str, str], list[tuple[int, float]]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.price or self.open_interest)


class Scenario(Protocol):
    """A seeded, deterministic event stream."""

    info: ScenarioInfo

    def events(self) -> Iterator[Event]:
        """Yield the events in ``ts_event`` order."""
        ...

    def backfill(self) -> Backfill:
        """The history before ``info.start_ns`` that a daemon would load on start-up."""
        ...


def seed_backfill(processors: Sequence[Any], backfill: Backfill) -> int:
    """Seed the price and open-interest processors with ``backfill``; return points seeded.

    Processors are found by name (``price``, ``open_interest``) and must offer ``seed_history``.
    """
    by_name = {getattr(p, "name", ""): p for p in processors}
    n = 0
    price = by_name.get("price")
    if price is not None:
        for asset, points in backfill.price.items():
            price.seed_history(asset, "backfill", points)
            n += len(points)
    oi = by_name.get("open_interest")
    if oi is not None:
        for (asset, venue), points in backfill.open_interest.items():
            oi.seed_history(asset, venue, points)
            n += len(points)
    log.info("scenario.backfill_seeded", points=n)
    return n


def install_instruments(sim: SimVenue, instruments: Sequence[Instrument]) -> None:
    """Teach a simulated venue instruments its packaged snapshot lacks.

    The venue's REST instrument list is built from its ``instruments`` table, so the daemon's
    instrument refresh picks the additions up.
    """
    sim.add_instruments(instruments)


async def play(
    sim: ExchangeSimulator,
    events: Iterator[Event],
    start_ns: int,
    speed: float,
    on_progress: Callable[[int], None] | None = None,
    lag_ns: Callable[[int], int] | None = None,
    max_lag_s: float = 2.0,
) -> int:
    """Publish ``events`` into ``sim`` at ``speed`` × event time; return how many were published.

    ``speed`` 60 plays one hour of event time in one minute; ``speed <= 0`` plays as fast as
    possible (yielding to the loop every few hundred events).

    ``lag_ns(ts)`` (optional) says how far, in event time, the consumer is behind an event at
    ``ts``; while that exceeds ``max_lag_s`` of wall time at ``speed`` the player waits and then
    shifts its clock, so a slow consumer slows the playback instead of overflowing queues.
    """
    t0 = time.monotonic()
    n = 0
    max_lag_ns = int(max_lag_s * max(speed, 1.0) * NS_PER_SECOND)
    for ev in events:
        if speed > 0:
            due = (ev.ts_event - start_ns) / NS_PER_SECOND / speed
            wait = due - (time.monotonic() - t0)
            if wait > 0.002:
                await asyncio.sleep(wait)
        elif n % 256 == 0:
            await asyncio.sleep(0)
        if lag_ns is not None and n % 64 == 0:
            waited = time.monotonic()
            while lag_ns(ev.ts_event) > max_lag_ns:  # noqa: ASYNC110 - polling a plain number
                await asyncio.sleep(0.01)
            t0 += time.monotonic() - waited
        sim.publish(ev)
        n += 1
        if on_progress is not None:
            on_progress(ev.ts_event)
    return n
