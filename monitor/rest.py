"""One place where a venue's REST answer is read: polls, the backfill and instrument lists.

A venue can answer anything: a 503 HTML page, a body that is not UTF-8 or not JSON, a body cut
short of its ``Content-Length``, 50 MB of something. :func:`fetch` turns every answer into a
:class:`RestAnswer` whose ``outcome`` is ``ok`` or one reason from a closed set
(:data:`OUTCOMES`), counts it in ``riskmon_feed_rest_requests_total{venue,outcome}`` and never
raises for what the venue sent (only cancellation propagates):

- ``rate_limited``: HTTP 418/429 (the caller honours ``Retry-After``);
- ``http_error`` / ``server_error``: any other status than 200 (4xx / 5xx); the body is not read;
- ``unreachable``: connection refused or reset, DNS, timeout;
- ``too_large``: a declared or streamed body over ``max_bytes`` (:data:`MAX_BODY_BYTES`): the
  read stops there, the connection is dropped, nothing is buffered beyond the cap;
- ``truncated``: the connection ended before the declared ``Content-Length``;
- ``not_utf8``: the body does not decode as UTF-8;
- ``not_json``: the body is not one well-formed JSON document.

Only an ``ok`` answer carries a body (``text``, valid JSON).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal, get_args

import aiohttp
import msgspec
import structlog

from monitor.metrics import MonitorMetrics

__all__ = ["MAX_BODY_BYTES", "OUTCOMES", "Outcome", "RestAnswer", "fetch"]

log = structlog.get_logger(__name__)

Outcome = Literal[
    "ok",
    "rate_limited",
    "http_error",
    "server_error",
    "unreachable",
    "too_large",
    "truncated",
    "not_utf8",
    "not_json",
]
OUTCOMES: Final[tuple[Outcome, ...]] = get_args(Outcome)
#: the largest body read (Binance spot's full exchangeInfo, the largest answer we ask for, is
#: far below); anything larger is ``too_large``
MAX_BODY_BYTES: Final = 32 * 1024 * 1024
_CHUNK = 64 * 1024


@dataclass(frozen=True, slots=True)
class RestAnswer:
    """What one request got.

    Attributes:
        outcome: ``ok`` or why not.
        status: the HTTP status (0: no answer).
        text: the body, valid UTF-8 JSON (only when ``ok``).
        body: the same body as bytes.
        retry_after: the ``Retry-After`` header of a rate-limited answer.
        error: a short description for logs (no body content).
    """

    outcome: Outcome
    status: int = 0
    text: str = ""
    body: bytes = b""
    retry_after: str | None = None
    error: str = ""

    @property
    def ok(self) -> bool:
        """True when the body can be parsed."""
        return self.outcome == "ok"


async def fetch(
    http: aiohttp.ClientSession,
    url: str,
    *,
    venue: str,
    what: str,
    metrics: MonitorMetrics | None = None,
    data: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout_s: float = 10.0,
    max_bytes: int = MAX_BODY_BYTES,
) -> RestAnswer:
    """GET ``url`` (POST ``data`` when given); classify, count and log the answer.

    Args:
        http: the client session.
        url: the request URL.
        venue: the venue (metric label, log field).
        what: what is asked (a poll key, ``backfill``, ``instruments``) for the logs.
        metrics: where ``riskmon_feed_rest_requests_total`` is counted (None: not counted).
        data: a POST body.
        headers: request headers.
        timeout_s: the whole request's timeout.
        max_bytes: the largest body read.
    """
    answer = await _request(http, url, data, headers, timeout_s, max_bytes)
    if metrics is not None:
        metrics.rest_requests.labels(venue=venue, outcome=answer.outcome).inc()
    if not answer.ok:
        emit = log.info if answer.outcome == "rate_limited" else log.warning
        emit(
            "feed.rest_failed",
            venue=venue,
            request=what,
            outcome=answer.outcome,
            status=answer.status,
            error=answer.error,
        )
    return answer


async def _request(
    http: aiohttp.ClientSession,
    url: str,
    data: bytes | None,
    headers: dict[str, str] | None,
    timeout_s: float,
    max_bytes: int,
) -> RestAnswer:
    status = 0
    try:
        async with http.request(
            "POST" if data is not None else "GET",
            url,
            data=data,
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=timeout_s),
        ) as resp:
            status = resp.status
            if status in (418, 429):
                return RestAnswer(
                    "rate_limited", status, retry_after=resp.headers.get("Retry-After")
                )
            if status != 200:
                kind: Outcome = "server_error" if status >= 500 else "http_error"
                return RestAnswer(kind, status, error=f"HTTP {status}")
            declared = resp.content_length
            if declared is not None and declared > max_bytes:
                resp.close()
                return RestAnswer("too_large", status, error=f"Content-Length {declared}")
            body = bytearray()
            async for chunk in resp.content.iter_chunked(_CHUNK):
                body += chunk
                if len(body) > max_bytes:
                    resp.close()  # drop the connection: nothing more is read
                    return RestAnswer("too_large", status, error=f"over {max_bytes} bytes")
    except aiohttp.ClientPayloadError as e:
        return RestAnswer("truncated", status, error=type(e).__name__)
    except (aiohttp.ClientError, TimeoutError, OSError) as e:
        return RestAnswer("unreachable", status, error=type(e).__name__)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as e:
        return RestAnswer("not_utf8", status, error=f"byte {e.start}")
    try:
        msgspec.json.decode(body, type=msgspec.Raw)
    except msgspec.DecodeError as e:
        return RestAnswer("not_json", status, error=str(e)[:120])
    return RestAnswer("ok", status, text, bytes(body))
