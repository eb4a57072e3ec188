"""The figures the backtest report charts: the latest value of each series at every minute.

Only the series the charts draw are kept (:data:`TRACKED`), and of ``liq_usd``, ``oi_usd`` and
``funding_rate_8h`` only the cross-venue aggregates, so a week-long scenario stays small.
"""

from __future__ import annotations

from collections.abc import Iterable

from streams.signals import Signal
from streams.units import NS_PER_MINUTE

__all__ = ["TRACKED", "Recorder", "SeriesKey", "series_key"]

#: the signals the report charts (and the covered share its liquidation figures stand for)
TRACKED = frozenset(
    {
        "price_ref",
        "price_drawdown_pct",
        "oi_usd",
        "oi_drawdown_pct",
        "liq_usd",
        "liq_burst_z",
        "liq_coverage_share",
        "peg_deviation_bps",
        "peg_median_deviation_bps",
        "funding_rate_8h",
        "deleveraging_score",
    }
)

#: a signal's name and its sorted label items
SeriesKey = tuple[str, tuple[tuple[str, str], ...]]


def series_key(name: str, **labels: str) -> SeriesKey:
    """The key of the series ``name{labels}``."""
    return name, tuple(sorted(labels.items()))


class Recorder:
    """The latest value of the charted series at every minute boundary of event time."""

    def __init__(self) -> None:
        self.latest: dict[SeriesKey, float] = {}
        self.rows: list[tuple[int, dict[SeriesKey, float]]] = []
        self._next: int | None = None

    def on_signals(self, signals: Iterable[Signal]) -> None:
        """Fold signals (in event-time order) into the per-minute record."""
        latest = self.latest
        for s in signals:
            if s.name not in TRACKED:
                continue
            if self._next is None:
                self._next = (s.ts // NS_PER_MINUTE + 1) * NS_PER_MINUTE
            while s.ts > self._next:
                self.rows.append((self._next, dict(latest)))
                self._next += NS_PER_MINUTE
            labels = s.labels
            if s.name == "liq_usd" and (
                labels.get("asset") != "all" or labels.get("window") == "5m"
            ):
                continue
            if s.name == "oi_usd" and labels.get("venue") != "all":
                continue
            if s.name == "funding_rate_8h" and labels.get("venue") != "oi_weighted":
                continue
            latest[(s.name, tuple(sorted(labels.items())))] = s.value

    def finish(self) -> None:
        """Record the last boundary."""
        if self._next is not None:
            self.rows.append((self._next, dict(self.latest)))

    def series(self, key: SeriesKey) -> tuple[list[int], list[float]]:
        """``(times, values)`` of one series (minutes where it had no value yet are left out)."""
        ts: list[int] = []
        vs: list[float] = []
        for t, row in self.rows:
            v = row.get(key)
            if v is not None:
                ts.append(t)
                vs.append(v)
        return ts, vs

    def keys(self, name: str) -> list[SeriesKey]:
        """Every recorded series of ``name``."""
        seen: set[SeriesKey] = set()
        for _, row in self.rows[-1:] or []:
            seen.update(k for k in row if k[0] == name)
        return sorted(seen)
