"""Dispatching: store each alert change, route it into groups, flush due groups into the outbox.

Follows Alertmanager's ``dispatch/dispatch.go`` (``aggrGroup``) and ``nflog/``; delivery of what
enters the outbox is :mod:`alerts.deliver`, routing :mod:`alerts.route`, muting :mod:`alerts.mute`.

- :meth:`Dispatcher.submit` renders the rule's annotations onto each notice and writes every state
  change to the store *before* anything is sent, then puts the alert into one aggregation group
  per matching route (key = route + ``group_by`` label values).
- A group is flushed ``group_wait`` after it is created, then at most every ``group_interval``
  when its alerts change, and every ``repeat_interval`` while anything fires. A flush builds one
  notification from the group's unmuted firing alerts plus alerts resolved since the last one;
  alerts resolved before they were ever notified are dropped (flap suppression). The notification
  and its notification-log entry go into the store in one transaction, with an idempotency key.
- Silences and inhibition rules mute firing alerts at flush time (stages of :mod:`alerts.mute`).

Grouping timers run on the run's clock (an injected :class:`~streams.clock.Clock`: the wall clock
live, the scenario's against the simulator); alert times in notifications stay event time.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import msgspec
import structlog

from alerts.dispatch_plan import FlushPlan, Send, carried_resolutions, write_plans
from alerts.links import Links, dashboard_url, runbook_url
from alerts.metrics import AlertMetrics
from alerts.model import AlertNotice, Notification, encode_notification
from alerts.mute import Inhibitor, MultiStage, MuteStage, Silencer
from alerts.route import LiveAlert, Route, match_labels, route_groups
from alerts.rules.model import InhibitRule, RuleSet, fingerprint
from alerts.rules.template import render
from alerts.store import AsyncStore, NflogEntry
from streams.clock import Clock, SystemClock, wait_event
from streams.units import NS_PER_SECOND

__all__ = ["META_RULE", "META_TASK_RULE", "SEVERITY_RANK", "Dispatcher", "task_failing_notice"]

log = structlog.get_logger(__name__)

META_RULE = "riskmon_notifier_broken"
#: a supervised task keeps failing (sent straight to every notifier, see alerts.service)
META_TASK_RULE = "riskmon_task_failing"
#: most urgent first: outbox priority and the order of alerts in a notification
SEVERITY_RANK = {"critical": 0, "warning": 1, "info": 2}
_NEVER_NS = 1 << 62
_CALM = 1 << 10  # urgency of a group nothing was notified for


def urgency(a: AlertNotice) -> int:
    """Lower is more urgent: critical < warning < info, ``tier: extreme`` one step up."""
    return 2 * SEVERITY_RANK.get(a.severity, 3) - (1 if a.labels.get("tier") == "extreme" else 0)


@dataclass(slots=True)
class _Group:
    route: Route
    key: str
    labels: dict[str, str]
    alerts: dict[str, LiveAlert] = field(default_factory=dict)
    created_ns: int = 0
    flushed: bool = False
    dirty: bool = True
    had_muted: bool = False
    last_flush_ns: int = 0
    notified_urgency: int = _CALM  # most urgent alert of the last firing notification
    escalate: bool = False  # a more urgent alert joined since: flush now, not at group_interval


class Dispatcher:
    """Route, group, mute and enqueue alert notifications. See the module docstring.

    Args:
        store: the opened async store.
        routes: routes in order; the last one should match everything (the default route).
        inhibit: inhibition rules.
        ruleset: used to render annotations (runbook etc.) of rule alerts; optional.
        clock: wall clock.
        metrics: metrics sink.
        on_enqueued: called with the receiver name after a notification enters the outbox.
        resolved_retention_s: on restart, resolved alerts newer than this are reloaded.
        silence_refresh_s: silences are re-read from the store at most this often.
        links: the runbook base URL and the dashboard link template (alerts/links.py).
        silence_clock: the clock silences are in force on (their times are wall-clock times);
            default: ``clock``.
    """

    def __init__(
        self,
        store: AsyncStore,
        routes: Sequence[Route],
        inhibit: Sequence[InhibitRule] = (),
        ruleset: RuleSet | None = None,
        clock: Clock | None = None,
        metrics: AlertMetrics | None = None,
        on_enqueued: Callable[[str], None] | None = None,
        resolved_retention_s: float = 3600.0,
        silence_refresh_s: float = 5.0,
        links: Links | None = None,
        silence_clock: Clock | None = None,
    ) -> None:
        if not routes:
            raise ValueError("at least one route is required")
        self.store = store
        self.routes = list(routes)
        self.ruleset = ruleset
        self.links = links or Links()
        self.clock: Clock = clock or SystemClock()
        self.metrics = metrics or AlertMetrics()
        self.on_enqueued = on_enqueued
        self.resolved_retention_ns = int(resolved_retention_s * NS_PER_SECOND)
        self._groups: dict[str, _Group] = {}
        self._alerts: dict[str, LiveAlert] = {}  # every live firing alert by fingerprint
        self.silencer = Silencer(store, silence_refresh_s, silence_clock)
        self.inhibitor = Inhibitor(inhibit, self._alerts)
        self._muters = (self.silencer, self.inhibitor)
        self._mute = MultiStage([MuteStage(m, self._count_muted) for m in self._muters])
        self._changed = asyncio.Event()
        self._lock = asyncio.Lock()

    # --- intake ------------------------------------------------------------------------------

    def _annotate(self, n: AlertNotice) -> AlertNotice:
        out: dict[str, str] = dict(n.annotations)
        rule = None if self.ruleset is None else self.ruleset.rule_for(n.rule, n.severity, n.labels)
        if rule is not None:
            fields = {"value": n.value}
            units = {"value": n.unit}
            out.update({k: render(v, n.labels, fields, units) for k, v in rule.annotations.items()})
            out["summary"] = n.summary
        if out.get("runbook_url"):
            out["runbook_url"] = runbook_url(out["runbook_url"], self.links.runbook_base_url)
        dash = dashboard_url(self.links.dashboard_url_template, n.rule, n.labels)
        if dash:
            out["dashboard_url"] = dash
        if out == n.annotations:
            return n
        return msgspec.structs.replace(n, annotations=out)

    async def start(self) -> None:
        """Reload live alerts from the store (after a restart) into their groups."""
        now = self.clock.now_ns()
        rows = await self.store.call(
            lambda: self.store.sync.live_alerts(now - self.resolved_retention_ns)
        )
        for a in rows:
            self._ingest(a, now)
        self._update_gauges()
        await self.silencer.refresh(now, force=True)
        self._changed.set()

    async def submit(self, notices: Sequence[AlertNotice]) -> int:
        """Store the state changes, then add them to their groups; return how many changed.

        Notices repeating the stored state (e.g. re-emitted after a restart) are ignored.
        """
        if not notices:
            return 0
        annotated = [self._annotate(n) for n in notices]
        now = self.clock.now_ns()
        changed = await self.store.call(lambda: self.store.sync.record_notices(annotated, now))
        n_changed = 0
        async with self._lock:
            for n, ch in zip(annotated, changed, strict=True):
                if not ch:
                    continue
                n_changed += 1
                self.metrics.transitions.labels(n.rule, n.severity, n.status).inc()
                self._ingest(n, now)
                self.metrics.notice_accepted(n.fingerprint, n.status, now)
                log.info(
                    "alerts.transition",
                    rule=n.rule,
                    status=n.status,
                    severity=n.severity,
                    fingerprint=n.fingerprint,
                )
        self._update_gauges()
        if n_changed:
            self._changed.set()
        return n_changed

    def _ingest(self, alert: AlertNotice, now: int) -> None:
        ml = match_labels(alert.rule, alert.labels)
        live = LiveAlert(alert, ml)
        if alert.status == "firing":
            self._alerts[alert.fingerprint] = live
        else:
            self._alerts.pop(alert.fingerprint, None)
        for _, route, gkey, glabels in route_groups(self.routes, ml):
            g = self._groups.get(gkey)
            if g is None:
                g = _Group(route, gkey, glabels, created_ns=now)
                self._groups[gkey] = g
            g.alerts[alert.fingerprint] = live
            g.dirty = True
            if g.flushed and alert.status == "firing" and urgency(alert) < g.notified_urgency:
                g.escalate = True

    def _update_gauges(self) -> None:
        counts = dict.fromkeys(SEVERITY_RANK, 0)
        for a in self._alerts.values():
            counts[a.alert.severity] = counts.get(a.alert.severity, 0) + 1
        for sev, c in counts.items():
            self.metrics.firing.labels(sev).set(c)
        self.metrics.set_firing(a.alert for a in self._alerts.values())

    # --- muting ------------------------------------------------------------------------------

    def _count_muted(self, reason: str) -> None:
        self.metrics.muted.labels(reason).inc()

    def is_muted(self, fp: str) -> str | None:
        """Return why a live alert is muted ("silenced"/"inhibited"), or None."""
        a = self._alerts.get(fp)
        if a is None:
            return None
        now = self.clock.now_ns()
        return next((m.reason for m in self._muters if m.mutes(a, now)), None)

    # --- flushing ----------------------------------------------------------------------------

    def _due_at(self, g: _Group) -> int:
        r = g.route
        if not g.flushed:
            return g.created_ns + int(r.group_wait_s * NS_PER_SECOND)
        if g.escalate:
            return g.last_flush_ns
        if g.dirty or g.had_muted:  # muted alerts may be unmuted by now (silence, inhibition)
            return g.last_flush_ns + int(r.group_interval_s * NS_PER_SECOND)
        if any(a.alert.status == "firing" for a in g.alerts.values()):
            return g.last_flush_ns + int(r.repeat_interval_s * NS_PER_SECOND)
        return _NEVER_NS

    def next_due_ns(self) -> int | None:
        """Return when the next group is due, if any group exists."""
        if not self._groups:
            return None
        return min(self._due_at(g) for g in self._groups.values())

    async def flush_due(self) -> int:
        """Flush every due group; return how many notifications entered the outbox.

        The store thread is visited twice per flush, whatever the number of due groups: once to
        read every due group's notification-log entry and pending payloads, once to write every
        notification (each with its nflog entry, one transaction each). A cascade makes many
        groups due at once, and on a busy host every visit of the store thread waits to be
        scheduled.
        """
        now = self.clock.now_ns()
        await self.silencer.refresh(now)
        async with self._lock:
            due = sorted(
                (g for g in self._groups.values() if self._due_at(g) <= now), key=lambda g: g.key
            )
            if not due:
                return 0
            sync = self.store.sync
            keys = [(g.route.receiver, g.key) for g in due]
            reads = await self.store.call(
                lambda: [(sync.nflog(r, k), sync.pending_payloads(r, k)) for r, k in keys]
            )
            plans = [
                self._plan(g, now, prev, pending)
                for g, (prev, pending) in zip(due, reads, strict=True)
            ]
            done, error = await self.store.call(lambda: write_plans(sync, plans, now))
            written = 0
            for g, plan, result in zip(due, plans, done, strict=False):  # written before an error
                written += self._flushed_plan(g, plan, result, now)
            if error is not None:
                raise error
        return written

    def _plan(self, g: _Group, now: int, prev: NflogEntry | None, pending: list[str]) -> FlushPlan:
        """Decide what a due group's flush writes: a notification, an nflog update, or nothing."""
        route = g.route
        resolved = [a.alert for a in g.alerts.values() if a.alert.status == "resolved"]
        candidates = [a for a in g.alerts.values() if a.alert.status != "resolved"]
        unmuted = self._mute.exec(candidates, now) if route.mute else candidates
        firing = [a.alert for a in unmuted]
        g.had_muted = len(firing) < len(candidates)
        receiver = route.receiver
        notified = prev.firing if prev is not None else frozenset()
        firing_fps = frozenset(a.fingerprint for a in firing)
        new_resolved = [a for a in resolved if a.fingerprint in notified]
        repeat_ns = int(route.repeat_interval_s * NS_PER_SECOND)
        repeat_due = prev is not None and now - prev.sent_ns >= repeat_ns
        send = bool(firing_fps - notified)
        send = send or (route.send_resolved and bool(new_resolved))
        send = send or (bool(firing) and repeat_due)
        plan = FlushPlan(receiver, g.key, resolved)
        if not send:
            if prev is not None and notified - firing_fps:
                # alerts stopped firing (or got muted) without a notification: forget them, so
                # that a re-fire is notified again
                plan.forget = (notified & firing_fps, prev.seq)
            return plan
        if route.send_resolved:
            new_resolved += carried_resolutions(pending, firing_fps, resolved)
        items = sorted(firing, key=_order) + (
            sorted(new_resolved, key=_order) if route.send_resolved else []
        )
        seq = (prev.seq if prev is not None else 0) + 1
        key = _idempotency_key(receiver, g.key, seq, items)
        notification = Notification(
            receiver=receiver,
            group_key=g.key,
            group_labels=g.labels,
            status="firing" if firing else "resolved",
            alerts=items,
            idempotency_key=key,
            seq=seq,
            created_ns=now,
        )
        priority = min(SEVERITY_RANK.get(a.severity, 3) for a in items)
        if not firing:
            priority += 1  # resolutions yield to new problems of the same severity
        plan.send = Send(
            receiver,
            key,
            priority,
            encode_notification(notification),
            firing_fps,
            seq,
            min((urgency(a) for a in firing), default=_CALM),
            len(firing),
            len(items) - len(firing),
        )
        return plan

    def _flushed_plan(
        self, g: _Group, plan: FlushPlan, result: tuple[bool, int] | None, now: int
    ) -> int:
        """Update the group after its plan was written; 1 if a notification entered the outbox."""
        s = plan.send
        if s is None or result is None:
            self._flushed(g, plan.resolved, now, None)
            return 0
        inserted, superseded = result
        self._flushed(g, plan.resolved, now, s.urgency)
        self.metrics.notifications.labels(s.receiver).inc()
        if inserted:
            self.metrics.outbox_pending.labels(s.receiver).inc(1 - superseded)
        log.info(
            "dispatch.group_flushed",
            receiver=s.receiver,
            group=g.key,
            firing=s.firing,
            resolved=s.resolved,
            superseded=superseded,
            idempotency_key=s.key,
        )
        if self.on_enqueued is not None:
            self.on_enqueued(s.receiver)
        return 1

    def _flushed(
        self, g: _Group, resolved: list[AlertNotice], now: int, notified_urgency: int | None
    ) -> None:
        """Update a group after a flush was considered (and, if one was sent, stored)."""
        g.flushed = True
        g.dirty = False
        g.escalate = False
        g.last_flush_ns = now
        if notified_urgency is not None:
            g.notified_urgency = notified_urgency
        for done in resolved:  # resolved alerts leave the group once considered
            g.alerts.pop(done.fingerprint, None)
        if not g.alerts:
            self._groups.pop(g.key, None)

    async def run(self, tick_s: float = 1.0) -> None:
        """Flush groups as they become due, forever (cancel to stop)."""
        while True:
            await self.flush_due()
            now = self.clock.now_ns()
            nxt = self.next_due_ns()
            wait = tick_s if nxt is None else max(0.0, (nxt - now) / NS_PER_SECOND)
            self._changed.clear()
            await wait_event(self._changed, self.clock, wait, cap_s=tick_s)

    def meta_notice(
        self, receiver: str, firing: bool, error: str, summary: str | None = None
    ) -> AlertNotice:
        """Build the ``riskmon_notifier_broken`` alert for a receiver."""
        default = (
            f"notifier {receiver} is misconfigured: {error}"
            if firing
            else f"notifier {receiver} delivers again"
        )
        return _meta_notice(
            META_RULE, {"receiver": receiver}, firing, self.clock.now_ns(), summary or default
        )


def task_failing_notice(task: str, failing: bool, error: str, now_ns: int) -> AlertNotice:
    """Build the ``riskmon_task_failing`` alert for a supervised task."""
    summary = f"task {task} keeps failing: {error}" if failing else f"task {task} runs again"
    return _meta_notice(META_TASK_RULE, {"task": task}, failing, now_ns, summary)


def _meta_notice(
    rule: str, subject: dict[str, str], firing: bool, now_ns: int, summary: str
) -> AlertNotice:
    """A critical meta-alert about the monitor itself (a receiver, a task), firing or resolved."""
    labels = {**subject, "severity": "critical", "category": "meta"}
    return AlertNotice(
        status="firing" if firing else "resolved",
        rule=rule,
        severity="critical",
        labels=labels,
        value=1.0 if firing else 0.0,
        starts_at=now_ns,
        ends_at=None if firing else now_ns,
        fingerprint=fingerprint(rule, labels),
        summary=summary,
    )


def _order(a: AlertNotice) -> tuple[int, str, str]:
    return (SEVERITY_RANK.get(a.severity, 3), a.rule, a.fingerprint)


def _idempotency_key(receiver: str, group_key: str, seq: int, items: Sequence[AlertNotice]) -> str:
    """The outbox key: the same group, sequence number and alert states give the same key."""
    digest = hashlib.sha256()
    for it in items:
        digest.update(f"{it.fingerprint}|{it.status}|{it.starts_at}|{it.ends_at};".encode())
    return hashlib.sha256(
        f"{receiver}\x00{group_key}\x00{seq}\x00{digest.hexdigest()}".encode()
    ).hexdigest()[:32]
