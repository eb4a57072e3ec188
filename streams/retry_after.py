"""``Retry-After`` (RFC 9110 §10.2.3): delay-seconds or an HTTP date, read into seconds."""

from __future__ import annotations

import math
from email.utils import parsedate_to_datetime

__all__ = ["retry_after_s"]


def retry_after_s(value: str | None, now_s: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header, or ``None`` when absent or unreadable.

    ``now_s`` is the current Unix time (from the run's clock) for the HTTP-date form. The result
    is not clamped: it may be huge or infinite (``1e12``, ``inf``); callers bound it with
    :func:`streams.backoff.bounded_wait` and count the clamp. A date in the past gives ``0``.
    """
    if value is None:
        return None
    v = value.strip()
    if not v:
        return None
    try:
        seconds = float(v)
    except ValueError:
        pass
    else:
        if math.isnan(seconds):
            return math.inf
        return max(0.0, seconds)
    try:
        when = parsedate_to_datetime(v)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - now_s)
