"""``riskmon demo``: a scenario played through the simulator and the full daemon, offline.

The simulator serves each venue's real protocol on 127.0.0.1; the daemon connects to it over
real websockets exactly as it connects to the exchanges. Simulator and daemon share one clock,
the scenario's (:class:`~monitor.simulator.clock.ScenarioClock`): events are published when it
reaches their time, receive stamps, watchdogs and the alert service's timers read it. What the
daemon raises goes through the real alert path (store in a temporary SQLite file, grouping,
inhibition, silences, resolutions) to a console receiver: what the desk would receive.

The scenario's backfilled history (90 days of prices, 60 days of open interest) is seeded into
the daemon's processors before it starts, as a production daemon loads klines and open-interest
history on start-up. Playback slows down when the daemon falls behind (the player watches the
pipeline's event-time watermark and pauses the clock), so no queue overflows at high ``speed``.
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

import structlog
from prometheus_client import CollectorRegistry

from alerts.model import AlertNotice, Notification
from alerts.notify.base import NotifyResult
from alerts.notify.console import write_notices
from alerts.service import AlertService
from alerts.settings import AlertsSettings, ConsoleReceiver
from monitor.daemon import Daemon, SignalSink
from monitor.instruments import save_instruments
from monitor.settings import MetricsSettings, Settings, VenueSettings
from monitor.simulator.clock import ScenarioClock
from monitor.simulator.fill import KeepAlive
from monitor.simulator.playback import play_on_clock, prime_open_interest
from monitor.simulator.scenarios import get_scenario, install_instruments, seed_backfill
from monitor.simulator.server import ExchangeSimulator
from monitor.simulator.venues import sim_venue
from monitor.venues import packaged_instruments

__all__ = ["DEFAULT_SCENARIO", "DemoResult", "DeskNotifier", "run_demo"]

log = structlog.get_logger(__name__)

DEFAULT_SCENARIO = "november-2025"
#: scenario seconds the clock runs on after the last event: the grouping timers flush
_TAIL_S = 60.0
#: wall seconds between two reads of the demo's clock beyond which time is not counted
_MAX_STEP_S = 0.1
#: wall seconds the demo waits for the daemon to take in the last frames
_SETTLE_S = 30.0


async def _pending(service: AlertService) -> bool:
    """Whether notifications wait to be sent (the outbox of the desk receiver)."""
    store = service.store
    return bool(await store.call(lambda: store.sync.outbox("desk", state="pending")))


@dataclass
class DemoResult:
    """What a demo run did."""

    scenario: str
    events_published: int = 0
    events_processed: int = 0
    frames_received: int = 0
    frames_skipped: int = 0
    notices: list[AlertNotice] = field(default_factory=list)
    delivered: list[AlertNotice] = field(default_factory=list)
    wall_s: float = 0.0
    speed: float = 0.0
    worst_ns: int | None = None
    venues_subscribed: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Firing alerts by severity."""
        c = Counter(n.severity for n in self.notices if n.status == "firing")
        return {s: c.get(s, 0) for s in ("info", "warning", "critical")}


class DeskNotifier:
    """The demo's receiver: the console notifier's JSON lines (to ``out``) and the live view.

    It implements the :class:`~alerts.notify.base.Notifier` protocol, so what it gets is what a
    desk receives: after grouping, inhibition and silences, with resolutions.
    """

    min_interval_s = 0.0

    def __init__(
        self,
        out: TextIO | None,
        on_notification: Callable[[Notification], None] | None,
        delivered: list[AlertNotice],
    ) -> None:
        self.name = "desk"
        self.out = out
        self.on_notification = on_notification
        self.delivered = delivered

    async def notify(self, notification: Notification) -> NotifyResult:
        """Print and show the notification's alerts; never raises."""
        self.delivered.extend(notification.alerts)
        try:
            if self.out is not None:
                write_notices(notification.alerts, self.out)
            if self.on_notification is not None:
                self.on_notification(notification)
        except OSError as e:
            return NotifyResult(ok=False, retryable=False, error=f"desk ({type(e).__name__})")
        return NotifyResult(ok=True)

    async def aclose(self) -> None:
        """Nothing to close."""


async def _wait_for(cond: Callable[[], bool], timeout_s: float) -> bool:
    """Poll ``cond`` until it holds (True) or ``timeout_s`` wall seconds passed (False)."""
    deadline = time.monotonic() + timeout_s
    while not cond():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


async def _eventually(cond: Callable[[], bool], timeout_s: float, what: str) -> None:
    if not await _wait_for(cond, timeout_s):
        raise TimeoutError(f"timed out waiting for {what}")


async def run_demo(
    scenario_name: str = DEFAULT_SCENARIO,
    *,
    speed: float | None = None,
    seed: int = 7,
    out: TextIO | None = None,
    on_notices: Callable[[Sequence[AlertNotice]], None] | None = None,
    state_dir: Path | None = None,
    on_signals: SignalSink | None = None,
    on_notification: Callable[[Notification], None] | None = None,
) -> DemoResult:
    """Play ``scenario_name`` through the simulator and the daemon; return what happened.

    Args:
        scenario_name: a scenario of the library.
        speed: event-time compression (60 = one hour per minute); None: the scenario's own
            ``demo_speed`` (about two minutes of wall time).
        seed: the scenario seed.
        out: where the desk's alerts are printed as JSON lines (None: not printed).
        on_notices: called with every batch of the evaluator's notices (before delivery).
        state_dir: where the daemon keeps state (default: a fresh temporary directory).
        on_signals: called with every batch of signals the daemon computes (the live view).
        on_notification: called with every notification the desk receives (the live view).
    """
    scenario = get_scenario(scenario_name, seed)
    info = scenario.info
    speed = info.demo_speed if speed is None else speed
    result = DemoResult(scenario=info.name, speed=speed, worst_ns=info.worst_ns)
    started = time.monotonic()

    async def deliver(notices: Sequence[AlertNotice]) -> None:
        result.notices.extend(notices)
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
            # the run's one clock; an event-loop stall pauses it (at 500x a 1 s stall would
            # otherwise be 8 scenario minutes without data: every feed "stale" at once)
            clock = ScenarioClock(info.start_ns, speed, paused=True, max_step_s=_MAX_STEP_S)
            sim.clock = clock
            events = prime_open_interest(sim, scenario.events(), info.start_ns)
            keepalive = KeepAlive(sim, clock, info.symbols, info.channels, info.silent)
            keepalive.serve(info.start_ns)
            settings = Settings(
                venues={
                    v: VenueSettings(
                        symbols=syms,
                        channels=info.channels.get(v),  # type: ignore[arg-type]
                    )
                    for v, syms in info.symbols.items()
                },
                simulator=sim.url,
                state_dir=base / "state",
                store=base / "riskmon.db",
                metrics=MetricsSettings(enabled=False),
                snapshot_interval_s=3600.0,
            )
            registry = CollectorRegistry()
            desk = DeskNotifier(out, on_notification, result.delivered)
            service = AlertService(
                AlertsSettings(
                    db_path=base / "alerts.db", receivers=[ConsoleReceiver(name="desk")]
                ),
                notifiers={"desk": desk},
                registry=registry,
                clock=clock,
            )
            daemon = Daemon(
                settings,
                alert_service=service,
                deliver=deliver,
                registry=registry,
                on_signals=on_signals,
                clock=clock,
            )
            seed_backfill(daemon.pipeline.engine.processors, scenario.backfill())
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

            clock.resume()
            beat = asyncio.create_task(keepalive.run(), name="demo-keepalive")
            try:
                result.events_published = await play_on_clock(
                    sim, events, clock, lag_ns=lag, keepalive=keepalive
                )
                await sim.drain()
                sent = sum(st.frames_sent for st in sim.stats.values())
                quiet_since = time.monotonic()
                frames = -1

                def settled() -> bool:
                    # websocket frames only (REST polls go on until the daemon stops): every
                    # frame the simulator sent has arrived, or none arrived for a second
                    nonlocal frames, quiet_since
                    now = sum(c.frames for c in conns)
                    if now != frames:
                        frames, quiet_since = now, time.monotonic()
                    arrived = now >= sent or time.monotonic() - quiet_since > 1.0
                    return (arrived and daemon.bus.qsize() == 0) or task.done()

                if not await _wait_for(settled, _SETTLE_S):  # a slow machine: report, go on
                    log.warning("demo.not_settled", queued=daemon.bus.qsize(), wait_s=_SETTLE_S)
                if task.done():
                    await task  # the daemon failed: raise its error
                # the desk's last notifications: group_wait and resolutions on the same clock
                await clock.sleep(_TAIL_S)
                deadline = time.monotonic() + 10.0
                while await _pending(service) and time.monotonic() < deadline:  # noqa: ASYNC110
                    await asyncio.sleep(0.05)
            finally:
                clock.pause()
                beat.cancel()
            daemon.stop()
            await task
        result.events_processed = daemon.events_processed
        result.frames_received = sum(f.frames for f in daemon.feeds)
        result.frames_skipped = sum(sum(f.skipped.values()) for f in daemon.feeds)
    result.wall_s = time.monotonic() - started
    return result
