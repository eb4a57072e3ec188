"""``riskmon demo``: a scenario played through the simulator and the full daemon, offline.

The simulator serves each venue's real protocol on 127.0.0.1; the daemon connects to it over
real websockets exactly as it connects to the exchanges, and the alerts it raises are printed as
they fire.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from prometheus_client import CollectorRegistry

from alerts.model import AlertNotice, encode_alert
from monitor.daemon import Daemon
from monitor.settings import MetricsSettings, Settings, VenueSettings
from monitor.simulator.scenarios import get_scenario, play
from monitor.simulator.server import ExchangeSimulator
from monitor.simulator.venues import sim_venue

__all__ = ["DemoResult", "run_demo"]


@dataclass
class DemoResult:
    """What a demo run did."""

    scenario: str
    events_published: int = 0
    events_processed: int = 0
    frames_received: int = 0
    frames_skipped: int = 0
    notices: list[AlertNotice] = field(default_factory=list)
    wall_s: float = 0.0

    def counts(self) -> dict[str, int]:
        """Firing alerts by severity."""
        c = Counter(n.severity for n in self.notices if n.status == "firing")
        return {s: c.get(s, 0) for s in ("info", "warning", "critical")}


async def _eventually(cond: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not cond():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def run_demo(
    scenario_name: str = "cascade",
    *,
    speed: float = 60.0,
    seed: int = 7,
    out: TextIO | None = None,
    on_notices: Callable[[Sequence[AlertNotice]], None] | None = None,
    state_dir: Path | None = None,
) -> DemoResult:
    """Play ``scenario_name`` through the simulator and the daemon; return what happened.

    Args:
        scenario_name: a scenario of the library.
        speed: event-time compression (60 = one hour per minute).
        seed: the scenario seed.
        out: where alert JSON lines are printed as they fire (None: not printed).
        on_notices: also called with every batch of notices (the live view).
        state_dir: where the daemon keeps state (default: a fresh temporary directory).
    """
    scenario = get_scenario(scenario_name, seed)
    info = scenario.info
    result = DemoResult(scenario=info.name)
    started = time.monotonic()

    async def deliver(notices: Sequence[AlertNotice]) -> None:
        result.notices.extend(notices)
        if out is not None:
            for n in notices:
                out.write(encode_alert(n).decode() + "\n")
            out.flush()
        if on_notices is not None:
            on_notices(notices)

    with tempfile.TemporaryDirectory(prefix="riskmon-demo-") as tmp:
        base = state_dir or Path(tmp)
        async with ExchangeSimulator([sim_venue(v) for v in info.symbols]) as sim:
            settings = Settings(
                venues={
                    v: VenueSettings(symbols=syms, poll_interval_s=max(0.02, 5.0 / max(speed, 1)))
                    for v, syms in info.symbols.items()
                },
                simulator=sim.url,
                state_dir=base / "state",
                store=base / "riskmon.db",
                metrics=MetricsSettings(enabled=False),
                snapshot_interval_s=3600.0,
            )
            daemon = Daemon(settings, deliver=deliver, registry=CollectorRegistry())
            task = asyncio.create_task(daemon.run(), name="demo-daemon")
            conns = [c for f in daemon.feeds for c in f.connections]
            await _eventually(
                lambda: all(c.state == "subscribed" for c in conns) or task.done(),
                30.0,
                "the daemon to subscribe",
            )
            if task.done():
                await task
            result.events_published = await play(sim, scenario.events(), info.start_ns, speed)
            await sim.drain()
            frames = -1

            def settled() -> bool:
                nonlocal frames
                now = sum(f.frames for f in daemon.feeds)
                done = now == frames and daemon.bus.qsize() == 0
                frames = now
                return done

            await _eventually(settled, 30.0, "the pipeline to settle")
            await asyncio.sleep(0.3)
            daemon.stop()
            await task
        result.events_processed = daemon.events_processed
        result.frames_received = sum(f.frames for f in daemon.feeds)
        result.frames_skipped = sum(sum(f.skipped.values()) for f in daemon.feeds)
    result.wall_s = time.monotonic() - started
    return result
