"""Start-up history: REST klines and open-interest history seed the processors.

Run once when the daemon starts without saved state, so that the 60-day OI peak and the 90-day
price high mean something from the first minute. Failures are logged and skipped; the daemon
starts regardless.
"""

from __future__ import annotations

import asyncio
import bisect
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import aiohttp
import structlog

from monitor.instruments import InstrumentRegistry
from monitor.venues.base import BackfillRequest, VenueEndpoints, VenueSpec

__all__ = ["Seedable", "backfill_venue", "value_in_usd"]

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


def value_in_usd(
    points: Sequence[tuple[int, float]], prices: Sequence[tuple[int, float]]
) -> list[tuple[int, float]]:
    """Value base-asset amounts at the last price at or before each point (else the first one).

    ``prices`` must be sorted by time and not empty.
    """
    times = [t for t, _ in prices]
    out = []
    for ts, amount in points:
        i = max(bisect.bisect_right(times, ts) - 1, 0)
        out.append((ts, amount * prices[i][1]))
    return out


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
    needs_price = {r.symbol for r in requests if r.kind == "open_interest" and r.unit == "base"}
    requests = [
        r
        for r in requests
        if r.kind in targets
        or (r.kind == "price" and "open_interest" in targets and r.symbol in needs_price)
    ]
    sem = asyncio.Semaphore(CONCURRENCY)
    results = await asyncio.gather(*(_fetch(http, r, sem) for r in requests))
    merged: dict[tuple[str, str], dict[int, float]] = {}
    for req, points in zip(requests, results, strict=True):
        key = (
            "open_interest_base"
            if req.kind == "open_interest" and req.unit == "base"
            else req.kind,
            req.symbol,
        )
        merged.setdefault(key, {}).update(points or ())
    total = 0
    for (kind, symbol), by_ts in merged.items():
        inst = registry.get(symbol)
        points = sorted(by_ts.items())
        if kind == "open_interest_base":
            prices = sorted(merged.get(("price", symbol), {}).items())
            if not prices:
                log.warning("backfill.no_price_for_open_interest", symbol=symbol)
                continue
            kind, points = "open_interest", value_in_usd(points, prices)
        if not points or inst is None or kind not in targets:
            continue
        targets[kind].seed_history(inst.base, spec.venue, points)
        total += len(points)
    log.info("backfill.done", venue=spec.venue, requests=len(requests), points=total)
    return total
