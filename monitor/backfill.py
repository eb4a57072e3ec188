"""Start-up history: REST klines and open-interest history seed the processors.

Run when the daemon starts without saved state, so that the 60-day OI peak and the 90-day
price high mean something from the first minute, and after a restart with saved state when the
snapshot's newest event time is more than ``GAP_MIN_S`` (monitor/daemon_history.py) behind the run's
clock: then only the gap is requested (the planners' ``since_ms``) and only points after the
snapshot's newest event time are seeded, so nothing the restored histories hold is counted
again. Failures are logged and skipped; the daemon starts regardless.

A gap is seeded once the daemon's event time has passed it (:func:`gap_seed_time`): the
engine's ticks through the downtime record its hours as without values, and would overwrite
history seeded before them.

With a capture file, every answer that parsed is written to it (tagged with
:class:`~monitor.capture.BackfillTag`) when the venue's batch has arrived, and
:func:`seed_answers` seeds a replay from those lines exactly as it seeded the daemon.

Every answer is read by :func:`monitor.rest.fetch` (size cap, UTF-8, JSON, status), so a bad
body is one counted failure of one request.

Requests are paced to the venue's REST rate (``VenueSpec.backfill_rate``) and a 429/418 answer
is retried after its ``Retry-After`` (seconds or an HTTP date; :data:`RETRY_AFTER_DEFAULT_S`
when absent, at most :data:`RETRY_AFTER_MAX_S`). Both waits run on the injected
:class:`~streams.clock.Clock` (the wall clock by default).
"""

from __future__ import annotations

import asyncio
import bisect
from collections.abc import Awaitable, Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable
from urllib.parse import urlsplit

import aiohttp
import structlog

from monitor.capture import BackfillTag, CaptureWriter
from monitor.instruments import InstrumentRegistry
from monitor.metrics import MonitorMetrics
from monitor.rest import fetch
from monitor.venues.base import BackfillRequest, VenueEndpoints, VenueSpec
from streams.backoff import bounded_wait
from streams.clock import Clock, SystemClock
from streams.processors.base import Processor
from streams.retry_after import retry_after_s
from streams.units import NS_PER_MS, NS_PER_SECOND

__all__ = [
    "Answer",
    "Seedable",
    "VenueHistory",
    "backfill_venue",
    "fetch_history",
    "gap_seed_time",
    "seed_answers",
    "seed_targets",
    "value_in_usd",
]

log = structlog.get_logger(__name__)

CONCURRENCY = 4
RATE_LIMIT_RETRIES = 3  # a 429/418 answer is retried after Retry-After
#: the wait after a 429/418 without a readable ``Retry-After``
RETRY_AFTER_DEFAULT_S = 2.0
#: the longest wait a ``Retry-After`` can ask for
RETRY_AFTER_MAX_S = 60.0


@runtime_checkable
class Seedable(Protocol):
    """A processor that accepts history (the OI and price processors)."""

    def seed_history(self, asset: str, venue: str, points: Sequence[tuple[int, float]]) -> None:
        """Load ``(ts_ns, value)`` points of one asset and venue."""
        ...


class _Pacer:
    """Spaces request starts ``1 / rate`` seconds apart (a venue's REST rate limit)."""

    def __init__(self, rate: float, clock: Clock) -> None:
        self.gap_s = 1.0 / rate if rate > 0 else 0.0
        self.clock = clock
        self._next = 0.0

    async def wait(self) -> None:
        now = self.clock.monotonic()
        slot = max(now, self._next)
        self._next = slot + self.gap_s
        if slot > now:
            await self.clock.sleep(slot - now)


async def _fetch(
    http: aiohttp.ClientSession,
    req: BackfillRequest,
    sem: asyncio.Semaphore,
    pacer: _Pacer,
    venue: str,
    metrics: MonitorMetrics | None,
) -> tuple[list[tuple[int, float]], bytes] | None:
    async with sem:
        for attempt in range(RATE_LIMIT_RETRIES + 1):
            await pacer.wait()
            answer = await fetch(
                http,
                req.url,
                venue=venue,
                what=f"backfill:{req.kind}:{req.symbol}",
                metrics=metrics,
                timeout_s=20.0,
            )
            if answer.outcome == "rate_limited" and attempt < RATE_LIMIT_RETRIES:
                delay = _retry_after(answer.retry_after, pacer.clock)
                log.warning(
                    "backfill.rate_limited", kind=req.kind, symbol=req.symbol, retry_in_s=delay
                )
                await pacer.clock.sleep(delay)
                continue
            if not answer.ok:
                log.warning(
                    "backfill.failed",
                    kind=req.kind,
                    symbol=req.symbol,
                    outcome=answer.outcome,
                    status=answer.status,
                )
                return None
            try:
                return req.parse(answer.body), answer.body
            except (ValueError, TypeError, KeyError) as e:
                log.warning(
                    "backfill.failed", kind=req.kind, symbol=req.symbol, error=type(e).__name__
                )
                return None
        return None


def _retry_after(header: str | None, clock: Clock) -> float:
    """The wait a rate-limited request asks for, defaulted and bounded."""
    asked = retry_after_s(header, clock.now_ns() / NS_PER_SECOND)
    if asked is None:
        return RETRY_AFTER_DEFAULT_S
    return bounded_wait(asked, RETRY_AFTER_MAX_S)[0]


def value_in_usd(
    points: Sequence[tuple[int, float]], prices: Sequence[tuple[int, float]]
) -> list[tuple[int, float]]:
    """Value base-asset amounts at the price nearest in time to each point (the earlier on a tie).

    ``prices`` must be sorted by time and not empty.
    """
    times = [t for t, _ in prices]
    out = []
    for ts, amount in points:
        i = bisect.bisect_left(times, ts)
        if i == len(times) or (i > 0 and ts - times[i - 1] <= times[i] - ts):
            i -= 1
        out.append((ts, amount * prices[i][1]))
    return out


@dataclass(frozen=True)
class Answer:
    """One parsed history answer: ``(ts_ns, value)`` points of one request."""

    kind: str  # price, open_interest
    symbol: str
    asset: str
    unit: str  # of open interest: usd or base
    points: Sequence[tuple[int, float]]


def seed_answers(
    venue: str, answers: Sequence[Answer], targets: dict[str, Seedable], since_ns: int = 0
) -> int:
    """Merge a venue's history answers per asset and seed ``targets[kind]``; return points seeded.

    Pages of one kind and symbol are merged by time; base-asset open interest is valued at the
    symbol's price history; a venue's open interest is summed over its instruments of an asset
    (the hours all of them have), its price taken from the longest series. Only points after
    ``since_ns`` are seeded (the gap after a restart). Pure apart from the seeding: the daemon
    and a replay of its capture call it with the same answers and seed the same points.
    """
    merged: dict[tuple[str, str], dict[int, float]] = {}
    asset_of: dict[str, str] = {}
    for a in answers:
        key = "open_interest_base" if a.kind == "open_interest" and a.unit == "base" else a.kind
        merged.setdefault((key, a.symbol), {}).update(a.points)
        asset_of[a.symbol] = a.asset
    # per asset: the live total of a venue sums its instruments of the asset (BTCUSDT + BTCUSD),
    # so open interest is summed over the hours every symbol has; price takes the longest series
    per_asset: dict[tuple[str, str], list[dict[int, float]]] = {}
    for (kind, symbol), by_ts in merged.items():
        if not by_ts:
            continue
        if kind == "open_interest_base":
            prices = sorted(merged.get(("price", symbol), {}).items())
            if not prices:
                log.warning("backfill.no_price_for_open_interest", venue=venue, symbol=symbol)
                continue
            kind, by_ts = "open_interest", dict(value_in_usd(sorted(by_ts.items()), prices))
        if kind in targets:
            per_asset.setdefault((kind, asset_of[symbol]), []).append(by_ts)
    total = 0
    for (kind, asset), series in per_asset.items():
        if kind == "open_interest":
            common = set.intersection(*(set(s) for s in series))
            points = sorted((ts, sum(s[ts] for s in series)) for ts in common)
        else:
            points = sorted(max(series, key=len).items())
        points = [p for p in points if p[0] > since_ns]
        if points:
            targets[kind].seed_history(asset, venue, points)
            total += len(points)
    return total


def gap_seed_time(answers: Sequence[Answer], since_ns: int, until_ns: int) -> int:
    """The event time a gap's history waits for before it is seeded.

    The engine's ticks through a downtime record its hours as without values, so a gap is
    seeded once event time has passed its newest point (at most ``until_ns``, the end of the
    requests: a kline of the current hour closes in the future).
    """
    newest = max((ts for a in answers for ts, _ in a.points if ts > since_ns), default=since_ns)
    return min(newest, until_ns)


def _request_path(url: str) -> str:
    """A request's path and query, without scheme and host."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


@dataclass(frozen=True)
class VenueHistory:
    """A venue's parsed history answers and the end of the requests (``until_ns``)."""

    venue: str
    answers: list[Answer]
    until_ns: int
    requests: int


async def fetch_history(
    spec: VenueSpec,
    endpoints: VenueEndpoints,
    symbols: Sequence[str],
    registry: InstrumentRegistry,
    http: aiohttp.ClientSession,
    kinds: Collection[str],
    *,
    clock: Clock | None = None,
    metrics: MonitorMetrics | None = None,
    since_ns: int | None = None,
    capture: CaptureWriter | None = None,
) -> VenueHistory:
    """Fetch and parse the venue's history of ``kinds`` for ``symbols`` (no seeding).

    The arguments are those of :func:`backfill_venue`; ``kinds`` are the histories wanted
    (``price``, ``open_interest``). The price history of a symbol whose open interest is in base
    units is fetched too: it values that open interest in USD.
    """
    clock = clock or SystemClock()
    until_ns = clock.now_ns()
    if spec.backfill is None:
        return VenueHistory(spec.venue, [], until_ns, 0)
    known = [s for s in symbols if s != "*" and s in registry]
    now_ms = until_ns // NS_PER_MS
    if since_ns is None:
        requests = spec.backfill(endpoints, known, now_ms=now_ms)
    else:
        requests = spec.backfill(endpoints, known, now_ms=now_ms, since_ms=since_ns // NS_PER_MS)
    needs_price = {r.symbol for r in requests if r.kind == "open_interest" and r.unit == "base"}
    requests = [
        r
        for r in requests
        if r.kind in kinds
        or (r.kind == "price" and "open_interest" in kinds and r.symbol in needs_price)
    ]
    sem = asyncio.Semaphore(CONCURRENCY)
    pacer = _Pacer(spec.backfill_rate, clock)
    results = await asyncio.gather(
        *(_fetch(http, r, sem, pacer, spec.venue, metrics) for r in requests)
    )
    answered: list[tuple[BackfillRequest, Answer, bytes]] = []
    for req, got in zip(requests, results, strict=True):
        inst = registry.get(req.symbol)
        if got is None or inst is None:
            continue
        points, body = got
        answered.append((req, Answer(req.kind, req.symbol, inst.base, req.unit, points), body))
    if capture is not None:
        ts = clock.now_ns()
        for req, a, body in answered:
            tag = BackfillTag(
                kind=a.kind,
                symbol=a.symbol,
                asset=a.asset,
                unit=a.unit,
                path=_request_path(req.url),
                since_ns=since_ns or 0,
                of=len(answered),
                until_ns=until_ns,
            )
            capture.write(spec.venue, body.decode("utf-8", "replace"), ts, backfill=tag)
    return VenueHistory(spec.venue, [a for _, a, _ in answered], until_ns, len(requests))


async def backfill_venue(
    spec: VenueSpec,
    endpoints: VenueEndpoints,
    symbols: Sequence[str],
    registry: InstrumentRegistry,
    http: aiohttp.ClientSession,
    targets: dict[str, Seedable],
    *,
    clock: Clock | None = None,
    metrics: MonitorMetrics | None = None,
    since_ns: int | None = None,
    capture: CaptureWriter | None = None,
    seed_after: Callable[[int], Awaitable[None]] | None = None,
) -> int:
    """Fetch the venue's history for ``symbols`` and seed ``targets[kind]``; return points loaded.

    Args:
        spec: the venue.
        endpoints: its REST base.
        symbols: venue symbols (``*`` is ignored).
        registry: maps symbols to assets.
        http: the client session.
        targets: ``{"price": price_processor, "open_interest": oi_processor}``.
        clock: the run's clock for the history's end, pacing and ``Retry-After`` waits
            (default: the wall clock).
        metrics: where every request is counted by outcome (``monitor.rest.fetch``).
        since_ns: the newest event time the processors already hold (a restart with saved
            state): only the history after it is requested and seeded. None: the whole history.
        capture: where the answers are written, tagged, when they have arrived.
        seed_after: with ``since_ns``: awaited with :func:`gap_seed_time` before the gap is
            seeded (the daemon waits until its event time has passed the gap).
    """
    if spec.backfill is None:
        return 0
    got = await fetch_history(
        spec,
        endpoints,
        symbols,
        registry,
        http,
        targets.keys(),
        clock=clock,
        metrics=metrics,
        since_ns=since_ns,
        capture=capture,
    )
    if since_ns is not None and seed_after is not None:
        await seed_after(gap_seed_time(got.answers, since_ns, got.until_ns))
    total = seed_answers(spec.venue, got.answers, targets, since_ns or 0)
    log.info(
        "backfill.done",
        venue=spec.venue,
        requests=got.requests,
        points=total,
        since_ns=since_ns,
    )
    return total


def seed_targets(processors: Iterable[Processor]) -> dict[str, Seedable]:
    """The processors that take history, by the kind they take (``price``, ``open_interest``)."""
    return {
        p.name: p
        for p in processors
        if p.name in ("price", "open_interest") and isinstance(p, Seedable)
    }
