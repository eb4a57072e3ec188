"""Generic webhook notifier: the notification as JSON, signed with HMAC-SHA256.

Headers: ``X-Riskmon-Timestamp`` (unix seconds), ``X-Riskmon-Signature``
(``sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>``) and ``Idempotency-Key``. The
receiver verifies with :func:`verify_signature` and drops keys it has already processed.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import time

import aiohttp
import msgspec

from alerts.model import Notification
from alerts.notify.base import NotifyResult
from alerts.notify.http import HttpNotifier
from alerts.settings import WebhookReceiver, read_secret

__all__ = ["WebhookNotifier", "sign", "verify_signature"]

_enc = msgspec.json.Encoder()


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """Return the signature header value for a body sent at ``timestamp``."""
    mac = hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(
    secret: bytes, timestamp: str, body: bytes, header: str, max_age_s: float | None = 300.0
) -> bool:
    """Check a signature header in constant time (and, by default, that it is recent).

    Any malformed input (non-numeric, non-finite or non-ASCII timestamp, non-ASCII header)
    gives False, never an exception.
    """
    if not (timestamp.isascii() and header.isascii()):
        return False
    if max_age_s is not None:
        try:
            age = abs(time.time() - float(timestamp))
        except ValueError:
            return False
        if not math.isfinite(age) or age > max_age_s:
            return False
    return hmac.compare_digest(sign(secret, timestamp, body).encode(), header.encode())


class WebhookNotifier(HttpNotifier):
    """POST each notification as JSON to a URL, signed when a secret is configured."""

    def __init__(
        self, settings: WebhookReceiver, session: aiohttp.ClientSession | None = None
    ) -> None:
        """Raises ValueError when the URL is missing or a secret file cannot be read."""
        super().__init__(settings, session)
        self._secret = read_secret(
            settings.hmac_secret, settings.hmac_secret_file, f"receiver {settings.name} hmac_secret"
        )
        self.min_interval_s = settings.min_interval_s

    async def notify(self, notification: Notification) -> NotifyResult:
        """Post the notification; never raises."""
        body = _enc.encode(notification)
        if self._secret is None:
            return await self.post(notification, body)
        ts = str(int(time.time()))
        key = self._secret.get_secret_value()
        signed = {"X-Riskmon-Timestamp": ts, "X-Riskmon-Signature": sign(key.encode(), ts, body)}
        url = self._url.get_secret_value()
        return await self.post(notification, body, headers=signed, secrets=[url, key])
