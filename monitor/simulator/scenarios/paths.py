"""Series over event time for the episode scenarios: anchored paths and smooth seeded noise.

A :class:`Path` is given by ``(time, value)`` anchors (UTC text via :func:`ts`, or int ns) and
interpolated linearly, or log-linearly for prices and amounts (:func:`amount`, :func:`amounts`:
the episode files' loader builds those paths through them); it holds its first value before the
first anchor and its last value after the last. :class:`Noise` is deterministic smooth noise of
unit standard deviation (normal values on knots, cosine-interpolated), seeded by the scenario
seed and a name so that each series has its own.
"""

from __future__ import annotations

import bisect
import math
import zlib
from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np

from streams.units import NS_PER_SECOND, NS_PER_US

__all__ = ["Noise", "Path", "amount", "amounts", "ts"]


def ts(text: str) -> int:
    """UTC ``YYYY-MM-DD HH:MM[:SS]`` → int ns."""
    dt = datetime.fromisoformat(text).replace(tzinfo=UTC)
    return round(dt.timestamp() * 1e6) * NS_PER_US


class Path:
    """A series given by anchors ``(time, value)``, linear (or log-linear) in between.

    Before the first anchor the first value holds, after the last the last value.
    """

    def __init__(self, anchors: Sequence[tuple[str | int, float]], *, log: bool = False) -> None:
        pts = sorted((ts(a) if isinstance(a, str) else int(a), float(v)) for a, v in anchors)
        if not pts:
            raise ValueError("a path needs at least one anchor")
        self.t = [p[0] for p in pts]
        self.v = [p[1] for p in pts]
        self.log = log
        self._y = [math.log(v) for v in self.v] if log else self.v

    def __call__(self, t: int) -> float:
        i = bisect.bisect_right(self.t, t)
        if i == 0:
            return self.v[0]
        if i == len(self.t):
            return self.v[-1]
        t0, t1 = self.t[i - 1], self.t[i]
        x = (t - t0) / (t1 - t0)
        y = self._y[i - 1] + (self._y[i] - self._y[i - 1]) * x
        return math.exp(y) if self.log else y

    @classmethod
    def const(cls, value: float) -> Path:
        """A flat path."""
        return cls([(0, value)])


def amount(anchors: Sequence[tuple[str | int, float]]) -> Path:
    """A price or an amount (USD per hour, open interest): a log-linear path."""
    return Path(anchors, log=True)


def amounts(**anchors: Sequence[tuple[str | int, float]]) -> dict[str, Path]:
    """A price or amount path per asset: ``amounts(BTC=[...], ETH=[...])``."""
    return {name: amount(a) for name, a in anchors.items()}


class Noise:
    """Deterministic smooth noise (unit s.d.): normal values on knots, cosine-interpolated.

    Args:
        seed: the scenario seed.
        name: the series' name (a different name gives independent noise).
        start: first time covered (ns); earlier times get the first knot's value.
        end: last time covered (ns).
        knot_s: seconds between knots (the noise's time scale).
    """

    def __init__(self, seed: int, name: str, start: int, end: int, knot_s: float) -> None:
        rng = np.random.default_rng([seed, zlib.crc32(name.encode())])
        self.start = start
        self.knot = int(knot_s * NS_PER_SECOND)
        n = max(0, (end - start) // self.knot) + 3
        self.vals: list[float] = rng.standard_normal(n).tolist()

    def __call__(self, t: int) -> float:
        x = max(0.0, (t - self.start) / self.knot)
        i = min(int(x), len(self.vals) - 2)
        f = min(1.0, x - i)
        w = 0.5 - 0.5 * math.cos(math.pi * f)
        return self.vals[i] * (1.0 - w) + self.vals[i + 1] * w
