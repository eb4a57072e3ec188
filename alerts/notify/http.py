"""Shared HTTP delivery helpers: classify responses, read Retry-After, redact secrets.

:class:`HttpNotifier` is the base of the notifiers that POST JSON (Slack, webhook, Alertmanager):
the receiver's name, its secret URL (never in ``repr``), the timeout and an HTTP session, created
on first use and closed by :meth:`HttpNotifier.aclose` unless the caller passed its own;
:meth:`HttpNotifier.post` sends a notification's body with its ``Idempotency-Key``.

``Retry-After`` is read with :func:`streams.retry_after.retry_after_s` (seconds or an HTTP date)
and bounded with :func:`streams.backoff.bounded_wait`: absent or unreadable means
``RETRY_AFTER_DEFAULT_S``, anything over ``RETRY_AFTER_CAP_S`` (or infinite) means the cap.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Protocol

import aiohttp
from pydantic import SecretStr

from alerts.model import Notification
from alerts.notify.base import NotifyResult
from alerts.settings import required_secret
from streams.backoff import bounded_wait
from streams.retry_after import retry_after_s

__all__ = [
    "RETRY_AFTER_CAP_S",
    "RETRY_AFTER_DEFAULT_S",
    "HttpNotifier",
    "HttpReceiver",
    "classify",
    "post_json",
    "redact",
    "retry_wait_s",
]

#: wait this long after a 429 without a readable ``Retry-After``
RETRY_AFTER_DEFAULT_S = 1.0
#: never wait longer than a day on a receiver's word
RETRY_AFTER_CAP_S = 86_400.0


def redact(text: str, secrets: Iterable[str]) -> str:
    """Replace every occurrence of any secret (non-empty) in ``text`` with ``<redacted>``."""
    for s in secrets:
        if s:
            text = text.replace(s, "<redacted>")
    return text


def retry_wait_s(value: str | None, now_s: float) -> float:
    """Seconds to wait for a ``Retry-After`` header value, defaulted and bounded."""
    seconds = retry_after_s(value, now_s)
    if seconds is None:
        return RETRY_AFTER_DEFAULT_S
    return bounded_wait(seconds, RETRY_AFTER_CAP_S)[0]


def classify(status: int, body: str, retry_after: str | None) -> NotifyResult:
    """Map an HTTP answer to a result: 2xx ok; 429 wait; 408/5xx retry; other 4xx broken config."""
    short = body.strip().replace("\n", " ")[:120]
    if 200 <= status < 300:
        return NotifyResult(ok=True, status=status)
    if status == 429:
        return NotifyResult(
            ok=False,
            retryable=True,
            retry_after_s=retry_wait_s(retry_after, time.time()),
            error=f"HTTP 429 rate limited {short}".strip(),
            status=status,
        )
    if status == 408 or status >= 500:
        return NotifyResult(
            ok=False, retryable=True, error=f"HTTP {status} {short}".strip(), status=status
        )
    return NotifyResult(
        ok=False, broken=True, error=f"HTTP {status} {short}".strip(), status=status
    )


async def post_json(
    session: aiohttp.ClientSession,
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    timeout_s: float,
    secrets: Iterable[str],
) -> NotifyResult:
    """POST a JSON body and classify the answer; network errors are retryable, never raised."""
    try:
        async with session.post(
            url,
            data=body,
            headers={"Content-Type": "application/json", **headers},
            timeout=aiohttp.ClientTimeout(total=timeout_s),
            allow_redirects=False,
        ) as resp:
            text = await resp.text(errors="replace")
            return classify(resp.status, redact(text, secrets), resp.headers.get("Retry-After"))
    except TimeoutError:
        return NotifyResult(ok=False, retryable=True, error="timeout")
    except aiohttp.InvalidURL:
        return NotifyResult(ok=False, broken=True, error="invalid URL")
    except aiohttp.ClientError as e:
        return NotifyResult(
            ok=False, retryable=True, error=f"connection error ({type(e).__name__})"
        )


class HttpReceiver(Protocol):
    """The settings every HTTP receiver has (see :mod:`alerts.settings`)."""

    @property
    def name(self) -> str: ...
    @property
    def url(self) -> SecretStr | None: ...
    @property
    def url_file(self) -> Path | None: ...
    @property
    def timeout_s(self) -> float: ...


class HttpNotifier:
    """The base of a notifier that POSTs JSON to a secret URL.

    Args:
        settings: the receiver's settings (name, ``url`` or ``url_file``, ``timeout_s``).
        session: an HTTP session to use (and leave open); default: one of its own.

    Raises:
        ValueError: the URL is missing or its file cannot be read.
    """

    def __init__(self, settings: HttpReceiver, session: aiohttp.ClientSession | None) -> None:
        self.name = settings.name
        self._url = required_secret(settings.url, settings.url_file, settings.name, "url")
        self._session = session
        self._own_session = session is None
        self.timeout_s = settings.timeout_s

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, url=SecretStr('**********'))"

    def session(self) -> aiohttp.ClientSession:
        """The HTTP session, created on first use when none was given."""
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session

    async def post(
        self,
        notification: Notification,
        body: bytes,
        *,
        url: str | None = None,
        headers: Mapping[str, str] | None = None,
        secrets: Iterable[str] | None = None,
    ) -> NotifyResult:
        """POST a notification's JSON ``body`` with its ``Idempotency-Key``; never raises.

        ``url`` defaults to the receiver's URL; ``headers`` are added after the key; the answer
        is quoted with ``secrets`` (default: the URL) redacted.
        """
        target = self._url.get_secret_value() if url is None else url
        return await post_json(
            self.session(),
            target,
            body,
            {"Idempotency-Key": notification.idempotency_key, **(headers or {})},
            self.timeout_s,
            [target] if secrets is None else secrets,
        )

    async def aclose(self) -> None:
        """Close the HTTP session if this notifier created it."""
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None
