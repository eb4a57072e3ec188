"""Instrument lists re-read from the venues' REST listings at start-up and every few hours.

:func:`refresh_listings` loads every feed's instrument list (:func:`monitor.feed.
refresh_instruments`: registry and disk cache), then subscribes the new listings where the
whole market is one subscription per listed symbol (Bybit ``allLiquidation.{symbol}``,
:meth:`monitor.feed.VenueFeed.add_listings`). Elsewhere a new listing needs no subscription:
the all-market streams already carry it, and its metadata now lets its frames be parsed.
:func:`refresh_forever` repeats that every ``Settings.instruments_refresh_s`` (default 6 h), so
a daemon picks up new listings without a restart. A failed refresh keeps what the registry had.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import aiohttp
import structlog

from monitor.feed import VenueFeed, refresh_instruments
from monitor.listings import listed_symbols
from monitor.metrics import MonitorMetrics
from streams.clock import Clock

__all__ = ["refresh_forever", "refresh_listings", "refresh_venue"]

log = structlog.get_logger(__name__)


async def refresh_venue(
    feed: VenueFeed,
    http: aiohttp.ClientSession,
    cache_dir: str | None = None,
    metrics: MonitorMetrics | None = None,
) -> list[str]:
    """Re-read one venue's instrument list; subscribe and return its new listed symbols."""
    before = set(listed_symbols(feed.registry))
    await refresh_instruments(feed.spec, feed.endpoints, feed.registry, http, cache_dir, metrics)
    new = [s for s in listed_symbols(feed.registry) if s not in before]
    if new:
        added = feed.add_listings(new)
        log.info(
            "instruments.new_listings",
            venue=feed.venue,
            count=len(new),
            symbols=new[:50],
            connections=added,
        )
    return new


async def refresh_listings(
    feeds: Sequence[VenueFeed],
    http: aiohttp.ClientSession,
    cache_dir: str | None = None,
    metrics: MonitorMetrics | None = None,
) -> dict[str, list[str]]:
    """Refresh every feed's instruments concurrently; the new listed symbols per venue."""
    results = await asyncio.gather(*(refresh_venue(f, http, cache_dir, metrics) for f in feeds))
    if metrics is not None:
        for f in feeds:
            metrics.instruments_listed.labels(venue=f.venue).set(len(f.registry))
    return {f.venue: new for f, new in zip(feeds, results, strict=True)}


async def refresh_forever(
    feeds: Sequence[VenueFeed],
    http: aiohttp.ClientSession,
    clock: Clock,
    interval_s: float,
    cache_dir: str | None = None,
    metrics: MonitorMetrics | None = None,
) -> None:
    """Refresh every ``interval_s`` of the run's clock until cancelled."""
    while True:
        await clock.sleep(interval_s)
        await refresh_listings(feeds, http, cache_dir, metrics)
