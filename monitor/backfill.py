"""Start-up history: REST klines and open-interest history seed the processors.

Run once when the daemon starts without saved state, so that the 60-day OI peak and the 90-day
price high mean something from the first minute. Failures are logged and skipped; the daemon
starts regardless.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import aiohttp
import structlog

from monitor.instruments import InstrumentRegistry
from monitor.venues.base import BackfillRequest, VenueEndpoints, VenueSpec

__all__ = ["Seedable", "backfill_venue"]

log = structlog.get_logger(__name__)

CONCURRENCY = 4


@runtime_checkable
class Seedable(Protocol):
    """A processor that accepts history (the OI and price processors)."""

    def seed_history(self, asset: str, venue: str, points: Sequence[tuple[int, float]]) -> None:
        """Load ``(ts_ns, value)`` points of one asset and venue."""
        ...


async def _fetch(
    http: aiohttp.ClientSession,
    req: BackfillRequest,
    sem: asyncio.Semaphore,
) -> list[tuple[int, float]] | None:
    async with sem:
        try:
            async with http.get(req.url, timeout=aiohttp.ClientTimeout(total=20)) as resp:
                if resp.status != 200:
                    log.warning(
                        "backfill.http_error", kind=req.kind, symbol=req.symbol, status=resp.status
                    )
                    return None
                body = await resp.read()
            return req.parse(body)
        except (aiohttp.ClientError, TimeoutError, ValueError) as e:
            log.warning("backfill.failed", kind=req.kind, symbol=req.symbol, error=type(e).__name__)
            return None


async def backfill_venue(
    spec: VenueSpec,
    endpoints: VenueEndpoints,
    symbols: Sequence[str],
    registry: InstrumentRegistry,
    http: aiohttp.ClientSession,
    targets: dict[str, Seedable],
) -> int:
    """Fetch the venue's history for ``symbols`` and seed ``targets[kind]``; return points loaded.

    Args:
        spec: the venue.
        endpoints: its REST base.
        symbols: venue symbols (``*`` is ignored).
        registry: maps symbols to assets.
        http: the client session.
        targets: ``{"price": price_processor, "open_interest": oi_processor}``.
    """
    if spec.backfill is None:
        return 0
    requests = spec.backfill(endpoints, [s for s in symbols if s != "*" and s in registry])
    requests = [r for r in requests if r.kind in targets]
    sem = asyncio.Semaphore(CONCURRENCY)
    results = await asyncio.gather(*(_fetch(http, r, sem) for r in requests))
    total = 0
    for req, points in zip(requests, results, strict=True):
        inst = registry.get(req.symbol)
        if not points or inst is None:
            continue
        targets[req.kind].seed_history(inst.base, spec.venue, points)
        total += len(points)
    log.info("backfill.done", venue=spec.venue, requests=len(requests), points=total)
    return total
