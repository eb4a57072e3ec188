"""The one alert shape: what the evaluator emits, the store keeps and the notifiers send.

:class:`AlertNotice` is one state change of one alert (a firing or a resolution). The evaluator
creates it without annotations; the dispatcher renders the rule's annotations (runbook, ...) into
``annotations`` before it stores the alert and puts it into a notification; the store returns it
from its alert queries; every notifier reads it from :class:`Notification`.

The JSON form printed by the console notifier and ``riskmon replay --emit alerts`` is a public
contract and never carries annotations:
``{"status": "firing"|"resolved", "rule": "...", "severity": "info"|"warning"|"critical",
"labels": {...}, "value": 1.0, "starts_at": <int ns>, "ends_at": <int ns or null>,
"fingerprint": "...", "summary": "..."}``. Times are event time, so replays are deterministic.

``peak``/``peak_at`` (the most extreme value since the alert went pending, and when) and ``unit``
(the signal catalogue's unit of ``value``, for :func:`alerts.format.human`) travel with the
notice to the notifiers; they are not part of the console contract either.

The outbox stores :class:`Notification` as JSON (:func:`encode_notification`, annotations
included); rows written before annotations lived on the notice decode unchanged (fields are
matched by name).
"""

from __future__ import annotations

from typing import Literal

import msgspec

__all__ = [
    "AlertNotice",
    "Notification",
    "Severity",
    "Status",
    "decode_notification",
    "encode_alert",
    "encode_notification",
]

Status = Literal["firing", "resolved"]
Severity = Literal["info", "warning", "critical"]


class AlertNotice(msgspec.Struct, frozen=True):
    """One state change of one alert (a firing or a resolution).

    ``annotations`` are the rule's rendered annotations, filled in by the dispatcher; they are
    empty on the evaluator's notices and never part of the :func:`encode_alert` contract.
    """

    status: Status
    rule: str
    severity: Severity
    labels: dict[str, str]
    value: float
    starts_at: int
    ends_at: int | None
    fingerprint: str
    summary: str
    annotations: dict[str, str] = msgspec.field(default_factory=dict)
    peak: float | None = None
    peak_at: int | None = None
    unit: str = ""


class Notification(msgspec.Struct, frozen=True):
    """One message for one receiver: the firing and newly resolved alerts of one group."""

    receiver: str
    group_key: str
    group_labels: dict[str, str]
    status: Status  # "firing" if any alert fires, else "resolved"
    alerts: list[AlertNotice]
    idempotency_key: str
    seq: int
    created_ns: int

    @property
    def firing(self) -> list[AlertNotice]:
        """The firing alerts."""
        return [a for a in self.alerts if a.status == "firing"]

    @property
    def resolved(self) -> list[AlertNotice]:
        """The resolved alerts."""
        return [a for a in self.alerts if a.status == "resolved"]


_encoder = msgspec.json.Encoder()
_notification_decoder = msgspec.json.Decoder(Notification)


def encode_alert(alert: AlertNotice) -> bytes:
    """Encode an alert as its contract JSON line (without the newline and the annotations)."""
    fields = msgspec.structs.asdict(alert)
    for extra in ("annotations", "peak", "peak_at", "unit"):
        del fields[extra]
    return _encoder.encode(fields)


def encode_notification(n: Notification) -> str:
    """Encode a notification for the outbox."""
    return _encoder.encode(n).decode()


def decode_notification(text: str | bytes) -> Notification:
    """Decode an outbox payload (also those written before annotations lived on the notice)."""
    return _notification_decoder.decode(text)
