"""Alert notices on their way to the store: the ``alert.notice`` log line, and the pending
notices the daemon keeps while the store fails.

A submit that raises (a full disk, a locked database) does not stop the pipeline: the notices
stay pending (the most recent :data:`UNSUBMITTED_MAX`, oldest dropped first) and go first with
the next batch. While any are pending the daemon writes no state snapshot, so a restart never
forgets a transition the store did not record.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Sequence

import structlog

from alerts.model import AlertNotice
from alerts.service import AlertService

__all__ = ["UNSUBMITTED_MAX", "PendingNotices", "log_notice"]

UNSUBMITTED_MAX = 100_000  # notices kept for a store that is failing, oldest dropped first


def log_notice(
    log: structlog.typing.FilteringBoundLogger, n: AlertNotice, **fields: object
) -> None:
    """Log one notice as ``alert.notice``: status, rule, severity, labels, ``fields``,
    fingerprint (the daemon adds the value, the Kafka alerter the start time)."""
    head = {"status": n.status, "rule": n.rule, "severity": n.severity, "labels": n.labels}
    log.info("alert.notice", **head, **fields, fingerprint=n.fingerprint)


class PendingNotices:
    """The notices not yet submitted to ``service``; one submit at a time.

    Args:
        service: the alert service whose store records the notices.
        log: where a failed submit is logged (``alerts.submit_failed``).
    """

    def __init__(self, service: AlertService, log: structlog.typing.FilteringBoundLogger) -> None:
        self.service = service
        self._log = log
        self._pending: deque[AlertNotice] = deque(maxlen=UNSUBMITTED_MAX)
        # the pipeline and the idle ticker both emit: one submit of the pending notices at a time
        self._lock = asyncio.Lock()

    def __len__(self) -> int:
        return len(self._pending)

    async def submit(self, notices: Sequence[AlertNotice]) -> bool:
        """Submit the pending notices and ``notices``; True when the store recorded a change
        (a state snapshot is then due). A failed submit is logged and keeps them pending."""
        self._pending.extend(notices)
        async with self._lock:
            batch = list(self._pending)
            try:
                stored = bool(batch) and await self.service.submit(batch) > 0
            except Exception as e:  # e.g. a full disk: keep them, retry with the next batch
                self._log.error(
                    "alerts.submit_failed",
                    pending=len(batch),
                    error=f"{type(e).__name__}: {e}",
                )
                return False
            for _ in batch:
                self._pending.popleft()
            return stored
