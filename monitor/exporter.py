"""Export the latest value of every signal to Prometheus, safely.

Each signal name becomes one gauge family ``riskmon_<name>`` whose label names are fixed by the
first sample seen (a later sample with other label names is rejected and counted). Series are
capped; non-finite values are omitted, never exported as NaN. The pipeline writes; the collector
reads one dict reference per scrape.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator

from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from streams.signals import Signal

__all__ = ["SignalExporter"]

_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
MAX_SERIES = 50_000


class SignalExporter(Collector):
    """A custom collector holding the latest sample of every signal series.

    Args:
        registry: where to register the collector and its drop counter.
        max_series: the hard cap on exported series.
    """

    def __init__(self, registry: CollectorRegistry, max_series: int = MAX_SERIES) -> None:
        self.max_series = max_series
        self._labels: dict[str, tuple[str, ...]] = {}
        self._values: dict[tuple[str, tuple[str, ...]], tuple[float, int]] = {}
        self.dropped = Counter(
            "riskmon_signal_dropped_total",
            "Signal samples not exported, by reason",
            ["reason"],
            registry=registry,
        )
        registry.register(self)

    def update(self, signals: Iterable[Signal]) -> None:
        """Record the latest value of each signal."""
        for s in signals:
            names = self._labels.get(s.name)
            if names is None:
                if not _NAME.match(s.name) or not all(
                    _NAME.match(k) and not k.startswith("__") for k in s.labels
                ):
                    self.dropped.labels(reason="bad_name").inc()
                    continue
                names = tuple(sorted(s.labels))
                self._labels[s.name] = names
            if len(s.labels) != len(names) or any(k not in s.labels for k in names):
                self.dropped.labels(reason="bad_labels").inc()
                continue
            key = (s.name, tuple(s.labels[k] for k in names))
            if key not in self._values and len(self._values) >= self.max_series:
                self.dropped.labels(reason="series_cap").inc()
                continue
            self._values[key] = (s.value, s.ts)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """Yield one gauge family per signal name (called by the registry at scrape time)."""
        values = dict(self._values)
        families: dict[str, GaugeMetricFamily] = {}
        for (name, label_values), (value, _ts) in values.items():
            if not math.isfinite(value):
                continue
            fam = families.get(name)
            if fam is None:
                fam = GaugeMetricFamily(
                    f"riskmon_{name}", f"riskmon signal {name}", labels=list(self._labels[name])
                )
                families[name] = fam
            fam.add_metric(list(label_values), value)
        yield from families.values()

    def describe(self) -> list[GaugeMetricFamily]:
        """Nothing to describe up front: the families appear with their first samples."""
        return []
