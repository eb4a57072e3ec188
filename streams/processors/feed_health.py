"""Feed health from event arrivals and ``FeedStatus`` changes, in event time.

Signals (see ``docs/signals.md``):

- ``feed_age_seconds{venue,channel}``: seconds since the newest event of that venue and channel
  (channels: trades, liquidations, funding, open_interest, quotes), sampled every
  ``age_every_s`` (5 s) of event time: an age moves every second for every series, and
  staleness thresholds are tens of seconds, so per-second samples would only cost. Liquidations
  are sparse by design: a large age there is not staleness, read ``feed_up`` instead.
- ``feed_up{venue,channel}``: 1 when the last ``FeedStatus`` of that channel (``connection`` or a
  data channel) was connected, subscribed or rotating; 0 for connecting, stale, silent,
  disconnected, error.
- ``feed_gaps_total{venue}``: transitions of any channel of the venue from up to stale, silent,
  disconnected or error.
- ``feed_reconnects_total{venue}``: ``connected`` statuses of the venue's ``connection`` channel
  after its first one.
"""

from __future__ import annotations

from typing import Any

from streams.events import Event, FeedStatus, Funding, Liquidation, OpenInterest, Quote, Trade
from streams.processors._common import SeriesCache, SeriesValues
from streams.signals import Signal
from streams.units import NS_PER_SECOND

__all__ = ["FeedHealthProcessor"]

_CHANNEL: dict[type, str] = {
    Trade: "trades",
    Liquidation: "liquidations",
    Funding: "funding",
    OpenInterest: "open_interest",
    Quote: "quotes",
}
_UP = frozenset({"connected", "subscribed", "rotating"})
_GAP = frozenset({"stale", "silent", "disconnected", "error"})


class FeedHealthProcessor(SeriesValues):
    """Ages, up/down states, gaps and reconnects per venue."""

    name = "feed_health"

    def __init__(self, age_every_s: float = 5.0) -> None:
        self.age_every_ns = max(1, int(age_every_s * NS_PER_SECOND))
        #: event time an age does not count (0 live). On a clock running ``s`` times faster
        #: than the wall (a scenario at 500x), the daemon sets it to its wall floor times ``s``:
        #: a fraction of a wall second of delivery jitter is minutes of scenario time there
        self.age_grace_ns = 0
        self._age_slot = -1  # the age_every_ns slot of the last age emission
        # channel -> venue -> newest ts_event
        self._last: dict[str, dict[str, int]] = {c: {} for c in _CHANNEL.values()}
        self._up: dict[tuple[str, str], bool] = {}
        self._connected_once: set[str] = set()
        self._gaps: dict[str, int] = {}
        self._reconnects: dict[str, int] = {}
        self._series = SeriesCache()
        self._status_changed = True  # states and counters only move with FeedStatus events

    def on_event(self, event: Event) -> list[Signal]:
        """Record an arrival, or apply a status change; signals follow on the next tick."""
        channel = _CHANNEL.get(type(event))
        if channel is not None:
            last = self._last[channel]
            ts = event.ts_event
            if ts > last.get(event.venue, 0):
                last[event.venue] = ts
            return []
        if type(event) is FeedStatus:
            self._status(event)
            self._status_changed = True
        return []

    def _status(self, ev: FeedStatus) -> None:
        venue = ev.venue
        key = (venue, ev.channel)
        was = self._up.get(key)
        up = ev.status in _UP
        if ev.status in _GAP and was:
            self._gaps[venue] = self._gaps.get(venue, 0) + 1
        if ev.channel == "connection" and ev.status == "connected":
            if venue in self._connected_once:
                self._reconnects[venue] = self._reconnects.get(venue, 0) + 1
            else:
                self._connected_once.add(venue)
        self._gaps.setdefault(venue, 0)
        self._reconnects.setdefault(venue, 0)
        self._up[key] = up

    def on_tick(self, now_ns: int) -> list[Signal]:
        """Emit ages at ``now_ns`` and the changed states and counters."""
        out: list[Signal] = []
        emit = self._series.emit
        vc = ("venue", "channel")
        slot = now_ns // self.age_every_ns
        if slot != self._age_slot:
            self._age_slot = slot
            for channel, venues in self._last.items():
                for venue, ts in venues.items():
                    age = max(0.0, (now_ns - ts - self.age_grace_ns) / NS_PER_SECOND)
                    emit(out, "feed_age_seconds", vc, (venue, channel), age, now_ns)
        if not self._status_changed:
            return out
        self._status_changed = False
        for (venue, channel), up in self._up.items():
            emit(out, "feed_up", vc, (venue, channel), 1.0 if up else 0.0, now_ns)
        for venue, n in self._gaps.items():
            emit(out, "feed_gaps_total", ("venue",), (venue,), float(n), now_ns)
        for venue, n in self._reconnects.items():
            emit(out, "feed_reconnects_total", ("venue",), (venue,), float(n), now_ns)
        return out

    def snapshot(self) -> dict[str, Any]:
        """Return the complete state as JSON-safe data."""
        return {
            "last": {c: dict(v) for c, v in self._last.items()},
            "up": [[v, c, up] for (v, c), up in self._up.items()],
            "connected_once": sorted(self._connected_once),
            "gaps": dict(self._gaps),
            "reconnects": dict(self._reconnects),
            "age_slot": self._age_slot,
            "series": self._series.snapshot(),
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Load a state written by :meth:`snapshot`."""
        self._last = {c: {} for c in _CHANNEL.values()}
        for c, venues in state["last"].items():
            self._last[str(c)] = {str(v): int(ts) for v, ts in venues.items()}
        self._up = {(str(v), str(c)): bool(up) for v, c, up in state["up"]}
        self._connected_once = {str(v) for v in state["connected_once"]}
        self._gaps = {str(v): int(n) for v, n in state["gaps"].items()}
        self._reconnects = {str(v): int(n) for v, n in state["reconnects"].items()}
        self._age_slot = int(state.get("age_slot", -1))
        self._series.restore(state["series"])
        self._status_changed = True
