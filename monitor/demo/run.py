"""``riskmon demo``: a scenario played through the simulator and the full daemon, offline.

The simulator serves each venue's real protocol on 127.0.0.1; the daemon connects to it over
real websockets exactly as it connects to the exchanges, and the alerts it raises are printed as
they fire.

The scenario's backfilled history (90 days of prices, 60 days of open interest) is seeded into
the daemon's processors before it starts, as a production daemon loads klines and open-interest
history on start-up. Playback slows down when the daemon falls behind (the player watches the
pipeline's event-time watermark), so no queue overflows at high ``speed``.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import msgspec
from prometheus_client import CollectorRegistry

from alerts.model import AlertNotice, encode_alert
from monitor.daemon import Daemon, SignalSink
from monitor.instruments import save_instruments
from monitor.settings import MetricsSettings, Settings, VenueSettings
from monitor.simulator.playback import prime_open_interest
from monitor.simulator.scenarios import get_scenario, install_instruments, play, seed_backfill
from monitor.simulator.server import ExchangeSimulator
from monitor.simulator.venues import sim_venue
from monitor.venues import packaged_instruments
from streams.events import Event, FeedStatus
from streams.units import NS_PER_DAY

__all__ = ["DEFAULT_SCENARIO", "DemoResult", "run_demo"]

DEFAULT_SCENARIO = "november-2025"


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
    speed: float = 0.0
    venues_subscribed: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Firing alerts by severity."""
        c = Counter(n.severity for n in self.notices if n.status == "firing")
        return {s: c.get(s, 0) for s in ("info", "warning", "critical")}


class _ScenarioClock:
    """Re-stamps events that carry the local receive time as their event time.

    A few wire formats have no timestamp (Hyperliquid ``activeAssetCtx``, Binance spot
    ``bookTicker``, BitMEX liquidation rows): their parsers use the receive time, which live is
    the event time to within milliseconds. In a demo the scenario runs in compressed historical
    time while the receive clock is the wall clock, so such events are moved to the scenario's
    current time: the newest event time seen on a timestamped frame.
    """

    def __init__(self, start_ns: int, end_ns: int) -> None:
        self.now_ns = start_ns
        self._limit = end_ns + NS_PER_DAY
        self.restamped = 0

    def wrap(self, sink: Callable[[Event], Awaitable[None]]) -> Callable[[Event], Awaitable[None]]:
        """A sink that re-stamps wall-clock events, then hands every event to ``sink``."""

        async def restamp(ev: Event) -> None:
            if type(ev) is not FeedStatus:
                if ev.ts_event > self._limit:
                    ev = msgspec.structs.replace(ev, ts_event=self.now_ns)
                    self.restamped += 1
                elif ev.ts_event > self.now_ns:
                    self.now_ns = ev.ts_event
            await sink(ev)

        return restamp


async def _eventually(cond: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not cond():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def run_demo(
    scenario_name: str = DEFAULT_SCENARIO,
    *,
    speed: float | None = None,
    seed: int = 7,
    out: TextIO | None = None,
    on_notices: Callable[[Sequence[AlertNotice]], None] | None = None,
    state_dir: Path | None = None,
    on_signals: SignalSink | None = None,
) -> DemoResult:
    """Play ``scenario_name`` through the simulator and the daemon; return what happened.

    Args:
        scenario_name: a scenario of the library.
        speed: event-time compression (60 = one hour per minute); None: the scenario's own
            ``demo_speed`` (about two minutes of wall time).
        seed: the scenario seed.
        out: where alert JSON lines are printed as they fire (None: not printed).
        on_notices: also called with every batch of notices (the live view).
        state_dir: where the daemon keeps state (default: a fresh temporary directory).
        on_signals: called with every batch of signals the daemon computes (the live view).
    """
    scenario = get_scenario(scenario_name, seed)
    info = scenario.info
    speed = info.demo_speed if speed is None else speed
    result = DemoResult(scenario=info.name, speed=speed)
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
        sims = [sim_venue(v) for v in info.symbols]
        for sv in sims:
            extra = info.extra_instruments.get(sv.venue)
            if extra:
                install_instruments(sv, extra)
                save_instruments(
                    base / "state" / "instruments" / f"{sv.venue}.json",
                    [*packaged_instruments(sv.venue), *extra],
                )
        async with ExchangeSimulator(sims) as sim:
            events = prime_open_interest(sim, scenario.events(), info.start_ns)
            settings = Settings(
                venues={
                    v: VenueSettings(
                        symbols=syms,
                        channels=info.channels.get(v),  # type: ignore[arg-type]
                        poll_interval_s=max(0.02, 5.0 / max(speed, 1)),
                    )
                    for v, syms in info.symbols.items()
                },
                simulator=sim.url,
                state_dir=base / "state",
                store=base / "riskmon.db",
                metrics=MetricsSettings(enabled=False),
                snapshot_interval_s=3600.0,
            )
            daemon = Daemon(
                settings, deliver=deliver, registry=CollectorRegistry(), on_signals=on_signals
            )
            seed_backfill(daemon.pipeline.engine.processors, scenario.backfill())
            clock = _ScenarioClock(info.start_ns, info.end_ns)
            for feed in daemon.feeds:
                feed.sink = clock.wrap(feed.sink)
            task = asyncio.create_task(daemon.run(), name="demo-daemon")
            conns = [c for f in daemon.feeds for c in f.connections]
            await _eventually(
                lambda: all(c.state == "subscribed" for c in conns) or task.done(),
                30.0,
                "the daemon to subscribe",
            )
            if task.done():
                await task
            result.venues_subscribed = sorted(f.venue for f in daemon.feeds)

            def lag(ts: int) -> int:
                wm = daemon.pipeline.engine.watermark_ns
                return ts - wm if wm else 0

            result.events_published = await play(sim, events, info.start_ns, speed, lag_ns=lag)
            await sim.drain()
            sent = sum(st.frames_sent for st in sim.stats.values())
            quiet_since = time.monotonic()
            frames = -1

            def settled() -> bool:
                # websocket frames only (REST polls go on until the daemon stops): every frame
                # the simulator sent has arrived, or none arrived for a second (lost in a drop)
                nonlocal frames, quiet_since
                now = sum(c.frames for c in conns)
                if now != frames:
                    frames, quiet_since = now, time.monotonic()
                arrived = now >= sent or time.monotonic() - quiet_since > 1.0
                return (arrived and daemon.bus.qsize() == 0) or task.done()

            await _eventually(settled, 30.0, "the pipeline to settle")
            if task.done():
                await task  # the daemon failed: raise its error
            await asyncio.sleep(0.3)
            daemon.stop()
            await task
        result.events_processed = daemon.events_processed
        result.frames_received = sum(f.frames for f in daemon.feeds)
        result.frames_skipped = sum(sum(f.skipped.values()) for f in daemon.feeds)
    result.wall_s = time.monotonic() - started
    return result
