"""Route events to processors and collect their signals, in event time.

Used by the daemon, ``riskmon replay``, ``riskmon backtest`` and the Kafka workers alike.

Event time comes from the venues, so one event stamped far from the truth (a venue bug, clock
skew, a corrupt frame) could move every window and timer. The engine therefore drops, counts
(:attr:`StreamEngine.skewed`, by venue and direction) and logs a market event

- *ahead*: its ``ts_event`` is more than ``SkewLimits.max_ahead_ns`` after its own receive
  stamp ``ts_recv`` (nothing is received before it happens). Events without a receive stamp
  (``ts_recv`` 0: synthetic streams) are not checked this way;
- *behind*: its ``ts_event`` is more than ``SkewLimits.max_behind_ns`` before the watermark
  (the newest event time so far): too late to belong in any window, and it must not make a
  processor's newest value an old one.

The watermark never moves for a dropped event, and every other event is processed exactly as if
the dropped one had never arrived. ``FeedStatus`` events are local and never dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import structlog

from streams.events import Event, FeedStatus
from streams.processors.base import Processor
from streams.signals import Signal
from streams.units import NS_PER_DAY, NS_PER_HOUR, NS_PER_MINUTE, NS_PER_SECOND

__all__ = ["SkewLimits", "StreamEngine"]

log = structlog.get_logger(__name__)

_IDLE_MINUTE_STEP_NS = 10 * NS_PER_MINUTE  # after 10 min without market events, tick each minute
_IDLE_HOUR_STEP_NS = NS_PER_DAY  # after a day, every hour
_LOG_FIRST_N = 10
_LOG_EVERY = 1000

SkewDirection = Literal["ahead", "behind"]


@dataclass(frozen=True, slots=True)
class SkewLimits:
    """How far an event's time may stray before the engine drops it (see the module doc).

    Attributes:
        max_ahead_ns: ``ts_event`` may be at most this much after ``ts_recv`` (default 5 min).
        max_behind_ns: ``ts_event`` may be at most this much before the watermark (default 1 h).
    """

    max_ahead_ns: int = 300 * NS_PER_SECOND
    max_behind_ns: int = NS_PER_HOUR

    @classmethod
    def of_seconds(cls, ahead_s: float, behind_s: float) -> SkewLimits:
        """Limits from seconds."""
        return cls(round(ahead_s * NS_PER_SECOND), round(behind_s * NS_PER_SECOND))


class StreamEngine:
    """Feed events to every processor and drive their ticks from event time.

    A processor may declare ``event_types`` (a tuple of event classes); it is then only handed
    events of those classes. Processors without it receive every event.

    Args:
        processors: the processors, called in order.
        tick_ns: how often (in event time) :meth:`on_tick` runs on every processor. Ticks are
            aligned to multiples of ``tick_ns`` so that replays are deterministic.
        skew: how far an event's time may stray (see the module doc); the daemon widens it on a
            fast scenario clock.
    """

    def __init__(
        self,
        processors: Sequence[Processor],
        tick_ns: int = NS_PER_SECOND,
        skew: SkewLimits | None = None,
    ) -> None:
        self.processors = list(processors)
        self.tick_ns = tick_ns
        self.skew = skew or SkewLimits()
        #: events dropped for their time, by ``(venue, "ahead" | "behind")``
        self.skewed: dict[tuple[str, str], int] = {}
        self.watermark_ns = 0
        self._last_event_ns = 0
        self.last_tick_ns = 0
        self._next_tick_ns: int | None = None
        # per event class: the bound ``on_event`` of the processors it goes to, and whether it is
        # a market event (one that moves event time)
        self._routes: dict[type, tuple[list[Callable[[Event], list[Signal]]], bool]] = {}

    def _route(self, cls: type) -> tuple[list[Callable[[Event], list[Signal]]], bool]:
        route: list[Callable[[Event], list[Signal]]] = []
        for p in self.processors:
            wanted = getattr(p, "event_types", None)
            if wanted is None or issubclass(cls, wanted):
                route.append(p.on_event)
        entry = (route, not issubclass(cls, FeedStatus))
        self._routes[cls] = entry
        return entry

    def on_event(self, event: Event) -> list[Signal]:
        """Process one event; run any ticks that event time has passed first.

        Market events move event time forward. :class:`FeedStatus` events do not: they are stamped
        with the local clock, which is not the market's clock when a capture or a scenario plays.
        """
        # the hot path of every event: locals, and no call to advance() between tick boundaries
        cls = type(event)
        entry = self._routes.get(cls)
        if entry is None:
            entry = self._route(cls)
        route, market = entry
        out: list[Signal]
        if market:
            ts = event.ts_event
            skew = self.skew
            if 0 < event.ts_recv < ts - skew.max_ahead_ns:
                self._drop(event, "ahead", ts - event.ts_recv)
                return []
            wm = self.watermark_ns
            if ts < wm - skew.max_behind_ns:
                self._drop(event, "behind", wm - ts)
                return []
            nt = self._next_tick_ns
            if ts <= wm:
                out = []
            elif nt is not None and ts < nt:
                self.watermark_ns = ts  # no tick boundary crossed: what advance(ts) would do
                out = []
            else:
                out = self.advance(ts)
                nt = self._next_tick_ns
            if ts > self._last_event_ns:
                self._last_event_ns = ts
                tick = self.tick_ns
                resume = (ts // tick + 1) * tick
                if nt is not None and nt > resume:
                    self._next_tick_ns = resume  # events flow again: back to every tick
        else:
            out = []
        for on_event in route:
            got = on_event(event)
            if got:
                out.extend(got)
        return out

    def _drop(self, event: Event, direction: SkewDirection, by_ns: int) -> None:
        key = (event.venue, direction)
        n = self.skewed.get(key, 0) + 1
        self.skewed[key] = n
        if n <= _LOG_FIRST_N or n % _LOG_EVERY == 0:
            log.warning(
                "engine.event_time_skewed",
                venue=event.venue,
                symbol=event.symbol,
                type=type(event).__name__,
                direction=direction,
                by_s=round(by_ns / NS_PER_SECOND, 3),
                ts_event=event.ts_event,
                ts_recv=event.ts_recv,
                count=n,
            )

    def on_events(self, events: Iterable[Event]) -> list[Signal]:
        """Process several events in order."""
        out: list[Signal] = []
        for ev in events:
            out.extend(self.on_event(ev))
        return out

    def advance(self, now_ns: int) -> list[Signal]:
        """Move event time to ``now_ns``, running the tick boundaries crossed on the way.

        While events flow, every ``tick_ns`` boundary runs. Across a gap without market events
        the step widens (every minute after 10 minutes of silence, every hour after a day), so a
        restart after downtime or a sparse capture does not run 86,400 idle ticks per day. The
        steps depend only on event times, so replays stay deterministic.
        """
        out: list[Signal] = []
        if self._next_tick_ns is None:
            self._next_tick_ns = (now_ns // self.tick_ns + 1) * self.tick_ns
        while self._next_tick_ns <= now_ns:
            t = self._next_tick_ns
            for p in self.processors:
                out.extend(p.on_tick(t))
            self.last_tick_ns = t
            step = self._step(t)
            self._next_tick_ns = (t // step + 1) * step
        if now_ns > self.watermark_ns:
            self.watermark_ns = now_ns
        return out

    def _step(self, t: int) -> int:
        idle = t - self._last_event_ns
        if idle < _IDLE_MINUTE_STEP_NS:
            return self.tick_ns
        if idle < _IDLE_HOUR_STEP_NS:
            return max(self.tick_ns, NS_PER_MINUTE)
        return max(self.tick_ns, NS_PER_HOUR)

    def flush(self) -> list[Signal]:
        """Run the next tick boundary so that signals of the latest events are emitted.

        Use at the end of a replay: processors emit on ticks, and events after the last tick
        boundary would otherwise not show. Event time moves to that boundary.
        """
        if self._next_tick_ns is None:
            return []
        return self.advance(self._next_tick_ns)

    def snapshot(self) -> dict[str, Any]:
        """Return the state of the engine and every processor."""
        return {
            "watermark_ns": self.watermark_ns,
            "last_event_ns": self._last_event_ns,
            "last_tick_ns": self.last_tick_ns,
            "next_tick_ns": self._next_tick_ns,
            "processors": {p.name: p.snapshot() for p in self.processors},
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Restore a state written by :meth:`snapshot`; unknown processors are ignored."""
        self.watermark_ns = int(state.get("watermark_ns", 0))
        self._last_event_ns = int(state.get("last_event_ns", self.watermark_ns))
        self.last_tick_ns = int(state.get("last_tick_ns", 0))
        nt = state.get("next_tick_ns")
        self._next_tick_ns = None if nt is None else int(nt)
        saved = state.get("processors", {})
        for p in self.processors:
            if p.name in saved:
                p.restore(saved[p.name])
