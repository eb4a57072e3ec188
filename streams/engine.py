"""Route events to processors and collect their signals, in event time.

Used by the daemon, ``riskmon replay`` and ``riskmon backtest`` alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from streams.events import Event, FeedStatus
from streams.processors.base import Processor
from streams.signals import Signal
from streams.units import NS_PER_DAY, NS_PER_HOUR, NS_PER_MINUTE, NS_PER_SECOND

__all__ = ["StreamEngine"]

_IDLE_MINUTE_STEP_NS = 10 * NS_PER_MINUTE  # after 10 min without market events, tick each minute
_IDLE_HOUR_STEP_NS = NS_PER_DAY  # after a day, every hour


class StreamEngine:
    """Feed events to every processor and drive their ticks from event time.

    A processor may declare ``event_types`` (a tuple of event classes); it is then only handed
    events of those classes. Processors without it receive every event.

    Args:
        processors: the processors, called in order.
        tick_ns: how often (in event time) :meth:`on_tick` runs on every processor. Ticks are
            aligned to multiples of ``tick_ns`` so that replays are deterministic.
    """

    def __init__(self, processors: Sequence[Processor], tick_ns: int = NS_PER_SECOND) -> None:
        self.processors = list(processors)
        self.tick_ns = tick_ns
        self.watermark_ns = 0
        self._last_event_ns = 0
        self.last_tick_ns = 0
        self._next_tick_ns: int | None = None
        self._routes: dict[type, list[Processor]] = {}

    def _route(self, cls: type) -> list[Processor]:
        route: list[Processor] = []
        for p in self.processors:
            wanted = getattr(p, "event_types", None)
            if wanted is None or issubclass(cls, wanted):
                route.append(p)
        self._routes[cls] = route
        return route

    def on_event(self, event: Event) -> list[Signal]:
        """Process one event; run any ticks that event time has passed first.

        Market events move event time forward. :class:`FeedStatus` events do not: they are stamped
        with the local clock, which is not the market's clock when a capture or a scenario plays.
        """
        ts = event.ts_event
        market = not isinstance(event, FeedStatus)
        out = self.advance(ts) if ts > self.watermark_ns and market else []
        if market and ts > self._last_event_ns:
            self._last_event_ns = ts
            resume = (ts // self.tick_ns + 1) * self.tick_ns
            if self._next_tick_ns is not None and self._next_tick_ns > resume:
                self._next_tick_ns = resume  # events flow again: back to every tick
        route = self._routes.get(type(event))
        if route is None:
            route = self._route(type(event))
        for p in route:
            got = p.on_event(event)
            if got:
                out.extend(got)
        return out

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
