"""Alert lifecycle after the evaluator: store, route, group, inhibit, silence, outbox, deliver.

Follows Alertmanager's seams (``dispatch/``, ``inhibit/``, ``silence/``, ``nflog/``):

- :meth:`Dispatcher.submit` writes every state change to the store *before* anything is sent,
  then puts the alert into one aggregation group per matching route (key = route + ``group_by``
  label values).
- A group is flushed ``group_wait`` after it is created, then at most every ``group_interval``
  when its alerts change, and every ``repeat_interval`` while anything fires. A flush builds one
  notification from the group's unmuted firing alerts plus alerts resolved since the last one;
  alerts resolved before they were ever notified are dropped (flap suppression). The notification
  and its notification-log entry go into the store in one transaction, with an idempotency key.
- Silences (from the store, so ``riskmon silence add`` in another process takes effect) and
  inhibition rules mute alerts at flush time.
- One :class:`Deliverer` per receiver drains the outbox: most urgent first, at most one message per
  ``min_interval_s``, honouring ``Retry-After``, backing off with jitter on retryable failures,
  and raising the meta-alert ``riskmon_notifier_broken`` when a receiver says its configuration is
  wrong (the outbox is kept).

Grouping and delivery timers run on the wall clock (an injected :class:`Clock`); alert times in
notifications stay event time.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import structlog

from alerts.matchers import Matcher, matches_all
from alerts.metrics import AlertMetrics
from alerts.model import AlertNotice
from alerts.notify.base import (
    AlertItem,
    Notification,
    Notifier,
    NotifyResult,
    decode_notification,
    encode_notification,
)
from alerts.rules.model import InhibitRule, RuleSet, fingerprint
from alerts.rules.template import render
from alerts.store import AlertRow, AsyncStore, Silence

__all__ = [
    "META_RULE",
    "Clock",
    "Deliverer",
    "Dispatcher",
    "Route",
    "SystemClock",
]

log = structlog.get_logger(__name__)

_NS = 1_000_000_000
META_RULE = "riskmon_notifier_broken"
_SEVERITY_RANK = {"critical": 0, "warning": 1, "info": 2}


class Clock(Protocol):
    """Wall-clock source, injectable for tests."""

    def now_ns(self) -> int:
        """Return the current time in ns since the epoch."""
        ...


class SystemClock:
    """The real wall clock."""

    def now_ns(self) -> int:
        """Return ``time.time_ns()``."""
        return time.time_ns()


@dataclass(frozen=True, slots=True)
class Route:
    """Send alerts matching ``matchers`` to ``receiver``, grouped by ``group_by``.

    ``group_by=("...",)`` disables grouping (one group per alert). ``continue_`` lets later
    routes match too. Durations are in seconds.
    """

    receiver: str
    matchers: tuple[Matcher, ...] = ()
    group_by: tuple[str, ...] = ("alertname", "asset")
    group_wait_s: float = 30.0
    group_interval_s: float = 300.0
    repeat_interval_s: float = 4 * 3600.0
    send_resolved: bool = True
    continue_: bool = False


@dataclass(slots=True)
class _Alert:
    item: AlertItem
    match_labels: dict[str, str]  # labels + alertname


@dataclass(slots=True)
class _Group:
    route_index: int
    route: Route
    key: str
    labels: dict[str, str]
    alerts: dict[str, _Alert] = field(default_factory=dict)
    created_ns: int = 0
    flushed: bool = False
    dirty: bool = True
    had_muted: bool = False
    last_flush_ns: int = 0


def _match_labels(rule: str, labels: Mapping[str, str]) -> dict[str, str]:
    out = dict(labels)
    out["alertname"] = rule
    return out


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
    ) -> None:
        if not routes:
            raise ValueError("at least one route is required")
        self.store = store
        self.routes = list(routes)
        self.inhibit = list(inhibit)
        self.ruleset = ruleset
        self.clock = clock or SystemClock()
        self.metrics = metrics or AlertMetrics()
        self.on_enqueued = on_enqueued
        self.resolved_retention_ns = int(resolved_retention_s * _NS)
        self.silence_refresh_ns = int(silence_refresh_s * _NS)
        self._groups: dict[str, _Group] = {}
        self._alerts: dict[str, _Alert] = {}  # every live alert by fingerprint
        self._silences: list[Silence] = []
        self._silences_loaded_ns = -(1 << 62)
        self._changed = asyncio.Event()
        self._lock = asyncio.Lock()

    # --- intake ------------------------------------------------------------------------------

    def _annotations(self, n: AlertNotice) -> dict[str, str]:
        if self.ruleset is None:
            return {}
        rule = self.ruleset.rule_for(n.rule, n.severity, n.labels)
        if rule is None:
            return {}
        fields = {"value": n.value}
        out = {k: render(v, n.labels, fields) for k, v in rule.annotations.items()}
        out["summary"] = n.summary
        return out

    async def start(self) -> None:
        """Reload live alerts from the store (after a restart) into their groups."""
        now = self.clock.now_ns()
        rows = await self.store.call(
            lambda: self.store.sync.live_alerts(now - self.resolved_retention_ns)
        )
        for r in rows:
            self._ingest(_row_item(r), now)
        await self._refresh_silences(now, force=True)
        self._changed.set()

    async def submit(self, notices: Sequence[AlertNotice]) -> int:
        """Store the state changes, then add them to their groups; return how many changed.

        Notices repeating the stored state (e.g. re-emitted after a restart) are ignored.
        """
        if not notices:
            return 0
        anns = [self._annotations(n) for n in notices]
        now = self.clock.now_ns()
        changed = await self.store.call(lambda: self.store.sync.record_notices(notices, anns, now))
        n_changed = 0
        async with self._lock:
            for n, ann, ch in zip(notices, anns, changed, strict=True):
                if not ch:
                    continue
                n_changed += 1
                self.metrics.transitions.labels(n.rule, n.severity, n.status).inc()
                self._ingest(_notice_item(n, ann), now)
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

    def _ingest(self, item: AlertItem, now: int) -> None:
        ml = _match_labels(item.rule, item.labels)
        alert = _Alert(item, ml)
        if item.status == "firing":
            self._alerts[item.fingerprint] = alert
        else:
            self._alerts.pop(item.fingerprint, None)
        for ri, route in enumerate(self.routes):
            if not matches_all(route.matchers, ml):
                continue
            if route.group_by == ("...",):
                glabels = dict(ml)
            else:
                glabels = {k: ml[k] for k in route.group_by if k in ml}
            gkey = f"{ri}:{route.receiver}:" + ",".join(
                f"{k}={v}" for k, v in sorted(glabels.items())
            )
            g = self._groups.get(gkey)
            if g is None:
                g = _Group(ri, route, gkey, glabels, created_ns=now)
                self._groups[gkey] = g
            g.alerts[item.fingerprint] = alert
            g.dirty = True
            if not route.continue_:
                break

    def _update_gauges(self) -> None:
        counts = dict.fromkeys(_SEVERITY_RANK, 0)
        for a in self._alerts.values():
            counts[a.item.severity] = counts.get(a.item.severity, 0) + 1
        for sev, c in counts.items():
            self.metrics.firing.labels(sev).set(c)

    # --- muting ------------------------------------------------------------------------------

    async def _refresh_silences(self, now: int, force: bool = False) -> None:
        if not force and now - self._silences_loaded_ns < self.silence_refresh_ns:
            return
        self._silences = await self.store.call(lambda: self.store.sync.silences(now_ns=now))
        self._silences_loaded_ns = now

    def _silenced(self, a: _Alert, now: int) -> bool:
        return any(
            s.active(now) and matches_all(s.matchers, a.match_labels) for s in self._silences
        )

    def _inhibited(self, a: _Alert) -> bool:
        for rule in self.inhibit:
            if not matches_all(rule.target, a.match_labels):
                continue
            for src in self._alerts.values():
                if src.item.fingerprint == a.item.fingerprint:
                    continue
                if not matches_all(rule.source, src.match_labels):
                    continue
                if all(
                    src.match_labels.get(lbl, "") == a.match_labels.get(lbl, "")
                    for lbl in rule.equal
                ):
                    return True
        return False

    def is_muted(self, fp: str) -> str | None:
        """Return why a live alert is muted ("silenced"/"inhibited"), or None."""
        a = self._alerts.get(fp)
        if a is None:
            return None
        if self._silenced(a, self.clock.now_ns()):
            return "silenced"
        return "inhibited" if self._inhibited(a) else None

    # --- flushing ----------------------------------------------------------------------------

    def _due_at(self, g: _Group) -> int:
        r = g.route
        if not g.flushed:
            return g.created_ns + int(r.group_wait_s * _NS)
        if g.dirty or g.had_muted:  # muted alerts may be unmuted by now (silence, inhibition)
            return g.last_flush_ns + int(r.group_interval_s * _NS)
        if any(a.item.status == "firing" for a in g.alerts.values()):
            return g.last_flush_ns + int(r.repeat_interval_s * _NS)
        return 1 << 62

    def next_due_ns(self) -> int | None:
        """Return when the next group is due, if any group exists."""
        if not self._groups:
            return None
        return min(self._due_at(g) for g in self._groups.values())

    async def flush_due(self) -> int:
        """Flush every due group; return how many notifications entered the outbox."""
        now = self.clock.now_ns()
        await self._refresh_silences(now)
        written = 0
        async with self._lock:
            due = [g for g in self._groups.values() if self._due_at(g) <= now]
            for g in sorted(due, key=lambda g: g.key):
                if await self._flush(g, now):
                    written += 1
        return written

    async def _flush(self, g: _Group, now: int) -> bool:
        route = g.route
        firing: list[AlertItem] = []
        resolved: list[AlertItem] = []
        g.had_muted = False
        for a in g.alerts.values():
            if a.item.status == "resolved":
                resolved.append(a.item)
                continue
            if self._silenced(a, now):
                self.metrics.muted.labels("silenced").inc()
                g.had_muted = True
                continue
            if self._inhibited(a):
                self.metrics.muted.labels("inhibited").inc()
                g.had_muted = True
                continue
            firing.append(a.item)
        receiver = route.receiver
        prev = await self.store.call(lambda: self.store.sync.nflog(receiver, g.key))
        notified = prev.firing if prev is not None else frozenset()
        firing_fps = frozenset(a.fingerprint for a in firing)
        new_resolved = [a for a in resolved if a.fingerprint in notified]
        repeat_due = prev is not None and now - prev.sent_ns >= int(route.repeat_interval_s * _NS)
        send = bool(firing_fps - notified)
        send = send or (route.send_resolved and bool(new_resolved))
        send = send or (bool(firing) and repeat_due)
        g.flushed = True
        g.dirty = False
        g.last_flush_ns = now
        for done in resolved:  # resolved alerts leave the group once considered
            g.alerts.pop(done.fingerprint, None)
        if not g.alerts:
            del self._groups[g.key]
        if not send:
            if prev is not None and notified - firing_fps:
                # alerts stopped firing (or got muted) without a notification: forget them, so
                # that a re-fire is notified again
                kept = notified & firing_fps
                await self.store.call(
                    lambda: self.store.sync.update_nflog(receiver, g.key, kept, prev.seq)
                )
            return False
        items = sorted(firing, key=_order) + (
            sorted(new_resolved, key=_order) if route.send_resolved else []
        )
        seq = (prev.seq if prev is not None else 0) + 1
        digest = hashlib.sha256()
        for it in items:
            digest.update(f"{it.fingerprint}|{it.status}|{it.starts_at}|{it.ends_at};".encode())
        key = hashlib.sha256(
            f"{receiver}\x00{g.key}\x00{seq}\x00{digest.hexdigest()}".encode()
        ).hexdigest()[:32]
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
        priority = min(_SEVERITY_RANK.get(a.severity, 3) for a in items)
        if not firing:
            priority += 1  # resolutions yield to new problems of the same severity
        payload = encode_notification(notification)
        inserted = await self.store.call(
            lambda: self.store.sync.enqueue_notification(
                receiver, g.key, key, priority, payload, firing_fps, seq, now
            )
        )
        self.metrics.notifications.labels(receiver).inc()
        if inserted:
            self.metrics.outbox_pending.labels(receiver).inc()
        log.info(
            "dispatch.group_flushed",
            receiver=receiver,
            group=g.key,
            firing=len(firing),
            resolved=len(items) - len(firing),
            idempotency_key=key,
        )
        if self.on_enqueued is not None:
            self.on_enqueued(receiver)
        return True

    async def run(self, tick_s: float = 1.0) -> None:
        """Flush groups as they become due, forever (cancel to stop)."""
        while True:
            await self.flush_due()
            now = self.clock.now_ns()
            nxt = self.next_due_ns()
            wait = tick_s if nxt is None else max(0.0, min(tick_s, (nxt - now) / _NS))
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout=wait)

    def meta_notice(self, receiver: str, firing: bool, error: str) -> AlertNotice:
        """Build the ``riskmon_notifier_broken`` alert for a receiver."""
        labels = {"receiver": receiver, "severity": "critical", "category": "meta"}
        now = self.clock.now_ns()
        return AlertNotice(
            status="firing" if firing else "resolved",
            rule=META_RULE,
            severity="critical",
            labels=labels,
            value=1.0 if firing else 0.0,
            starts_at=now,
            ends_at=None if firing else now,
            fingerprint=fingerprint(META_RULE, labels),
            summary=f"notifier {receiver} is misconfigured: {error}"
            if firing
            else f"notifier {receiver} delivers again",
        )


def _order(a: AlertItem) -> tuple[int, str, str]:
    return (_SEVERITY_RANK.get(a.severity, 3), a.rule, a.fingerprint)


def _notice_item(n: AlertNotice, annotations: dict[str, str]) -> AlertItem:
    return AlertItem(
        status=n.status,
        rule=n.rule,
        severity=n.severity,
        labels=dict(n.labels),
        annotations=annotations,
        value=n.value,
        starts_at=n.starts_at,
        ends_at=n.ends_at,
        fingerprint=n.fingerprint,
        summary=n.summary,
    )


def _row_item(r: AlertRow) -> AlertItem:
    return AlertItem(
        status=r.status,
        rule=r.rule,
        severity=r.severity,
        labels=r.labels,
        annotations=r.annotations,
        value=r.value,
        starts_at=r.starts_at,
        ends_at=r.ends_at,
        fingerprint=r.fingerprint,
        summary=r.summary,
    )


class Deliverer:
    """Drain one receiver's outbox through its notifier. See the module docstring.

    Args:
        notifier: the receiver's notifier (its ``min_interval_s`` is the rate limit).
        store: the async store.
        clock: wall clock.
        metrics: metrics sink.
        on_broken: called with (receiver, broken?, error) when the receiver's health changes.
        backoff_base_s, backoff_cap_s: exponential backoff with jitter for retryable failures.
        broken_retry_s: how often a misconfigured receiver is retried.
        max_attempts: after this many retryable failures a row is given up ("dead").
    """

    def __init__(
        self,
        notifier: Notifier,
        store: AsyncStore,
        clock: Clock | None = None,
        metrics: AlertMetrics | None = None,
        on_broken: Callable[[str, bool, str], None] | None = None,
        backoff_base_s: float = 1.0,
        backoff_cap_s: float = 300.0,
        broken_retry_s: float = 600.0,
        max_attempts: int = 1000,
        rng: random.Random | None = None,
    ) -> None:
        self.notifier = notifier
        self.name = notifier.name
        self.store = store
        self.clock = clock or SystemClock()
        self.metrics = metrics or AlertMetrics()
        self.on_broken = on_broken
        self.backoff_base_s = backoff_base_s
        self.backoff_cap_s = backoff_cap_s
        self.broken_retry_s = broken_retry_s
        self.max_attempts = max_attempts
        self.rng = rng or random.Random()
        self.broken = False
        self._wake = asyncio.Event()
        self._last_send_ns = -(1 << 62)

    def wake(self) -> None:
        """Tell the deliverer that new rows may be due."""
        self._wake.set()

    async def deliver_one(self) -> bool:
        """Attempt the most urgent due row; return False if none was due."""
        now = self.clock.now_ns()
        row = await self.store.call(lambda: self.store.sync.next_due(self.name, now))
        if row is None:
            return False
        notification = decode_notification(row.payload)
        t0 = time.perf_counter()
        try:
            result = await self.notifier.notify(notification)
        except Exception as e:  # a notifier bug must not kill delivery
            result = NotifyResult(ok=False, retryable=True, error=f"{type(e).__name__}")
        self.metrics.delivery_seconds.labels(self.name).observe(time.perf_counter() - t0)
        self._last_send_ns = self.clock.now_ns()
        now = self._last_send_ns
        if result.ok:
            await self.store.call(lambda: self.store.sync.mark_delivered(row.id, now))
            self.metrics.sent.labels(self.name).inc()
            self.metrics.outbox_pending.labels(self.name).dec()
            log.info(
                "notify.delivered",
                receiver=self.name,
                idempotency_key=row.idempotency_key,
                attempts=row.attempts + 1,
            )
            if self.broken:
                self.broken = False
                self.metrics.receiver_broken.labels(self.name).set(0)
                if self.on_broken is not None:
                    self.on_broken(self.name, False, "")
            return True
        error = result.error or "failed"
        if result.retry_after_s is not None:
            until = now + int(result.retry_after_s * _NS)
            outcome = "rate_limited"
            await self.store.call(lambda: self.store.sync.mark_failed(row.id, until, error, False))
            await self.store.call(lambda: self.store.sync.defer_receiver(self.name, until))
        elif result.broken:
            outcome = "broken"
            until = now + int(self.broken_retry_s * _NS)
            await self.store.call(lambda: self.store.sync.mark_failed(row.id, until, error, False))
            if not self.broken:
                self.broken = True
                self.metrics.receiver_broken.labels(self.name).set(1)
                if self.on_broken is not None:
                    self.on_broken(self.name, True, error)
        elif result.retryable and row.attempts + 1 < self.max_attempts:
            outcome = "retry"
            delay = min(self.backoff_cap_s, self.backoff_base_s * (2 ** min(row.attempts, 30)))
            delay *= 0.5 + 0.5 * self.rng.random()
            until = now + int(delay * _NS)
            await self.store.call(lambda: self.store.sync.mark_failed(row.id, until, error, False))
        else:
            outcome = "dead"
            await self.store.call(lambda: self.store.sync.mark_failed(row.id, now, error, True))
            self.metrics.outbox_pending.labels(self.name).dec()
        self.metrics.failed.labels(self.name, outcome).inc()
        log.warning(
            "notify.failed",
            receiver=self.name,
            outcome=outcome,
            status=result.status,
            error=error,
            idempotency_key=row.idempotency_key,
            attempts=row.attempts + 1,
        )
        return True

    async def run(self, idle_s: float = 1.0) -> None:
        """Deliver forever (cancel to stop), respecting the notifier's rate limit."""
        pending_rows = await self.store.call(
            lambda: self.store.sync.outbox(self.name, state="pending")
        )
        self.metrics.outbox_pending.labels(self.name).set(len(pending_rows))
        while True:
            gap_ns = self._last_send_ns + int(self.notifier.min_interval_s * _NS)
            now = self.clock.now_ns()
            if now < gap_ns:
                await asyncio.sleep((gap_ns - now) / _NS)
            if await self.deliver_one():
                continue
            pending = await self.store.call(lambda: self.store.sync.next_attempt_ns(self.name))
            wait = idle_s
            if pending is not None:
                wait = max(0.0, min(idle_s, (pending - self.clock.now_ns()) / _NS))
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=wait)
