"""Shared helpers for the alert tests: a fake clock, a recording notifier, store fixtures."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from alerts.metrics import AlertMetrics
from alerts.model import Notification
from alerts.notify.base import NotifyResult
from alerts.store import AsyncStore
from streams.clock import ManualClock

__all__ = ["FakeClock", "RecordingNotifier"]


class FakeClock(ManualClock):
    """A wall clock the test moves by hand (``t`` is its time in ns)."""

    def __init__(self, start_ns: int = 1_800_000_000 * 10**9) -> None:
        super().__init__(start_ns)

    @property
    def t(self) -> int:
        """The fake time."""
        return self.now_ns()


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
