"""Shared HTTP delivery helpers: classify responses, parse Retry-After, redact secrets."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from email.utils import parsedate_to_datetime

import aiohttp

from alerts.notify.base import NotifyResult

__all__ = ["classify", "parse_retry_after", "post_json", "redact"]


def redact(text: str, secrets: Iterable[str]) -> str:
    """Replace every occurrence of any secret (non-empty) in ``text`` with ``<redacted>``."""
    for s in secrets:
        if s:
            text = text.replace(s, "<redacted>")
    return text


def parse_retry_after(value: str | None, default_s: float = 1.0) -> float:
    """Parse a ``Retry-After`` header (seconds or an HTTP date) into seconds to wait."""
    if not value:
        return default_s
    v = value.strip()
    try:
        return max(0.0, float(v))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(v)
    except (TypeError, ValueError):
        return default_s
    return max(0.0, when.timestamp() - time.time())


def classify(status: int, body: str, retry_after: str | None) -> NotifyResult:
    """Map an HTTP answer to a result: 2xx ok; 429 wait; 408/5xx retry; other 4xx broken config."""
    short = body.strip().replace("\n", " ")[:120]
    if 200 <= status < 300:
        return NotifyResult(ok=True, status=status)
    if status == 429:
        return NotifyResult(
            ok=False,
            retryable=True,
            retry_after_s=parse_retry_after(retry_after),
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
