"""Closing the alert service right after a submit stops every task at once: the dispatcher's
wait for work must not swallow the cancellation that arrives as the work does (asyncio.wait_for
on Python 3.11 did, and the dispatcher outlived the service, logging task_ignored_cancel)."""

from __future__ import annotations

import time
from pathlib import Path

from prometheus_client import CollectorRegistry
from structlog.testing import capture_logs

from alerts.service import AlertService
from alerts.settings import AlertsSettings
from streams.clock import ManualClock

from .conftest import RecordingNotifier
from .fakes import firing

T0 = 1_763_714_000 * 10**9


async def test_close_right_after_a_submit_cancels_every_task(tmp_path: Path) -> None:
    svc = AlertService(
        AlertsSettings(db_path=tmp_path / "a.db", pack=None),
        notifiers={"rec": RecordingNotifier("rec")},
        registry=CollectorRegistry(),
        clock=ManualClock(T0),
    )
    await svc.start()
    await svc.submit([firing("liquidations_1h", at=T0, summary="x")])  # wakes the dispatcher
    t = time.monotonic()
    with capture_logs() as logs:
        await svc.aclose(timeout_s=3.0)
    assert [e for e in logs if e["event"] == "supervisor.task_ignored_cancel"] == []
    assert time.monotonic() - t < 2.0
    assert all(task.done() for task in svc.tasks)
