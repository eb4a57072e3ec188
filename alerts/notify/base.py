"""The notifier seam: a grouped notification in, a delivery result out. Notifiers never raise.

Every notifier (console, Slack, email, webhook, Alertmanager) implements :class:`Notifier` and is
built from its receiver's settings model (:mod:`alerts.settings`). Whether and when a failed
delivery is retried is the deliverer's decision (:mod:`alerts.deliver`), taken from the
:class:`NotifyResult` the notifier returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from alerts.model import Notification

__all__ = ["Notifier", "NotifyResult"]


@dataclass(frozen=True, slots=True)
class NotifyResult:
    """The outcome of one delivery attempt. ``error`` is already redacted."""

    ok: bool
    retryable: bool = False
    retry_after_s: float | None = None
    broken: bool = False
    error: str | None = None
    status: int | None = None


@runtime_checkable
class Notifier(Protocol):
    """Deliver a notification to one destination; return a result, never raise on failure."""

    name: str
    min_interval_s: float

    async def notify(self, notification: Notification) -> NotifyResult:
        """Send one notification."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...
