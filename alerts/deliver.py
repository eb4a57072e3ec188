"""Delivering: one :class:`Deliverer` per receiver drains its outbox through its notifier.

Follows Alertmanager's ``notify/util.go`` (``Retrier``): the notifier returns a
:class:`~alerts.notify.base.NotifyResult` and never raises; the deliverer decides.

- The most urgent due row goes first (priority, then age), at most one message per the notifier's
  ``min_interval_s``.
- A result with ``retry_after_s`` (HTTP 429) holds the receiver that long (every pending row,
  and rows enqueued meanwhile), but never longer than ``hold_cap_s``
  (:func:`streams.backoff.bounded_wait`; default 300 s, the backoff cap): a longer or
  non-finite wait is cut to the cap and counted in
  ``riskmon_alerts_waits_clamped_total{receiver}``. A receiver that asks for more than the cap,
  or stays rate-limited for longer than the cap, raises the meta-alert
  ``riskmon_notifier_broken`` (cleared by its next success).
- A retryable failure is retried after a capped, jittered exponential backoff
  (:class:`streams.backoff.Backoff`); after ``max_attempts`` the row is given up ("dead").
- A ``broken`` result (the receiver says its configuration is wrong) keeps the row, retries every
  ``broken_retry_s`` and raises the meta-alert ``riskmon_notifier_broken`` through ``on_broken``;
  the next success clears it.

Delivery timers run on the injected :class:`~streams.clock.Clock`.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable

import structlog

from alerts.metrics import AlertMetrics
from alerts.model import decode_notification
from alerts.notify.base import Notifier, NotifyResult
from alerts.store import AsyncStore, OutboxRow
from streams.backoff import Backoff, bounded_wait
from streams.clock import Clock, SystemClock, wait_event
from streams.units import NS_PER_SECOND

__all__ = ["Deliverer"]

log = structlog.get_logger(__name__)


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
        hold_cap_s: the longest a receiver's ``Retry-After`` may hold its outbox.
        rng: random source for the jitter (tests).
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
        hold_cap_s: float = 300.0,
        rng: random.Random | None = None,
    ) -> None:
        self.notifier = notifier
        self.name = notifier.name
        self.store = store
        self.clock: Clock = clock or SystemClock()
        self.metrics = metrics or AlertMetrics()
        self.on_broken = on_broken
        self.backoff = Backoff(initial_s=backoff_base_s, max_s=backoff_cap_s, factor=2.0)
        self.broken_retry_s = broken_retry_s
        self.max_attempts = max_attempts
        self.rng = rng or random.Random()
        self.hold_cap_s = hold_cap_s
        self.broken = False
        self._held_since_ns: int | None = None  # first 429 since the last success
        self._wake = asyncio.Event()
        self._last_send_ns = -(1 << 62)
        self._next: OutboxRow | None = None  # the next due row, read with the last delivery
        self._hold_until_ns = 0  # a Retry-After holds every row, also those enqueued meanwhile

    def wake(self) -> None:
        """Tell the deliverer that new rows may be due."""
        self._next = None  # a new row may be more urgent, or supersede the one read ahead
        self._wake.set()

    async def deliver_one(self) -> bool:
        """Attempt the most urgent due row; return False if none was due."""
        row, self._next = self._next, None
        now = self.clock.now_ns()
        if now < self._hold_until_ns:  # the receiver asked for a pause: new rows wait too
            return False
        if row is None:
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
        if result.ok:
            self.metrics.delivered(self.name, notification.alerts, self._last_send_ns)
            await self._delivered(row, self._last_send_ns)
        else:
            await self._failed(row, result, self._last_send_ns)
        return True

    async def _delivered(self, row: OutboxRow, now: int) -> None:
        sync = self.store.sync
        # without a gap to keep between messages, the next due row is read in the same visit of
        # the store thread and sent at once (a burst of notifications: one visit per message)
        prefetch = self.notifier.min_interval_s <= 0

        def mark() -> OutboxRow | None:
            sync.mark_delivered(row.id, now)
            return sync.next_due(self.name, now) if prefetch else None

        self._next = await self.store.call(mark)
        self._held_since_ns = None
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

    async def _failed(self, row: OutboxRow, result: NotifyResult, now: int) -> None:
        error = result.error or "failed"
        sync = self.store.sync
        if result.retry_after_s is not None:
            outcome = "rate_limited"
            wait_s, clamped = bounded_wait(result.retry_after_s, self.hold_cap_s)
            until = now + int(wait_s * NS_PER_SECOND)
            self._hold_until_ns = max(self._hold_until_ns, until)
            await self.store.call(lambda: sync.mark_failed(row.id, until, error, False))
            await self.store.call(lambda: sync.defer_receiver(self.name, until))
            if self._held_since_ns is None:
                self._held_since_ns = now
            held_s = (now - self._held_since_ns) / NS_PER_SECOND
            if clamped:
                self.metrics.waits_clamped.labels(self.name).inc()
                log.warning(
                    "notify.wait_clamped",
                    receiver=self.name,
                    asked_s=result.retry_after_s,
                    cap_s=self.hold_cap_s,
                )
            if clamped or held_s > self.hold_cap_s:
                self._set_broken(f"on hold longer than {self.hold_cap_s:g}s ({error})")
        elif result.broken:
            outcome = "broken"
            until = now + int(self.broken_retry_s * NS_PER_SECOND)
            await self.store.call(lambda: sync.mark_failed(row.id, until, error, False))
            self._set_broken(error)
        elif result.retryable and row.attempts + 1 < self.max_attempts:
            outcome = "retry"
            until = now + int(self.backoff.delay(row.attempts, self.rng) * NS_PER_SECOND)
            await self.store.call(lambda: sync.mark_failed(row.id, until, error, False))
        else:
            outcome = "dead"
            await self.store.call(lambda: sync.mark_failed(row.id, now, error, True))
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

    def assume_broken(self) -> None:
        """Start as broken (its meta-alert is firing in the store, e.g. after a restart).

        No new meta-alert is raised; the next success resolves the stored one.
        """
        self.broken = True
        self.metrics.receiver_broken.labels(self.name).set(1)

    def _set_broken(self, error: str) -> None:
        if self.broken:
            return
        self.broken = True
        self.metrics.receiver_broken.labels(self.name).set(1)
        if self.on_broken is not None:
            self.on_broken(self.name, True, error)

    async def run(self, idle_s: float = 1.0) -> None:
        """Deliver forever (cancel to stop), respecting the notifier's rate limit."""
        pending_rows = await self.store.call(
            lambda: self.store.sync.outbox(self.name, state="pending")
        )
        self.metrics.outbox_pending.labels(self.name).set(len(pending_rows))
        while True:
            gap_ns = self._last_send_ns + int(self.notifier.min_interval_s * NS_PER_SECOND)
            now = self.clock.now_ns()
            if now < gap_ns:
                await self.clock.sleep((gap_ns - now) / NS_PER_SECOND)
            if await self.deliver_one():
                continue
            pending = await self.store.call(lambda: self.store.sync.next_attempt_ns(self.name))
            wait = idle_s
            if pending is not None:
                due = max(pending, self._hold_until_ns)
                wait = max(0.0, (due - self.clock.now_ns()) / NS_PER_SECOND)
            self._wake.clear()
            await wait_event(self._wake, self.clock, wait, cap_s=idle_s)
