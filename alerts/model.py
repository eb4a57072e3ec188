"""The alert notification as the console notifier and ``riskmon replay --emit alerts`` print it.

The JSON form is a public contract:
``{"status": "firing"|"resolved", "rule": "...", "severity": "info"|"warning"|"critical",
"labels": {...}, "value": 1.0, "starts_at": <int ns>, "ends_at": <int ns or null>,
"fingerprint": "...", "summary": "..."}``. Times are event time, so replays are deterministic.
"""

from __future__ import annotations

from typing import Literal

import msgspec

__all__ = ["AlertNotice", "Severity", "Status", "encode_alert"]

Status = Literal["firing", "resolved"]
Severity = Literal["info", "warning", "critical"]


class AlertNotice(msgspec.Struct, frozen=True):
    """One state change of one alert (a firing or a resolution)."""

    status: Status
    rule: str
    severity: Severity
    labels: dict[str, str]
    value: float
    starts_at: int
    ends_at: int | None
    fingerprint: str
    summary: str


_encoder = msgspec.json.Encoder()


def encode_alert(alert: AlertNotice) -> bytes:
    """Encode an alert as its JSON line (without the newline)."""
    return _encoder.encode(alert)
