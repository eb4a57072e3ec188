"""Capped exponential backoff with jitter, and bounded waits (feeds, pollers, deliverers)."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

__all__ = ["Backoff", "bounded_wait"]


@dataclass(frozen=True, slots=True)
class Backoff:
    """``delay(n) = uniform((1 - jitter) * d, d)`` with ``d = min(max_s, initial_s * factor**n)``.

    Attributes:
        initial_s: the first delay.
        max_s: the cap.
        factor: growth per attempt.
        jitter: fraction of the delay drawn at random (0 = none, 1 = full jitter).
    """

    initial_s: float = 0.5
    max_s: float = 30.0
    factor: float = 2.0
    jitter: float = 0.5

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Return the delay before retry number ``attempt`` (0-based)."""
        d = min(self.max_s, self.initial_s * self.factor ** min(attempt, 64))
        r = (rng or random).random()
        return d * (1.0 - self.jitter * r)


def bounded_wait(seconds: float, cap_s: float) -> tuple[float, bool]:
    """Clamp a wait to ``[0, cap_s]``; a non-finite or larger value becomes the cap.

    Returns the wait and whether it had to be clamped (so callers can count absurd values).
    """
    if not math.isfinite(seconds) or seconds > cap_s:
        return cap_s, True
    if seconds < 0:
        return 0.0, True
    return seconds, False
