"""The alert service: rules + store + dispatcher + deliverers + notifiers, built from settings.

Typical use in the daemon::

    settings = AlertsSettings()                      # or AlertsSettings.from_yaml(path)
    service = AlertService.from_settings(settings)
    evaluator = service.new_evaluator()              # pure; feed it signals
    async with service:                              # opens the store, starts the tasks
        notices = evaluator.on_signals(signals) + evaluator.on_tick(now_ns)
        await service.submit(notices)                # stored first, then grouped and sent
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from functools import partial
from types import TracebackType

import structlog
from prometheus_client import REGISTRY, CollectorRegistry

from alerts import reconcile
from alerts.deliver import Deliverer
from alerts.dispatch import META_RULE, META_TASK_RULE, Dispatcher, task_failing_notice
from alerts.evaluator import AlertEvaluator
from alerts.links import Links
from alerts.matchers import parse_matcher
from alerts.metrics import AlertMetrics
from alerts.model import AlertNotice, Notification
from alerts.notify.alertmanager import AlertmanagerNotifier
from alerts.notify.base import Notifier
from alerts.notify.console import ConsoleNotifier
from alerts.notify.email import EmailNotifier
from alerts.notify.slack import SlackNotifier
from alerts.notify.webhook import WebhookNotifier
from alerts.route import GROUP_BY_ALL, Route
from alerts.rules import RuleSet, load_ruleset, merge_rulesets
from alerts.rules.model import InhibitRule
from alerts.settings import (
    AlertmanagerReceiver,
    AlertsSettings,
    ConsoleReceiver,
    EmailReceiver,
    ReceiverSettings,
    SlackReceiver,
    WebhookReceiver,
)
from alerts.store import AsyncStore
from streams.clock import Clock, SystemClock
from streams.signals import Signal
from streams.supervisor import TaskSupervisor
from streams.units import NS_PER_DAY

__all__ = ["AlertService", "build_notifier", "build_routes", "settings_ruleset"]

log = structlog.get_logger(__name__)
_PRUNE_EVERY_S = 3600.0  # delivered outbox rows past their retention are deleted hourly


def build_notifier(r: ReceiverSettings) -> Notifier:
    """Build the notifier for one receiver's settings.

    Raises:
        ValueError: a required secret is missing or its file cannot be read.
    """
    if isinstance(r, SlackReceiver):
        return SlackNotifier(r)
    if isinstance(r, EmailReceiver):
        return EmailNotifier(r)
    if isinstance(r, WebhookReceiver):
        return WebhookNotifier(r)
    if isinstance(r, AlertmanagerReceiver):
        return AlertmanagerNotifier(r)
    if isinstance(r, ConsoleReceiver):
        return ConsoleNotifier(r)
    raise ValueError(f"unknown receiver type {type(r).__name__}")


def build_routes(settings: AlertsSettings) -> list[Route]:
    """Return the routes of the settings; with none, one fan-out route per receiver."""
    alertmanagers = {r.name for r in settings.receivers if isinstance(r, AlertmanagerReceiver)}
    if settings.routes:
        return [
            Route(
                receiver=r.receiver,
                matchers=tuple(parse_matcher(m) for m in r.matchers),
                group_by=tuple(r.group_by),
                group_wait_s=r.group_wait_s,
                group_interval_s=r.group_interval_s,
                repeat_interval_s=r.repeat_interval_s,
                send_resolved=r.send_resolved,
                continue_=r.continue_,
                mute=r.receiver not in alertmanagers,  # Alertmanager mutes by itself
            )
            for r in settings.routes
        ]
    out: list[Route] = []
    for rc in settings.receivers:
        if isinstance(rc, AlertmanagerReceiver):
            route = Route(
                rc.name,
                group_by=("alertname", "asset"),
                group_wait_s=0.0,
                group_interval_s=min(10.0, rc.resend_s),
                repeat_interval_s=rc.resend_s,
                continue_=True,
                mute=False,  # every firing alert, silenced or inhibited: Alertmanager mutes
            )
        elif isinstance(rc, ConsoleReceiver):
            route = Route(
                rc.name,
                group_by=GROUP_BY_ALL,
                group_wait_s=0.0,
                group_interval_s=0.0,
                repeat_interval_s=1e9,
                continue_=True,
            )
        else:
            route = Route(rc.name, continue_=True)
        out.append(route)
    return out


def settings_ruleset(settings: AlertsSettings) -> RuleSet:
    """Load the configured pack and rule files.

    Raises:
        RuleError: a file or the pack is invalid.
    """
    sets = [load_ruleset(settings.pack)] if settings.pack else []
    sets += [load_ruleset(p) for p in settings.rule_files]
    if not sets:
        return RuleSet(())
    return merge_rulesets(sets, name="+".join(s.name for s in sets))


class AlertService:
    """Own the store, the dispatcher and one deliverer per receiver.

    Args:
        settings: the alert settings.
        ruleset: the rules (for annotations and inhibition); loaded from settings if omitted.
        notifiers: receiver name -> notifier, to override what settings would build (tests).
        registry: Prometheus registry for :class:`AlertMetrics`.
        clock: the run's clock for grouping and delivery timers (default: the wall clock).
        supervisor: owns every task of the service (one is made if omitted); a task that keeps
            failing raises ``riskmon_task_failing`` straight through every notifier.
        silence_clock: the clock silences are in force on (default ``clock``); silences carry
            wall-clock times, so a run on a scenario clock passes the wall clock.
    """

    def __init__(
        self,
        settings: AlertsSettings,
        ruleset: RuleSet | None = None,
        notifiers: Mapping[str, Notifier] | None = None,
        registry: CollectorRegistry = REGISTRY,
        clock: Clock | None = None,
        supervisor: TaskSupervisor | None = None,
        silence_clock: Clock | None = None,
    ) -> None:
        self.settings = settings
        self.ruleset = ruleset if ruleset is not None else settings_ruleset(settings)
        self.metrics = AlertMetrics(registry)
        self.clock: Clock = clock or SystemClock()
        self.store = AsyncStore(settings.db_path)
        self.supervisor = supervisor or TaskSupervisor(registry, self.clock)
        if self.supervisor.on_failing is None:
            self.supervisor.on_failing = self._on_task_failing
        built = dict(notifiers or {})
        for rc in settings.receivers:
            if rc.name not in built:
                built[rc.name] = build_notifier(rc)
        self.notifiers = built
        inhibit: list[InhibitRule] = list(self.ruleset.inhibit) if settings.use_pack_inhibit else []
        inhibit += [
            InhibitRule(
                tuple(parse_matcher(m) for m in i.source),
                tuple(parse_matcher(m) for m in i.target),
                tuple(i.equal),
            )
            for i in settings.inhibit
        ]
        self.deliverers: dict[str, Deliverer] = {}
        self.dispatcher = Dispatcher(
            self.store,
            build_routes(settings),
            inhibit,
            self.ruleset,
            self.clock,
            self.metrics,
            on_enqueued=self._wake,
            resolved_retention_s=settings.resolved_retention_s,
            links=Links(settings.runbook_base_url, settings.dashboard_url_template),
            silence_clock=silence_clock,
        )
        for name, n in self.notifiers.items():
            self.deliverers[name] = Deliverer(
                n,
                self.store,
                self.clock,
                self.metrics,
                on_broken=self._on_broken,
                backoff_base_s=settings.backoff_base_s,
                backoff_cap_s=settings.backoff_cap_s,
                broken_retry_s=settings.broken_retry_s,
                hold_cap_s=settings.backoff_cap_s,
            )
        self._meta: list[AlertNotice] = []
        self._long_lived: list[asyncio.Task[None]] = []

    @classmethod
    def from_settings(
        cls,
        settings: AlertsSettings,
        registry: CollectorRegistry = REGISTRY,
        clock: Clock | None = None,
        silence_clock: Clock | None = None,
    ) -> AlertService:
        """Build the service (rules, notifiers) from settings; nothing is started yet.

        ``clock`` is the run's clock (the daemon's: the scenario's against the simulator);
        ``silence_clock`` the one silences are in force on (the wall clock; default ``clock``).
        """
        return cls(settings, registry=registry, clock=clock, silence_clock=silence_clock)

    def new_evaluator(self) -> AlertEvaluator:
        """Return a fresh evaluator over this service's rules."""
        return AlertEvaluator(self.ruleset)

    def _wake(self, receiver: str) -> None:
        d = self.deliverers.get(receiver)
        if d is not None:
            d.wake()

    def _on_broken(self, receiver: str, broken: bool, error: str) -> None:
        log.error("notify.receiver_broken" if broken else "notify.receiver_ok", receiver=receiver)
        self._meta.append(self.dispatcher.meta_notice(receiver, broken, error))
        self.supervisor.spawn(self._flush_meta, "alerts-meta")

    async def _flush_meta(self) -> None:
        notices = list(self._meta)  # kept until stored, so a restarted flush resends them
        await self.dispatcher.submit(notices)
        del self._meta[: len(notices)]

    def _on_task_failing(self, task: str, failing: bool, error: str) -> None:
        """A task keeps failing (or recovered): tell every notifier directly, store or not.

        The failing task may be the store path itself (a full disk), so this meta-alert does not
        go through the outbox: one attempt per notifier, best effort, logged.
        """
        notice = task_failing_notice(task, failing, error, self.clock.now_ns())
        self.supervisor.spawn(
            lambda: self._notify_direct(notice), "alerts-task-meta", restart=False
        )

    async def _notify_direct(self, notice: AlertNotice) -> None:
        now = self.clock.now_ns()
        for name, n in self.notifiers.items():
            key = f"task-meta-{notice.fingerprint}-{notice.status}-{now}"
            notification = Notification(
                receiver=name,
                group_key=f"{META_TASK_RULE}:{notice.labels['task']}",
                group_labels={"alertname": META_TASK_RULE},
                status=notice.status,
                alerts=[notice],
                idempotency_key=key,
                seq=0,
                created_ns=now,
            )
            try:
                r = await n.notify(notification)
            except Exception as e:  # one notifier's bug must not stop the others
                log.error("alerts.task_meta_failed", receiver=name, error=repr(e))
                continue
            event = "alerts.task_meta_sent" if r.ok else "alerts.task_meta_failed"
            (log.info if r.ok else log.error)(
                event,
                receiver=name,
                task=notice.labels["task"],
                status=notice.status,
                error=r.error,
            )

    @property
    def tasks(self) -> tuple[asyncio.Task[None], ...]:
        """The long-lived supervised tasks (dispatcher, deliverers, pruner).

        The daemon's liveness check watches them; they end only when the service closes, since
        the supervisor restarts them. Tasks that keep failing are in ``supervisor.unhealthy()``.
        """
        return tuple(self._long_lived)

    async def start(self, evaluator: AlertEvaluator | None = None) -> None:
        """Open the store, reload live alerts, reconcile, start the dispatcher and deliverers.

        ``evaluator`` is the run's evaluator after its snapshot was restored (or not): the store's
        firing alerts, its state and the receivers are made to agree first
        (:mod:`alerts.reconcile`). Without it the store's firing alerts are kept as they are.

        Raises:
            StoreError, sqlite3.Error: the store cannot be opened or written.
        """
        await self.store.open()
        await self.dispatcher.start()
        await self._reconcile(evaluator)
        log.info("alerts.started", **self.settings.redacted_summary())
        spawn = self.supervisor.spawn
        self._long_lived = [spawn(self.dispatcher.run, "alerts-dispatcher")]
        for name, d in self.deliverers.items():
            self._long_lived.append(spawn(d.run, f"alerts-deliver-{name}"))
        self._long_lived.append(
            spawn(lambda: self._prune_every(_PRUNE_EVERY_S), "alerts-outbox-pruner")
        )

    async def _reconcile(self, evaluator: AlertEvaluator | None) -> None:
        """Make the store, the evaluator and the receivers agree (once, at start)."""
        sync = self.store.sync
        held = evaluator.active() if evaluator is not None else []
        held_fps = [a.fingerprint for a in held]
        firing = await self.store.call(lambda: sync.alerts(status="firing", limit=-1))
        if evaluator is None:  # nothing to compare rule alerts with: only the meta-alerts
            firing = [a for a in firing if a.rule == META_RULE]
        rows = await self.store.call(lambda: sync.alerts_by_fingerprint(held_fps))
        # resolved now: the restart, never before the evaluator's last event time
        now = max(self.clock.now_ns(), evaluator.now_ns if evaluator is not None else 0)
        fix = reconcile.plan(firing, rows, held, self.deliverers, now)
        if evaluator is not None and fix.forget:
            evaluator.forget(set(fix.forget))
        now_ns = self.clock.now_ns()
        for name in fix.broken_receivers:
            self.deliverers[name].assume_broken()
            await self.store.call(partial(sync.retry_now, name, now_ns))
        for a in fix.resolve:
            log.info("alerts.reconcile_resolved", rule=a.rule, fingerprint=a.fingerprint)
        for a in fix.announce:
            log.info("alerts.reconcile_announced", rule=a.rule, fingerprint=a.fingerprint)
        changed = await self.dispatcher.submit(fix.notices())
        log.info(
            "alerts.reconciled",
            held=len(held),
            stored_firing=len(firing),
            resolved=len(fix.resolve),
            announced=len(fix.announce),
            forgotten=len(fix.forget),
            broken_receivers=fix.broken_receivers,
            changed=changed,
        )

    async def prune_outbox(self) -> int:
        """Delete delivered notifications older than ``outbox_retention_days``; return how many."""
        days = self.settings.outbox_retention_days
        before = self.clock.now_ns() - int(days * NS_PER_DAY)
        n = await self.store.call(lambda: self.store.sync.prune_delivered(before))
        if n:
            log.info("alerts.outbox_pruned", rows=n, retention_days=days)
        return n

    async def prune_history(self) -> tuple[int, int, int]:
        """Delete alert events, resolved alerts and silences older than ``history_retention_days``.

        Returns the (events, alerts, silences) deleted; firing alerts are never deleted.
        """
        days = self.settings.history_retention_days
        before = self.clock.now_ns() - int(days * NS_PER_DAY)
        out = await self.store.call(lambda: self.store.sync.prune_history(before))
        if any(out):
            log.info(
                "alerts.history_pruned",
                events=out[0],
                alerts=out[1],
                silences=out[2],
                retention_days=days,
            )
        return out

    async def _prune_every(self, period_s: float) -> None:
        while True:
            await self.prune_outbox()
            await self.prune_history()
            await self.clock.sleep(period_s)

    async def evaluate(
        self, evaluator: AlertEvaluator, signals: Sequence[Signal], now_ns: int | None = None
    ) -> list[AlertNotice]:
        """Run signals (and a tick at ``now_ns``) through the evaluator and submit the notices.

        Returns the notices, e.g. for a console echo. Counts rule evaluations in the metrics.
        """
        before = evaluator.evaluations
        notices = evaluator.on_signals(signals)
        if now_ns is not None:
            notices += evaluator.on_tick(now_ns)
        self.metrics.evaluations.inc(evaluator.evaluations - before)
        await self.submit(notices)
        return notices

    async def submit(self, notices: Sequence[AlertNotice]) -> int:
        """Store and dispatch evaluator notices; return how many changed an alert's state."""
        return await self.dispatcher.submit(notices)

    async def aclose(self, timeout_s: float = 5.0) -> None:
        """Stop the tasks, close notifiers and the store. Pending rows stay in the outbox."""
        await self.supervisor.aclose(timeout_s)
        for n in self.notifiers.values():
            await n.aclose()
        await self.store.close()

    async def __aenter__(self) -> AlertService:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
