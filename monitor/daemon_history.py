"""The daemon's history: what to backfill at start, loading it beside the feeds, and its log.

Without saved state the daemon loads the venues' REST history (:mod:`monitor.backfill`) beside
the running feeds; with saved state only the gap, from the snapshot's newest event time (the
restored watermark) to the run's clock, when that gap exceeds :data:`GAP_MIN_S` (and not
:data:`GAP_MAX_S`). A gap's history is seeded once event time has passed it: the ticks through
the downtime record its hours as without values, so history seeded before them would be
overwritten.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

import aiohttp
import structlog

from monitor.backfill import backfill_venue, seed_targets
from monitor.capture import CaptureWriter
from monitor.feed import VenueFeed
from monitor.metrics import MonitorMetrics
from streams.clock import Clock
from streams.processors.base import Processor
from streams.processors.open_interest import OpenInterestProcessor
from streams.units import NS_PER_SECOND

__all__ = [
    "GAP_MAX_S",
    "GAP_MIN_S",
    "backfill_feeds",
    "feed_symbols",
    "for_each_feed",
    "history_needed",
    "log_rejected",
]

#: event-time seconds between a restored snapshot's newest event and now above which the daemon
#: backfills the gap from the venues' REST history (their history is hourly or coarser, so a
#: shorter gap has nothing to load)
GAP_MIN_S = 120.0
#: a longer gap outlives every history window (the 90-day high): it is not backfilled (the
#: restored event time is that far from the clock only when the two disagree, as in tests that
#: replay old events on the wall clock)
GAP_MAX_S = 90 * 86_400.0


def history_needed(
    restored: bool, watermark_ns: int, now_ns: int, log: structlog.typing.FilteringBoundLogger
) -> tuple[bool, int | None]:
    """Whether to backfill, and from which event time (None: the whole history)."""
    if not restored or watermark_ns <= 0:
        return True, None
    gap_ns = now_ns - watermark_ns
    if gap_ns <= GAP_MIN_S * NS_PER_SECOND:
        return False, None
    log.info("backfill.gap", since_ns=watermark_ns, gap_s=round(gap_ns / NS_PER_SECOND))
    if gap_ns > GAP_MAX_S * NS_PER_SECOND:
        return False, None
    return True, watermark_ns


async def backfill_feeds(
    feeds: Sequence[VenueFeed],
    processors: Sequence[Processor],
    http: aiohttp.ClientSession,
    *,
    clock: Clock,
    metrics: MonitorMetrics,
    watermark: Callable[[], int],
    log: structlog.typing.FilteringBoundLogger,
    since_ns: int | None = None,
    capture: CaptureWriter | None = None,
) -> None:
    """Seed the price and OI processors from every feed's venue history (all of it, or after
    ``since_ns``). Never raises: a venue that fails is logged and the others go on."""
    targets = seed_targets(processors)

    async def event_time_past(ts_ns: int) -> None:
        while watermark() < ts_ns:
            await clock.sleep(1.0)

    async def one(f: VenueFeed) -> None:
        await backfill_venue(
            f.spec,
            f.endpoints,
            feed_symbols(f),
            f.registry,
            http,
            targets,
            clock=clock,
            metrics=metrics,
            since_ns=since_ns,
            capture=capture,
            seed_after=event_time_past,
        )

    await for_each_feed(feeds, one, log, "backfill.venue_failed")


def feed_symbols(feed: VenueFeed) -> list[str]:
    """The symbols whose history a feed loads: those of its streams."""
    return sorted({s.symbol for s in feed.streams})


async def for_each_feed(
    feeds: Sequence[VenueFeed],
    run: Callable[[VenueFeed], Awaitable[None]],
    log: structlog.typing.FilteringBoundLogger,
    failed: str,
) -> None:
    """Run ``run(feed)`` for every feed at once; one that fails is logged as ``failed`` (with
    its venue and error) and the others go on. Never raises."""
    results = await asyncio.gather(*(run(f) for f in feeds), return_exceptions=True)
    for feed, r in zip(feeds, results, strict=True):
        if isinstance(r, Exception):
            log.error(failed, venue=feed.venue, error=repr(r))


def log_rejected(
    processors: Sequence[Processor], logged: int, log: structlog.typing.FilteringBoundLogger
) -> int:
    """Log the histories the OI processor rejected since ``logged``; return the new count."""
    for p in processors:
        if isinstance(p, OpenInterestProcessor):
            for asset, venue, ratio in p.rejected_backfills[logged:]:
                log.warning("backfill.rejected", asset=asset, venue=venue, live_to_history=ratio)
            return len(p.rejected_backfills)
    return logged
