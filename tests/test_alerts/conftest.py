"""Shared helpers for the alert tests: a fake clock, a recording notifier, store fixtures.

``eventually`` is :func:`tests.helpers.eventually`, re-exported for the modules that still import
it from here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from alerts.metrics import AlertMetrics
from alerts.notify.base import Notification, NotifyResult
from alerts.store import AsyncStore
from tests.helpers import eventually

__all__ = ["FakeClock", "RecordingNotifier", "eventually"]


class FakeClock:
    """A wall clock the test moves by hand."""

    def __init__(self, start_ns: int = 1_800_000_000 * 10**9) -> None:
        self.t = start_ns

    def now_ns(self) -> int:
        """Return the fake time."""
        return self.t

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self.t += int(seconds * 1e9)


class RecordingNotifier:
    """A notifier that records notifications and answers from a script of results."""

    def __init__(self, name: str = "rec", results: list[NotifyResult] | None = None) -> None:
        self.name = name
        self.min_interval_s = 0.0
        self.sent: list[Notification] = []
        self.results = list(results or [])

    async def notify(self, notification: Notification) -> NotifyResult:
        """Record and answer."""
        self.sent.append(notification)
        return self.results.pop(0) if self.results else NotifyResult(ok=True)

    async def aclose(self) -> None:
        """Nothing to close."""


@pytest.fixture(name="registry")
def _registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture(name="metrics")
def _metrics(registry: CollectorRegistry) -> AlertMetrics:
    return AlertMetrics(registry)


@pytest.fixture(name="astore")
async def _astore(tmp_path: Path) -> AsyncIterator[AsyncStore]:
    s = AsyncStore(tmp_path / "alerts.db")
    await s.open()
    yield s
    await s.close()
