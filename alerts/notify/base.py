"""The notifier seam: a grouped notification in, a delivery result out. Notifiers never raise."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import msgspec

__all__ = [
    "AlertItem",
    "Notification",
    "Notifier",
    "NotifyResult",
    "decode_notification",
    "encode_notification",
]


class AlertItem(msgspec.Struct, frozen=True):
    """One alert inside a notification (an :class:`~alerts.model.AlertNotice` plus annotations)."""

    status: str
    rule: str
    severity: str
    labels: dict[str, str]
    annotations: dict[str, str]
    value: float
    starts_at: int
    ends_at: int | None
    fingerprint: str
    summary: str


class Notification(msgspec.Struct, frozen=True):
    """One message for one receiver: the firing and newly resolved alerts of one group."""

    receiver: str
    group_key: str
    group_labels: dict[str, str]
    status: str  # "firing" if any alert fires, else "resolved"
    alerts: list[AlertItem]
    idempotency_key: str
    seq: int
    created_ns: int

    @property
    def firing(self) -> list[AlertItem]:
        """The firing alerts."""
        return [a for a in self.alerts if a.status == "firing"]

    @property
    def resolved(self) -> list[AlertItem]:
        """The resolved alerts."""
        return [a for a in self.alerts if a.status == "resolved"]


_enc = msgspec.json.Encoder()
_dec = msgspec.json.Decoder(Notification)


def encode_notification(n: Notification) -> str:
    """Encode a notification for the outbox."""
    return _enc.encode(n).decode()


def decode_notification(text: str | bytes) -> Notification:
    """Decode an outbox payload."""
    return _dec.decode(text)


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
