"""The in-process bus between the feeds and the pipeline: a bounded queue.

When full, quotes are dropped and counted (a fresher quote follows within milliseconds); every
other event waits for room, which back-pressures the websocket reader and, through TCP, the venue.
"""

from __future__ import annotations

import asyncio

from monitor.metrics import MonitorMetrics
from streams.events import EVENT_TYPE, Event, Quote

__all__ = ["InProcessBus"]


class InProcessBus:
    """A bounded FIFO of events with one consumer.

    Args:
        metrics: the daemon's metrics (drops, depth).
        maxsize: capacity in events.
    """

    def __init__(self, metrics: MonitorMetrics, maxsize: int = 100_000) -> None:
        self._queue: asyncio.Queue[Event] = asyncio.Queue(maxsize)
        self.metrics = metrics
        self.dropped = 0

    async def publish(self, event: Event) -> None:
        """Queue ``event``; drop it (counted) only if it is a quote and the bus is full."""
        if isinstance(event, Quote):
            try:
                self._queue.put_nowait(event)
            except asyncio.QueueFull:
                self.dropped += 1
                self.metrics.bus_dropped.labels(type=EVENT_TYPE[Quote]).inc()
            return
        await self._queue.put(event)

    async def get(self) -> Event:
        """Wait for the next event."""
        return await self._queue.get()

    def get_nowait(self) -> Event | None:
        """Return the next event if one is waiting."""
        try:
            return self._queue.get_nowait()
        except asyncio.QueueEmpty:
            return None

    def qsize(self) -> int:
        """Events waiting."""
        return self._queue.qsize()
