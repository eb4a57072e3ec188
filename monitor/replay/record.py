"""``riskmon capture``: record live frames (and polled REST bodies) to a capture file.

Each configured venue runs its real :class:`~monitor.feed.VenueFeed` with a
:class:`~monitor.capture.CaptureWriter` and an event sink that discards: the file holds exactly
the frames the daemon would have parsed, ready for ``riskmon replay`` and ``riskmon backtest``.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Sequence
from pathlib import Path

import aiohttp
from prometheus_client import CollectorRegistry

from monitor.capture import CaptureWriter
from monitor.listing_refresh import refresh_listings
from monitor.metrics import MonitorMetrics
from monitor.settings import Settings
from monitor.wiring import build_feed
from streams.events import Event
from streams.supervisor import TaskSupervisor

__all__ = ["run_capture"]


async def _discard(_: Event) -> None:
    return None


async def run_capture(
    settings: Settings, venues: Sequence[str], out: Path, duration_s: float | None
) -> int:
    """Record frames of ``venues`` to ``out`` until ``duration_s`` passes or SIGINT/SIGTERM."""
    writer = CaptureWriter(out)
    metrics = MonitorMetrics(CollectorRegistry())
    feeds = [build_feed(settings, vid, _discard, metrics, capture=writer) for vid in venues]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        async with aiohttp.ClientSession() as http:
            await refresh_listings(feeds, http)
            sup = TaskSupervisor(metrics.registry)
            tasks = [
                asyncio.create_task(f.run(http, sup), name=f"capture:{f.venue}") for f in feeds
            ]
            flusher = asyncio.create_task(_flush_every(writer, 1.0), name="capture:flush")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), duration_s)
            for t in [*tasks, flusher]:
                t.cancel()
            await asyncio.gather(*tasks, flusher, return_exceptions=True)
    finally:
        writer.close()
    return writer.lines


async def _flush_every(writer: CaptureWriter, period_s: float) -> None:
    while True:
        await asyncio.sleep(period_s)
        writer.flush()
