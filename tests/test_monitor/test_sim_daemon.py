"""One clock for a simulated run: the simulator serves its scenario clock, the daemon follows it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
from prometheus_client import CollectorRegistry

from monitor.daemon import Daemon
from monitor.settings import MetricsSettings, Settings, VenueSettings
from monitor.simulator.clock import CLOCK_PATH, ScenarioClock
from monitor.simulator.server import ExchangeSimulator
from monitor.simulator.venues import sim_venue
from monitor.wiring import run_clock
from streams.clock import SystemClock
from streams.units import NS_PER_SECOND
from tests.helpers import eventually

NOV_21 = 1_763_672_400 * NS_PER_SECOND  # 2025-11-21 21:00 UTC


def _settings(tmp_path: Path, url: str) -> Settings:
    return Settings(
        venues={"binance-usdm": VenueSettings(symbols=["BTCUSDT"], channels=["trades"])},
        simulator=url,
        state_dir=tmp_path / "state",
        store=tmp_path / "riskmon.db",
        metrics=MetricsSettings(enabled=False),
    )


async def test_paused_clock_stands_and_holds_sleepers_then_runs_at_speed() -> None:
    clock = ScenarioClock(NOV_21, speed=600.0, paused=True)
    sleeper = asyncio.create_task(clock.sleep(30.0))
    await asyncio.sleep(0.1)
    assert clock.now_ns() == NOV_21
    assert not sleeper.done()
    clock.resume()
    await asyncio.wait_for(sleeper, 2.0)  # 30 scenario s = 50 ms of wall time at 600x
    assert clock.now_ns() >= NOV_21 + 30 * NS_PER_SECOND


def test_adopting_an_earlier_time_never_moves_the_clock_back() -> None:
    clock = ScenarioClock.follower()
    clock.adopt({"now_ns": NOV_21, "wall_ns": 0, "speed": 60.0, "paused": True})
    before = clock.now_ns()
    clock.adopt({"now_ns": NOV_21 - NS_PER_SECOND, "wall_ns": 0, "speed": 60.0, "paused": True})
    assert clock.now_ns() == before == NOV_21


async def test_daemon_in_simulator_mode_runs_on_the_simulators_scenario_clock(
    tmp_path: Path,
) -> None:
    """Feeds, backfill, ticks and alert timers share the clock the simulator serves."""
    async with ExchangeSimulator([sim_venue("binance-usdm")]) as sim:
        async with aiohttp.ClientSession() as http, http.get(sim.url + CLOCK_PATH) as resp:
            assert resp.status == 404  # no scenario plays yet
        sim.clock = ScenarioClock(NOV_21, speed=60.0)
        settings = _settings(tmp_path, sim.url)
        clock = run_clock(settings)
        daemon = Daemon(settings, registry=CollectorRegistry(), clock=clock)
        assert all(f.clock is clock for f in daemon.feeds)
        assert all(c.clock is clock for f in daemon.feeds for c in f.connections)
        task = asyncio.create_task(daemon.run())
        try:
            await eventually(lambda: isinstance(clock, ScenarioClock) and clock.anchored)
            assert isinstance(clock, ScenarioClock)
            assert clock.speed == 60.0
            assert abs(clock.now_ns() - sim.clock.now_ns()) < 5 * NS_PER_SECOND  # 1/12 s wall
            assert clock.now_ns() < NOV_21 + 3600 * NS_PER_SECOND  # scenario time, not 2026
            # a connection's stall limit is at least a wall second at the scenario's speed
            assert all(c.stall_after_s >= 60.0 for f in daemon.feeds for c in f.connections)
        finally:
            daemon.stop()
            await task


async def test_daemon_stays_on_the_wall_clock_when_the_simulator_plays_no_scenario(
    tmp_path: Path,
) -> None:
    async with ExchangeSimulator([sim_venue("binance-usdm")]) as sim:
        settings = _settings(tmp_path, sim.url)
        clock = run_clock(settings)
        daemon = Daemon(settings, registry=CollectorRegistry(), clock=clock)
        task = asyncio.create_task(daemon.run())
        try:
            await eventually(lambda: isinstance(clock, ScenarioClock) and clock.anchored)
            assert abs(clock.now_ns() - SystemClock().now_ns()) < 5 * NS_PER_SECOND
        finally:
            daemon.stop()
            await task
