"""Silences carry wall-clock times (``riskmon silence add``): a run on a scenario clock (the
simulator's, in 2025) still mutes by them when the service is given the wall clock for silences,
as ``riskmon run`` does. Real SQLite store."""

from __future__ import annotations

import time
from pathlib import Path

from prometheus_client import CollectorRegistry

from alerts.matchers import parse_matcher
from alerts.service import AlertService
from alerts.settings import AlertsSettings
from streams.clock import ManualClock, SystemClock

from .conftest import RecordingNotifier
from .fakes import firing

NOV_21 = 1_763_714_000 * 10**9  # scenario time, a year before the wall clock
H = 3600 * 10**9


async def muted_on(tmp_path: Path, silence_clock: SystemClock | None) -> str | None:
    svc = AlertService(
        AlertsSettings(db_path=tmp_path / "a.db", pack=None),
        notifiers={"rec": RecordingNotifier("rec")},
        registry=CollectorRegistry(),
        clock=ManualClock(NOV_21),
        silence_clock=silence_clock,
    )
    await svc.start()
    try:
        wall = time.time_ns()
        matchers = [parse_matcher("asset=BTC")]
        await svc.store.call(
            lambda: svc.store.sync.add_silence(matchers, wall, wall + H, "ops", "", wall)
        )
        await svc.dispatcher.silencer.refresh(svc.clock.now_ns(), force=True)
        alert = firing("liquidations_1h", at=NOV_21, summary="x")
        await svc.submit([alert])
        return svc.dispatcher.is_muted(alert.fingerprint)
    finally:
        await svc.aclose()


async def test_a_wall_clock_silence_mutes_a_run_on_a_scenario_clock(tmp_path: Path) -> None:
    assert await muted_on(tmp_path, SystemClock()) == "silenced"


async def test_without_the_wall_clock_the_silence_would_not_be_in_force(tmp_path: Path) -> None:
    assert await muted_on(tmp_path, None) is None  # what riskmon run did before
