"""The always-on daemon: feeds → bus → pipeline → alert delivery, plus metrics and state.

Every background task runs under the daemon's :class:`TaskSupervisor` (the alert service's when
there is one): every feed connection (``feed:<venue>:<connection>``), REST poll
(``poll:<venue>:<poll>``) and stream watchdog, the backfill, the pipeline consumer, the idle
ticker, the simulator-clock follower, the snapshot writer, and the alert service's dispatcher,
deliverers and pruner. A task that raises is logged, counted in
``riskmon_task_restarts_total{task}`` and restarted with capped, jittered backoff; one that keeps
failing fails ``/healthz`` and raises the ``riskmon_task_failing`` meta-alert. :meth:`Daemon.stop`
(or SIGINT/SIGTERM under ``riskmon run``) ends them, writes a last state snapshot and flushes the
capture file.

State snapshots (``state_dir/pipeline.json``) are written atomically and durably
(:func:`streams.durable_file.write_atomic`) and carry ``snapshot_version``; a snapshot that is
missing, unreadable, not an object or of another version is logged and the daemon starts fresh.
No snapshot is written while alert notices wait to be stored (a failed submit is retried with the
next batch), so a restart never forgets a transition the store did not record; one is written
soon after every stored transition, so a restart remembers what the store recorded. At start the
alert service reconciles the store with the restored evaluator (:mod:`alerts.reconcile`).

History: the venues' REST history at a fresh start, the downtime's gap after a restart
(:mod:`monitor.daemon_history`). The HTTP endpoint and its readiness checks:
:mod:`monitor.daemon_endpoint`; notices on their way to the store: :mod:`monitor.notices`.

One clock runs the daemon (docs/architecture.md, the clock): receive stamps, watchdogs, polls,
backfill pacing, the idle ticks that advance event time, and (when it was built with the same
object, see :func:`monitor.wiring.run_clock`) the alert service's grouping and delivery timers.
Live it is the wall clock. With ``simulator:`` set it is the simulator's scenario clock: the
daemon reads ``/_control/clock`` before its feeds start and every second after (a simulator
without a scenario answers 404: the wall clock then).

On a fast scenario clock the limits keep a wall-time floor (:func:`apply_wall_floors`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import aiohttp
import structlog
from prometheus_client import REGISTRY, CollectorRegistry

from alerts.evaluator import AlertEvaluator
from alerts.model import AlertNotice
from alerts.rules import load_ruleset
from alerts.service import AlertService
from monitor.bus import InProcessBus
from monitor.capture import CaptureWriter
from monitor.clock_follower import WALL_FLOOR_S, ClockFollower, apply_wall_floors
from monitor.connection import watch_sleep
from monitor.coverage import streams_config
from monitor.daemon_endpoint import daemon_health, serve_endpoint
from monitor.daemon_history import backfill_feeds, history_needed, log_rejected
from monitor.daemon_state import SNAPSHOT_VERSION, encode_state, restore_state
from monitor.exporter import SignalExporter
from monitor.health import Health, freeze_startup_objects
from monitor.listing_refresh import refresh_forever, refresh_listings
from monitor.metrics import MonitorMetrics, SkewCounters, WindowCounters
from monitor.notices import PendingNotices, log_notice
from monitor.peg_quorum import check_peg_quorum
from monitor.pipeline import Pipeline
from monitor.settings import Settings
from monitor.simulator.clock import ScenarioClock
from monitor.wiring import build_feeds, run_clock
from streams.clock import Clock
from streams.durable_file import write_atomic
from streams.engine import SkewLimits, StreamEngine
from streams.processors import default_processors
from streams.signals import Signal
from streams.supervisor import TaskSupervisor
from streams.units import NS_PER_SECOND

__all__ = ["SNAPSHOT_VERSION", "Daemon", "Deliver", "SignalSink"]

log = structlog.get_logger(__name__)

#: hands alert notices to delivery (console, the dispatcher and its notifiers)
Deliver = Callable[[Sequence[AlertNotice]], Awaitable[None]]
#: sees every batch of signals the pipeline produced (the demo's live view); must not block
SignalSink = Callable[[Sequence[Signal]], None]

_BATCH = 512
#: wall seconds between two snapshots at least (those that follow alert transitions)
SNAPSHOT_GAP_S = 1.0
_NOTICES_KEPT = 1000  # Daemon.notices keeps the most recent notices only


class Daemon:
    """The daemon.

    Args:
        settings: the settings.
        alert_service: the store, dispatcher and notifiers; started and closed with the daemon.
            Its rules are evaluated and every notice is submitted to it.
        deliver: also (or, without a service, only) hand notices here.
        registry: the Prometheus registry (a fresh one per test).
        stall_after_s: override of every connection's stall limit (tests).
        ping_interval_s: websocket protocol ping interval.
        on_signals: called with the signals of every processed batch and idle tick (optional;
            the demo's live view). It runs on the pipeline task and must return quickly.
        clock: the run's clock (default: :func:`~monitor.wiring.run_clock`); give the alert
            service the same object. An unanchored :class:`ScenarioClock` is anchored on the
            simulator's clock when the daemon starts.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        alert_service: AlertService | None = None,
        deliver: Deliver | None = None,
        registry: CollectorRegistry = REGISTRY,
        stall_after_s: float | None = None,
        ping_interval_s: float | None = 20.0,
        on_signals: SignalSink | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.settings = settings
        self.clock: Clock = clock if clock is not None else run_clock(settings)
        self.deliver = deliver
        self.on_signals = on_signals
        self.registry = registry
        self.metrics = MonitorMetrics(registry)
        self.exporter = SignalExporter(registry, register=False)  # rendered by build_app
        self.alert_service = alert_service
        evaluator = (
            alert_service.new_evaluator()
            if alert_service is not None
            else AlertEvaluator(load_ruleset(settings.rules))
        )
        self._evaluator = evaluator
        self.skew = SkewLimits.of_seconds(settings.max_event_ahead_s, settings.max_event_behind_s)
        self.pipeline = Pipeline(
            StreamEngine(default_processors(streams_config(settings)), skew=self.skew), evaluator
        )
        self.health = self._observability(registry, evaluator)
        maxsize = settings.bus.maxsize if settings.bus.kind == "in-process" else 100_000
        self.bus = InProcessBus(self.metrics, maxsize)
        self.capture = CaptureWriter(settings.capture) if settings.capture else None
        self.feeds = build_feeds(
            settings,
            self.bus.publish,
            self.metrics,
            capture=self.capture,
            stall_after_s=stall_after_s,
            ping_interval_s=ping_interval_s,
            clock=self.clock,
        )
        check_peg_quorum(settings, self.metrics)  # riskmon_peg_quorum_venues; warns below 3
        self.events_processed = 0
        self.notices: deque[AlertNotice] = deque(maxlen=_NOTICES_KEPT)
        self.supervisor = (
            alert_service.supervisor
            if alert_service is not None
            else TaskSupervisor(registry, clock=self.clock)
        )
        self.health.watch(self.supervisor.unhealthy)  # a task that keeps failing fails /healthz
        self.metrics_port: int | None = None
        self._stop = asyncio.Event()
        self._snapshot_due = asyncio.Event()
        self._last_progress = self.clock.monotonic()
        self._rejected_logged = 0  # rejected_backfills of the OI processor already logged
        self._state_path = settings.state_dir / "pipeline.json"
        self._log = log.bind(component="daemon")
        self._unsubmitted = (  # notices the store has not recorded yet
            PendingNotices(alert_service, self._log) if alert_service is not None else None
        )

    # ---------------------------------------------------------------- lifecycle

    def stop(self) -> None:
        """Ask the daemon to shut down cleanly."""
        self._stop.set()

    async def run(self) -> None:
        """Run until :meth:`stop`; then snapshot state and release everything."""
        restored = self._restore_state()
        runner = None
        if self.settings.metrics.enabled:
            runner, self.metrics_port = await serve_endpoint(self)
        try:
            async with aiohttp.ClientSession() as http:
                following = await self._anchor_clock(http)
                if self.alert_service is not None:  # store, evaluator, receivers agree first
                    await self.alert_service.start(self._evaluator)
                    self.health.supervise(self.alert_service.tasks)
                await self._refresh_instruments(http)  # may add connections (new listings)
                self._apply_wall_floor()
                freeze_startup_objects()
                self._last_progress = self.clock.monotonic()
                self._log.info(
                    "daemon.started",
                    venues=[f.venue for f in self.feeds],
                    connections=sum(len(f.plans) for f in self.feeds),
                    polls=sum(len(f.polls) for f in self.feeds),
                    rules=self.settings.rules,
                    metrics_port=self.metrics_port,
                )
                spawn = self.supervisor.spawn
                tasks: list[asyncio.Task[None]] = []
                try:
                    for feed in self.feeds:
                        tasks.extend(feed.start(self.supervisor, http))
                    tasks.append(spawn(self._consume, "pipeline"))
                    watermark, now = self.pipeline.engine.watermark_ns, self.clock.now_ns()
                    backfill, since = history_needed(restored, watermark, now, self._log)
                    if backfill:  # history loads while the feeds already run
                        run = functools.partial(self._backfill, http, since)
                        tasks.append(spawn(run, "backfill"))
                    tasks.append(spawn(self._idle_ticker, "ticker"))
                    tasks.append(spawn(self._snapshotter, "snapshots"))
                    refresh = functools.partial(self._refresh_instruments_forever, http)
                    tasks.append(spawn(refresh, "listings"))
                    if following:
                        tasks.append(spawn(functools.partial(self._follow_clock, http), "clock"))
                    async with asyncio.TaskGroup() as tg:
                        tg.create_task(self._until_stopped(), name="stop")
                        self.health.supervise([tg.create_task(self.health.heartbeat(), name="hb")])
                except* _Stopping:
                    pass
                finally:  # the feeds and polls end before the session and the last drain
                    for t in tasks:
                        t.cancel()
                    await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            await self._drain()
            self._save_state()
            if self.capture is not None:
                self.capture.close()
            if self.alert_service is not None:
                await self.alert_service.aclose()  # also closes the shared supervisor
            else:
                await self.supervisor.aclose()
            if runner is not None:
                await runner.cleanup()
            self._log.info(
                "daemon.stopped", events=self.events_processed, notices=len(self.notices)
            )

    async def _until_stopped(self) -> None:
        await self._stop.wait()
        raise _Stopping

    # ---------------------------------------------------------------- the simulator's clock

    def _clock_follower(self) -> ClockFollower | None:
        """The follower of the simulator's clock, when the run's clock is a scenario clock."""
        return ClockFollower.of(self.clock, self.settings.simulator, self._log)

    async def _anchor_clock(self, http: aiohttp.ClientSession) -> bool:
        """Anchor the scenario clock on the simulator's; True to keep following it."""
        follower = self._clock_follower()
        return follower is not None and await follower.anchor(http)

    def _speed(self) -> float:
        return self.clock.speed if isinstance(self.clock, ScenarioClock) else 1.0

    def _apply_wall_floor(self) -> None:
        apply_wall_floors(self._speed(), self.skew, self.pipeline.engine, self.feeds)

    async def _follow_clock(self, http: aiohttp.ClientSession) -> None:
        """Re-read the simulator's clock every second (:meth:`ClockFollower.follow`), then
        re-apply the wall-time floors (the speed may have changed)."""
        follower = self._clock_follower()
        assert follower is not None
        await follower.follow(http, on_read=self._apply_wall_floor)

    async def _refresh_instruments(self, http: aiohttp.ClientSession) -> None:
        cache = str(self.settings.state_dir / "instruments")
        await refresh_listings(self.feeds, http, cache, self.metrics)

    async def _refresh_instruments_forever(self, http: aiohttp.ClientSession) -> None:
        """Re-read the venues' listings every ``instruments_refresh_s`` (new listings)."""
        cache = str(self.settings.state_dir / "instruments")
        interval = self.settings.instruments_refresh_s
        await refresh_forever(self.feeds, http, self.clock, interval, cache, self.metrics)

    async def _backfill(self, http: aiohttp.ClientSession, since_ns: int | None = None) -> None:
        """Load the venues' history beside the feeds (:func:`backfill_feeds`)."""
        await backfill_feeds(
            self.feeds,
            self.pipeline.engine.processors,
            http,
            clock=self.clock,
            metrics=self.metrics,
            watermark=lambda: self.pipeline.engine.watermark_ns,
            log=self._log,
            since_ns=since_ns,
            capture=self.capture,
        )

    # ---------------------------------------------------------------- pipeline

    async def _consume(self) -> None:
        while True:
            ev = await self.bus.get()
            batch = [ev]
            while len(batch) < _BATCH:
                nxt = self.bus.get_nowait()
                if nxt is None:
                    break
                batch.append(nxt)
            await self._process(batch)

    async def _process(self, batch: Sequence[Any]) -> None:
        notices: list[AlertNotice] = []
        signals = 0
        now_ns = self.clock.now_ns()
        sink = self.on_signals
        for ev in batch:
            step = self.pipeline.on_event(ev)
            self.exporter.update(step.signals)
            if sink is not None and step.signals:
                sink(step.signals)
            signals += len(step.signals)
            notices.extend(step.notices)
            self.metrics.latency.observe(max(0, now_ns - ev.ts_recv) / NS_PER_SECOND)
            for _ in step.notices:
                self.metrics.notice_latency.observe(
                    max(0, self.clock.now_ns() - ev.ts_recv) / NS_PER_SECOND
                )
        self.events_processed += len(batch)
        self.metrics.bus_depth.set(self.bus.qsize())
        if signals:
            self.metrics.signals.inc(signals)
        self._last_progress = self.clock.monotonic()
        await self._emit(notices)

    async def _emit(self, notices: Sequence[AlertNotice]) -> None:
        self._count_evaluations()
        if not notices and not self._unsubmitted:
            return
        for n in notices:
            self.metrics.alert_notices.labels(status=n.status, severity=n.severity).inc()
            log_notice(self._log, n, value=n.value)
        self.notices.extend(notices)
        if self._unsubmitted is not None and await self._unsubmitted.submit(notices):
            self._snapshot_due.set()  # the snapshot follows the store promptly
        if self.deliver is not None:
            await self.deliver(notices)

    async def _idle_ticker(self, period_s: float = 1.0) -> None:
        """Advance event time through quiet periods so windows expire and staleness shows."""
        while True:
            nap = max(period_s, WALL_FLOOR_S * self._speed() / 4)
            if await watch_sleep(self.clock, nap) is None:
                continue  # events may wait unread: they, not the ticker, move event time on
            self._rejected_logged = log_rejected(
                self.pipeline.engine.processors, self._rejected_logged, self._log
            )
            idle = self.clock.monotonic() - self._last_progress
            wm = self.pipeline.engine.watermark_ns
            if idle >= max(period_s, WALL_FLOOR_S * self._speed()) and wm > 0:
                step = self.pipeline.advance(wm + int(idle * NS_PER_SECOND))
                self._last_progress = self.clock.monotonic()
                self.exporter.update(step.signals)
                if self.on_signals is not None and step.signals:
                    self.on_signals(step.signals)
                await self._emit(step.notices)

    async def _drain(self) -> None:
        batch = []
        while (ev := self.bus.get_nowait()) is not None:
            batch.append(ev)
        if batch:
            with contextlib.suppress(Exception):
                await self._process(batch)

    # ---------------------------------------------------------------- state

    async def _snapshotter(self) -> None:
        """Write a snapshot every ``snapshot_interval_s``, and soon after an alert transition.

        After a stored transition the snapshot follows within :data:`SNAPSHOT_GAP_S`, so a
        restart (even after SIGKILL) restores an evaluator that agrees with the store.
        """
        while True:
            with contextlib.suppress(TimeoutError):  # not wait_for: it can swallow a cancel
                async with asyncio.timeout(self.settings.snapshot_interval_s):
                    await self._snapshot_due.wait()
            self._snapshot_due.clear()
            data = self._snapshot_bytes()
            if data is not None:
                try:
                    await asyncio.to_thread(write_atomic, self._state_path, data)
                except OSError as e:
                    self._log.error("daemon.snapshot_failed", error=str(e))
            await asyncio.sleep(SNAPSHOT_GAP_S)

    def _snapshot_bytes(self) -> bytes | None:
        """The state to save, or None while notices wait to be stored (or it cannot encode)."""
        if self._unsubmitted:  # None without a service, falsy when none is pending
            self._log.warning("daemon.snapshot_skipped", unsubmitted=len(self._unsubmitted))
            return None
        try:
            return encode_state(self.pipeline)
        except (TypeError, ValueError) as e:
            self._log.error("daemon.snapshot_failed", error=str(e))
            return None

    def _save_state(self) -> None:
        data = self._snapshot_bytes()
        if data is None:
            return
        try:
            write_atomic(self._state_path, data)
        except OSError as e:
            self._log.error("daemon.snapshot_failed", error=str(e))

    def _restore_state(self) -> bool:
        """Load the last snapshot; False (start fresh) when there is none or it is unusable."""
        return restore_state(self._state_path, self.pipeline, self._log)

    # ---------------------------------------------------------------- observability (issue 11)

    def _observability(self, registry: CollectorRegistry, evaluator: AlertEvaluator) -> Health:
        """Window counters on the registry; health with the daemon's readiness checks."""
        WindowCounters(lambda: self.pipeline.engine.processors, registry)
        SkewCounters(lambda: self.pipeline.engine.skewed, registry)
        self._evaluations_counted = evaluator.evaluations
        return daemon_health(self, evaluator)

    def _count_evaluations(self) -> None:
        """Add the evaluator's new rule evaluations to ``riskmon_alerts_rule_evaluations_total``."""
        ev = self.pipeline.evaluator
        if self.alert_service is None or not isinstance(ev, AlertEvaluator):
            return
        delta = ev.evaluations - self._evaluations_counted
        if delta > 0:
            self.alert_service.metrics.evaluations.inc(delta)
        self._evaluations_counted = ev.evaluations


class _Stopping(Exception):
    """Raised inside the task group to end it on a requested stop."""
