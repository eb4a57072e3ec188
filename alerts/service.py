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
from collections.abc import Coroutine, Mapping, Sequence
from types import TracebackType
from typing import Any

import structlog
from prometheus_client import REGISTRY, CollectorRegistry

from alerts.deliver import Deliverer
from alerts.dispatch import Dispatcher
from alerts.evaluator import AlertEvaluator
from alerts.matchers import parse_matcher
from alerts.metrics import AlertMetrics
from alerts.model import AlertNotice
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
        clock: wall clock for grouping and delivery timers.
    """

    def __init__(
        self,
        settings: AlertsSettings,
        ruleset: RuleSet | None = None,
        notifiers: Mapping[str, Notifier] | None = None,
        registry: CollectorRegistry = REGISTRY,
        clock: Clock | None = None,
    ) -> None:
        self.settings = settings
        self.ruleset = ruleset if ruleset is not None else settings_ruleset(settings)
        self.metrics = AlertMetrics(registry)
        self.clock: Clock = clock or SystemClock()
        self.store = AsyncStore(settings.db_path)
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
            )
        self._tasks: set[asyncio.Task[None]] = set()
        self._meta: list[AlertNotice] = []

    @classmethod
    def from_settings(
        cls, settings: AlertsSettings, registry: CollectorRegistry = REGISTRY
    ) -> AlertService:
        """Build the service (rules, notifiers) from settings; nothing is started yet."""
        return cls(settings, registry=registry)

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
        self._spawn(self._flush_meta(), "alerts-meta")

    async def _flush_meta(self) -> None:
        notices, self._meta = self._meta, []
        await self.dispatcher.submit(notices)

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("alerts.task_failed", task=task.get_name(), error=repr(task.exception()))

    @property
    def tasks(self) -> tuple[asyncio.Task[None], ...]:
        """The running background tasks (the daemon's liveness check watches them)."""
        return tuple(self._tasks)

    async def start(self) -> None:
        """Open the store, reload live alerts and start the dispatcher and deliverers."""
        await self.store.open()
        await self.dispatcher.start()
        log.info("alerts.started", **self.settings.redacted_summary())
        self._spawn(self.dispatcher.run(), "alerts-dispatcher")
        for name, d in self.deliverers.items():
            self._spawn(d.run(), f"alerts-deliver-{name}")
        self._spawn(self._prune_every(_PRUNE_EVERY_S), "alerts-outbox-pruner")

    async def prune_outbox(self) -> int:
        """Delete delivered notifications older than ``outbox_retention_days``; return how many."""
        days = self.settings.outbox_retention_days
        before = self.clock.now_ns() - int(days * NS_PER_DAY)
        n = await self.store.call(lambda: self.store.sync.prune_delivered(before))
        if n:
            log.info("alerts.outbox_pruned", rows=n, retention_days=days)
        return n

    async def _prune_every(self, period_s: float) -> None:
        while True:
            await self.prune_outbox()
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
        tasks = list(self._tasks)
        for t in tasks:
            t.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=timeout_s)
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
