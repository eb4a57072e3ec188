"""Alertmanager notifier: POST /api/v2/alerts, as an Alertmanager client must.

Firing alerts are sent with ``endsAt`` = now + ``resolve_after_s`` and must be re-sent before that
(route this receiver with a short ``repeat_interval``, e.g. 60 s, which the settings default to).
Resolved alerts are sent with their ``endsAt`` and re-sent with every post for
``resolved_resend_s`` (5 minutes) after resolution, as the Alertmanager docs ask.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import aiohttp

from alerts.model import AlertNotice, Notification
from alerts.notify.base import NotifyResult
from alerts.notify.http import HttpNotifier
from alerts.settings import AlertmanagerReceiver
from streams.units import NS_PER_SECOND

__all__ = ["RESOLVED_RESEND_S", "AlertmanagerNotifier", "to_am_alert"]

RESOLVED_RESEND_S = 300.0


def _rfc3339(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, tz=UTC).isoformat().replace("+00:00", "Z")


def to_am_alert(a: AlertNotice, ends_ns: int | None, generator_url: str = "") -> dict[str, object]:
    """Convert an alert into Alertmanager's API v2 ``postableAlert``."""
    labels = {"alertname": a.rule, **a.labels}
    annotations = {"summary": a.summary, **a.annotations, "fingerprint": a.fingerprint}
    out: dict[str, object] = {
        "labels": labels,
        "annotations": annotations,
        "startsAt": _rfc3339(a.starts_at),
    }
    if ends_ns is not None:
        out["endsAt"] = _rfc3339(ends_ns)
    if generator_url:
        out["generatorURL"] = generator_url
    return out


class AlertmanagerNotifier(HttpNotifier):
    """Push alerts to an Alertmanager (or compatible) ``/api/v2/alerts`` endpoint."""

    #: resolved alerts are re-sent with every post for this long after resolution
    resolved_resend_s = RESOLVED_RESEND_S
    min_interval_s = 0.0

    def __init__(
        self, settings: AlertmanagerReceiver, session: aiohttp.ClientSession | None = None
    ) -> None:
        """Raises ValueError when the URL is missing or its file cannot be read."""
        super().__init__(settings, session)
        self.resolve_after_s = settings.resolve_after_s
        self.generator_url = settings.generator_url
        self._recent_resolved: dict[str, tuple[float, dict[str, object]]] = {}

    async def notify(self, notification: Notification) -> NotifyResult:
        """Post the alerts (plus recently resolved ones); never raises."""
        now = time.time()
        ends_firing = int((now + self.resolve_after_s) * NS_PER_SECOND)
        body: list[dict[str, object]] = []
        for a in notification.alerts:
            if a.status == "resolved":
                am = to_am_alert(a, a.ends_at or int(now * NS_PER_SECOND), self.generator_url)
                self._recent_resolved[a.fingerprint] = (now, am)
            else:
                self._recent_resolved.pop(a.fingerprint, None)
                body.append(to_am_alert(a, ends_firing, self.generator_url))
        for fp, (t, am) in list(self._recent_resolved.items()):
            if now - t > self.resolved_resend_s:
                del self._recent_resolved[fp]
            else:
                body.append(am)
        base = self._url.get_secret_value().rstrip("/")
        data = json.dumps(body).encode()
        return await self.post(notification, data, url=base + "/api/v2/alerts", secrets=[base])
