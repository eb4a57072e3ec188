"""The simulator as a stand-in for the market: `riskmon run` against `riskmon simulate` (processes).

The daemon runs with its default venues and symbols (every venue's defaults, every channel), as
a user would run it, against the simulator playing the 21 Nov 2025 cascade on its scenario
clock; a webhook receiver on 127.0.0.1 gets what the desk would get. The alerts that arrive must
be the ones `riskmon backtest` finds over the same scenario, at the same event times, and no
feed may look stale or down (every default stream is served).
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path
from typing import Any

from aiohttp import web

from alerts.store import Store
from monitor.simulator.scenarios import get_scenario
from streams.units import NS_PER_SECOND
from tests.helpers import eventually
from tests.test_monitor.test_run_daemon import free_port

SCENARIO = "november-2025-morning"  # 07:40-09:40 of november-2025: the leg and the $1B hour
SPEED = 60.0  # 2 h of market in 2 wall minutes (at 120x the loaded 2-core machine stalls >1 s)
#: starts_at may differ by this much (scenario seconds): at SPEED a wall hiccup of h seconds
#: delays an event's arrival, and with it the engine's 1 s ticks, by h·SPEED scenario seconds
#: (h ≈ 0.25 s on a loaded machine: 15 s); every threshold crossing is otherwise the same event.
TOLERANCE_S = 30.0
#: except in the first minutes: the daemon loads its 90-day price and 60-day open-interest
#: history over REST beside the running feeds (as it does live), while the backtest seeds it
#: before the first event, so the alerts that need that history (drawdowns from the peak, the
#: deleveraging score) come when the backfill is in: measured 50-130 s late at 60x. Never early.
STARTUP_S, STARTUP_TOLERANCE_S = 600.0, 240.0
_IGNORED_LABELS = {"alertname"}
#: feed health: the backtest has no connections, so these come from the daemon's side only
FEED_RULES = {"feed_stale", "feed_down", "market_data_silent"}


def _key(alert: dict[str, Any]) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    labels = {k: v for k, v in alert["labels"].items() if k not in _IGNORED_LABELS}
    return (alert["rule"], alert["severity"], tuple(sorted(labels.items())))


async def _riskmon(*args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "monitor.cli",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def _backtest() -> dict[tuple[str, str, tuple[tuple[str, str], ...]], int]:
    proc = await _riskmon("backtest", "--scenario", SCENARIO, "--json")
    out, err = await asyncio.wait_for(proc.communicate(), 600)
    assert proc.returncode == 0, err.decode()[-2000:]
    firing: dict[tuple[str, str, tuple[tuple[str, str], ...]], int] = {}
    for a in json.loads(out)["alerts"]:
        if a["status"] == "firing":
            firing.setdefault(_key(a), a["starts_at"])
    return firing


async def test_daemon_against_the_simulator_raises_the_backtests_alerts(tmp_path: Path) -> None:
    received: list[dict[str, Any]] = []

    async def receive(request: web.Request) -> web.Response:
        received.append(await request.json())
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/", receive)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    hook_port, sim_port = free_port(), free_port()
    await web.TCPSite(runner, "127.0.0.1", hook_port).start()
    cfg = tmp_path / "riskmon.yaml"
    cfg.write_text(
        f"simulator: http://127.0.0.1:{sim_port}\n"
        f"store: {tmp_path / 'riskmon.db'}\nstate_dir: {tmp_path / 'state'}\n"
        "metrics: {enabled: false}\nlog_level: info\n"
        "alerting:\n  receivers:\n"
        f"    - {{name: desk, type: webhook, url: 'http://127.0.0.1:{hook_port}/'}}\n"
    )
    sim = await _riskmon(
        "simulate", "--port", str(sim_port), "--scenario", SCENARIO, "--speed", str(SPEED)
    )
    daemon: asyncio.subprocess.Process | None = None
    err = b""
    sim_log: list[str] = []

    async def read_sim() -> None:
        assert sim.stderr is not None
        async for line in sim.stderr:  # as they come: the test waits on them
            sim_log.append(line.decode())  # noqa: PERF401

    reader = asyncio.create_task(read_sim())
    try:
        await eventually(lambda: any("simulator.started" in x for x in sim_log), 60, "simulator")
        daemon = await _riskmon("run", "--config", str(cfg))
        span_s = (lambda i: (i.end_ns - i.start_ns) / NS_PER_SECOND)(get_scenario(SCENARIO).info)
        await eventually(
            lambda: any("simulate.scenario_played" in x for x in sim_log),
            span_s / SPEED * 3 + 120,
            "the scenario to play",
        )
        await asyncio.sleep(3.0)  # the daemon's last batches and the dispatcher's group_wait
    finally:
        for proc in (daemon, sim):
            if proc is not None and proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
        if daemon is not None:
            _, err = await asyncio.wait_for(daemon.communicate(), 60)
            assert daemon.returncode == 0, err.decode()[-2000:]
        await asyncio.wait_for(sim.wait(), 60)
        reader.cancel()
        await runner.cleanup()
    expected = await _backtest()  # after the run: on a 2-core machine they would compete

    # what the daemon raised: the store's alert history (what the desk receives is after
    # inhibition: a critical level silences the lower ones, see docs/alerting.md)
    store = Store.open(tmp_path / "riskmon.db")
    try:
        got: dict[tuple[str, str, tuple[tuple[str, str], ...]], int] = {}
        for a in store.alerts(limit=10_000):
            first = next(e for e in store.alert_events(a.fingerprint) if e["status"] == "firing")
            got[_key({"rule": a.rule, "severity": a.severity, "labels": a.labels})] = first[
                "starts_at"
            ]
    finally:
        store.close()
    delivered = {_key(a) for note in received for a in note["alerts"] if a["status"] == "firing"}
    end = get_scenario(SCENARIO).info.end_ns
    feed = sorted(k for k in got if k[0] in FEED_RULES and got[k] <= end)
    market = {k: v for k, v in got.items() if k[0] not in FEED_RULES}
    assert sorted(market) == sorted(expected)
    start = get_scenario(SCENARIO).info.start_ns

    def off(k: tuple[str, str, tuple[tuple[str, str], ...]]) -> bool:
        d = (market[k] - expected[k]) / NS_PER_SECOND
        if expected[k] < start + STARTUP_S * NS_PER_SECOND:
            return not -TOLERANCE_S <= d <= STARTUP_TOLERANCE_S
        return abs(d) > TOLERANCE_S

    late = {k: (market[k] - expected[k]) / NS_PER_SECOND for k in expected if off(k)}
    assert late == {}
    # the receiver got them, through grouping and inhibition (the worst level of each at least)
    assert {(k[0], dict(k[2]).get("asset")) for k in expected} == {
        (k[0], dict(k[2]).get("asset")) for k in delivered if k[0] not in FEED_RULES
    }
    # every default stream is served: no feed looks stale or down, unless the daemon's event
    # loop itself stalled (a loaded machine: one wall second is a scenario minute at 60x)
    stalls = [x for x in err.decode().splitlines() if "health.loop_stalled" in x]
    assert feed == [] or stalls, feed
