"""The daemon's HTTP endpoint: ``/metrics``, ``/healthz`` with the daemon's readiness checks,
and ``/status`` (:func:`monitor.status.daemon_status`), on the ``metrics`` host and port."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

from alerts.evaluator import AlertEvaluator
from monitor.health import Health, build_app, feeds_subscribed, serve
from monitor.status import daemon_status

if TYPE_CHECKING:
    from monitor.daemon import Daemon

__all__ = ["daemon_health", "serve_endpoint"]


def daemon_health(daemon: Daemon, evaluator: AlertEvaluator) -> Health:
    """Health with the daemon's readiness checks: rules loaded, a writable store, a feed
    connection subscribed, no supervised task that keeps failing."""
    health = Health()
    health.add_check("rules", lambda: None if evaluator.rules else "no rules loaded")
    health.add_check("store", lambda: _writable(daemon.settings.store))
    health.add_check("feeds", lambda: feeds_subscribed(daemon.feeds))
    health.add_check("tasks", lambda: _tasks_ok(daemon))
    return health


async def serve_endpoint(daemon: Daemon) -> tuple[web.AppRunner, int]:
    """Serve the endpoint; its runner (to clean up) and the port it listens on."""
    app = build_app(
        daemon.registry,
        daemon.health,
        lambda: {"events": daemon.events_processed},
        extra=[daemon.exporter],
        status=lambda: daemon_status(daemon),
    )
    m = daemon.settings.metrics
    return await serve(app, m.host, m.port)


def _tasks_ok(daemon: Daemon) -> str | None:
    """Readiness: None, or the supervised tasks that keep failing."""
    failing = daemon.supervisor.unhealthy()
    return f"failing: {', '.join(failing)}" if failing else None


def _writable(path: Path) -> str | None:
    """None when the store file (or, before it exists, its directory) is writable."""
    target = path if path.exists() else path.parent
    return None if os.access(target, os.W_OK) else f"{target} is not writable"
