"""Helpers shared by the processors: de-duplicated signal emission, reading it back, names."""

from __future__ import annotations

import math
from typing import Any, TypeVar

from streams.signals import Signal

__all__ = ["SeriesCache", "SeriesValues", "instrument_parts", "keep_latest", "median"]


class SeriesCache:
    """Remember the last value emitted for every series and emit only changes.

    Series are keyed by name and the tuple of label values (in the order of ``keys``). Other
    processors (the composite) read current values through :meth:`get`. NaN is never emitted.
    """

    def __init__(self) -> None:
        self.last: dict[tuple[str, tuple[str, ...]], float] = {}

    def emit(
        self,
        out: list[Signal],
        name: str,
        keys: tuple[str, ...],
        values: tuple[str, ...],
        value: float,
        ts: int,
    ) -> None:
        """Append a signal to ``out`` if ``value`` differs from the last one emitted."""
        if value != value:  # NaN
            return
        k = (name, values)
        if self.last.get(k) == value:
            return
        self.last[k] = value
        out.append(Signal(name, dict(zip(keys, values, strict=True)), value, ts))

    def get(self, name: str, *values: str) -> float | None:
        """Return the last value emitted for ``name`` with these label values, if any."""
        return self.last.get((name, values))

    def snapshot(self) -> list[list[Any]]:
        """Return the cache as JSON-safe data."""
        return [[name, list(vals), value] for (name, vals), value in self.last.items()]

    def restore(self, state: list[list[Any]]) -> None:
        """Load data written by :meth:`snapshot`."""
        self.last = {(str(n), tuple(str(v) for v in vals)): float(x) for n, vals, x in state}


class SeriesValues:
    """Mixin for processors that emit through a :class:`SeriesCache` held in ``self._series``.

    It answers :meth:`value` (what the composite reads) from the cache.
    """

    _series: SeriesCache

    def value(self, name: str, *labels: str) -> float | None:
        """Return the last emitted value of a series (labels in catalogue order), if any."""
        return self._series.get(name, *labels)


K = TypeVar("K")


def keep_latest(table: dict[K, list[float]], key: K, value: float, ts: int) -> None:
    """Keep ``[value, ts]`` under ``key`` unless a later value is there already (late events lose).

    The record is updated in place, so callers holding it see the new value.
    """
    rec = table.get(key)
    if rec is None:
        table[key] = [value, ts]
    elif ts >= rec[1]:
        rec[0] = value
        rec[1] = ts


def instrument_parts(instrument: str) -> tuple[str, str, str]:
    """Split ``BASE-QUOTE-KIND`` (e.g. ``USDE-USDT-SPOT``) into its three parts.

    Missing parts are empty strings.
    """
    parts = instrument.split("-")
    while len(parts) < 3:
        parts.append("")
    return parts[0], parts[1], parts[-1]


def median(values: list[float]) -> float:
    """Return the median of a non-empty list (mean of the middle two for even lengths)."""
    s = sorted(values)
    n = len(s)
    if n == 0:
        return math.nan
    mid = n // 2
    if n % 2:
        return s[mid]
    return (s[mid - 1] + s[mid]) / 2.0
