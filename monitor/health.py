"""Liveness and readiness of the daemon, and the HTTP app serving them with ``/metrics``.

``/healthz`` (liveness) is answered by a handler on the daemon's event loop, so a blocked loop
does not answer at all (the probe times out). It also returns 503 when

- a supervised task has ended (e.g. the alert dispatcher or a deliverer died of an exception), or
- the loop's heartbeat is late by more than ``max_lag_s``, or was within the last
  ``stall_memory_s`` (the loop was blocked a moment ago and the probe only got through after).

``/readyz`` (readiness) returns 503 until every readiness check passes; the daemon's are: rules
loaded, the alert store writable, at least one feed connection subscribed. Both answer JSON
with the failing parts named.

``/status`` is a glance at the daemon's live state for ``riskmon status`` (:mod:`monitor.status`).

``/metrics`` renders the registry on the loop, so one scrape sees one consistent state
(``bench/bench_scrape.py`` measures the cost: a few milliseconds at 600 instruments).
"""

from __future__ import annotations

import asyncio
import errno
import gc
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import structlog
from aiohttp import web
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder

from streams.clock import Clock, SystemClock

if TYPE_CHECKING:
    from monitor.feed import VenueFeed

__all__ = [
    "BIND_ERRORS",
    "Exposition",
    "Health",
    "ReadinessCheck",
    "build_app",
    "feeds_subscribed",
    "freeze_startup_objects",
    "serve",
]

log = structlog.get_logger(__name__)

#: the errors of a port that cannot be bound (a one-line start-up error, not a traceback)
BIND_ERRORS = frozenset({errno.EADDRINUSE, errno.EADDRNOTAVAIL, errno.EACCES})


def freeze_startup_objects() -> None:
    """Move what exists once a process has started (modules, settings, rules, instrument lists,
    restored state) out of the garbage collector's sight, so that a full collection scans only
    what came since: one over everything paused a busy event loop for 50-270 ms (the Kafka
    alerter on 2 shared cores). Call it once, when start-up is done."""
    gc.collect()
    gc.freeze()


#: a named readiness check: returns None when ready, else why not
ReadinessCheck = tuple[str, Callable[[], str | None]]


class Exposition(Protocol):
    """Families rendered outside the registry (``SignalExporter.exposition``)."""

    def exposition(self, openmetrics: bool = False) -> str:
        """Exposition text (OpenMetrics without ``# EOF`` when asked)."""
        ...


class Health:
    """Liveness (supervised tasks, loop heartbeat) and readiness (named checks).

    Args:
        clock: monotonic time of the heartbeat.
        heartbeat_s: how often the heartbeat task beats.
        max_lag_s: how late a beat may be before liveness fails.
        stall_memory_s: how long liveness keeps failing after a stall the loop recovered from
            (a probe that got through right after the stall still sees it).
    """

    def __init__(
        self,
        clock: Clock | None = None,
        heartbeat_s: float = 0.25,
        max_lag_s: float = 1.0,
        stall_memory_s: float = 10.0,
    ) -> None:
        self.clock: Clock = clock or SystemClock()
        self.heartbeat_s = heartbeat_s
        self.max_lag_s = max_lag_s
        self.stall_memory_s = stall_memory_s
        self.last_beat = self.clock.monotonic()
        self.last_stall_at: float | None = None
        self.last_stall_s = 0.0
        self._tasks: list[asyncio.Task[Any]] = []
        self._failing: list[Callable[[], list[str]]] = []
        self._checks: list[ReadinessCheck] = []

    def supervise(self, tasks: Iterable[asyncio.Task[Any]]) -> None:
        """Watch these tasks: liveness fails once any of them has ended."""
        self._tasks.extend(tasks)

    def watch(self, failing: Callable[[], list[str]]) -> None:
        """Liveness also fails while ``failing()`` names tasks (a supervisor's keep-failing set)."""
        self._failing.append(failing)

    def add_check(self, name: str, check: Callable[[], str | None]) -> None:
        """Add a readiness check (None = ready, else the reason)."""
        self._checks.append((name, check))

    async def heartbeat(self) -> None:
        """Beat forever (run it as a supervised task of the loop it watches)."""
        while True:
            self.last_beat = self.clock.monotonic()
            await self.clock.sleep(self.heartbeat_s)
            now = self.clock.monotonic()
            lag = now - self.last_beat - self.heartbeat_s
            if lag > self.max_lag_s:
                self.last_stall_at, self.last_stall_s = now, lag
                log.warning("health.loop_stalled", lag_s=round(lag, 3), max_lag_s=self.max_lag_s)

    def liveness(self) -> dict[str, Any]:
        """``{"ok": bool, "dead_tasks": [...], "loop_lag_s": float}``."""
        dead = sorted(
            {t.get_name() for t in self._tasks if t.done()}.union(*(f() for f in self._failing))
        )
        now = self.clock.monotonic()
        lag = max(0.0, now - self.last_beat - self.heartbeat_s)
        if self.last_stall_at is not None and now - self.last_stall_at < self.stall_memory_s:
            lag = max(lag, self.last_stall_s)
        ok = not dead and lag <= self.max_lag_s
        return {"ok": ok, "dead_tasks": dead, "loop_lag_s": round(lag, 3)}

    def readiness(self) -> dict[str, Any]:
        """``{"ok": bool, "checks": {name: "ok" or reason}}``."""
        results: dict[str, str] = {}
        for name, check in self._checks:
            try:
                why = check()
            except Exception as e:  # a broken check is a failed check, never a 500
                why = f"check failed ({type(e).__name__})"
            results[name] = "ok" if why is None else why
        return {"ok": all(v == "ok" for v in results.values()), "checks": results}


def build_app(
    registry: CollectorRegistry,
    health: Health,
    details: Callable[[], dict[str, Any]] | None = None,
    extra: Sequence[Exposition] = (),
    status: Callable[[], dict[str, Any]] | None = None,
) -> web.Application:
    """The daemon's HTTP app: ``/metrics``, ``/healthz``, ``/readyz`` and ``/status``.

    ``details`` adds fields to the ``/healthz`` body (e.g. events processed); ``extra`` are
    families rendered after the registry's (the signals, rendered by their own fast path);
    ``status`` is the JSON body of ``/status`` (``riskmon status``), served when given.
    """

    async def metrics(request: web.Request) -> web.Response:
        encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
        body = encoder(registry)
        if extra:
            openmetrics = content_type.startswith("application/openmetrics-text")
            text = "".join(x.exposition(openmetrics) for x in extra).encode()
            eof = b"# EOF\n"
            body = body[: -len(eof)] + text + eof if openmetrics else body + text
        return web.Response(body=body, headers={"Content-Type": content_type})

    async def healthz(_: web.Request) -> web.Response:
        body = health.liveness()
        if details is not None:
            body.update(details())
        body["status"] = "ok" if body["ok"] else "failing"
        return web.json_response(body, status=200 if body["ok"] else 503)

    async def readyz(_: web.Request) -> web.Response:
        body = health.readiness()
        body["status"] = "ready" if body["ok"] else "not_ready"
        return web.json_response(body, status=200 if body["ok"] else 503)

    app = web.Application()
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    if status is not None:
        body_of = status

        async def status_page(_: web.Request) -> web.Response:
            return web.json_response(body_of())

        app.router.add_get("/status", status_page)
    return app


def feeds_subscribed(feeds: Iterable[VenueFeed]) -> str | None:
    """The feeds' readiness: None once any connection is subscribed, else why not."""
    live = any(c.state == "subscribed" for f in feeds for c in f.connections)
    return None if live else "no feed connection subscribed"


async def serve(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Serve ``app`` on ``host:port`` (port 0: any free one); the runner and the bound port.

    ``await runner.cleanup()`` stops it. A port already taken raises :class:`OSError`.
    """
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except OSError:
        await runner.cleanup()
        raise
    sockets = getattr(site._server, "sockets", None) or []
    return runner, sockets[0].getsockname()[1] if sockets else port
