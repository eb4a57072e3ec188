"""Capped exponential backoff with jitter."""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = ["Backoff"]


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
