"""Export the latest value of every signal to Prometheus, in base units, with stale series removed.

Naming. Each signal maps to one metric family through
:data:`streams.signal_metrics.SIGNAL_METRICS`: the name gets the
``riskmon_`` prefix and a base unit (``_ratio`` for fractions, percentages and basis points,
``_seconds`` for hours, ``_usd`` for dollars), and the value is scaled to that unit
(``oi_drawdown_pct = -35`` is exported as ``riskmon_oi_drawdown_ratio -0.35``). The signal
counters ``feed_gaps_total`` and ``feed_reconnects_total`` are exported as counters
``riskmon_feed_health_*_total``, so that no family is exported twice or under two types (the
daemon's own ``riskmon_feed_reconnects_total{venue,reason}`` is a different counter). A signal
missing from the catalogue keeps its own name as a gauge. Alert-rule export and the dashboards
read the same table (:func:`metric_for`), so thresholds are scaled exactly like the values.

Every catalogued family is declared on every scrape (``# HELP``/``# TYPE``), with samples once
the signal has been produced, so dashboards and rules can name a family before its first sample.

Safety. Label names are fixed by the first sample of a signal (a later sample with other label
names is rejected and counted in ``riskmon_signal_dropped_total``); series are capped; non-finite
values are omitted, never exported as NaN.

Staleness. Processors emit a series only when its value changes, so a quiet series and a dead one
look alike; what dies is an *entity*: a venue removed, an asset or coin no longer quoted. The
exporter remembers when each value of the entity labels ``venue``, ``asset``, ``coin`` and
``quote`` last appeared in any signal; a series whose entity has appeared in no signal for
``stale_after_s`` (default 600 s, wall clock) is removed from the scrape and forgotten.

The pipeline writes (:meth:`SignalExporter.update`); the collector reads one dict copy per scrape.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection, Iterable, Iterator
from typing import cast

from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString as _untyped_float_to_go

from streams.clock import Clock, SystemClock
from streams.signal_metrics import SIGNAL_METRICS, metric_for
from streams.signals import Signal

__all__ = ["ENTITY_LABELS", "MAX_SERIES", "STALE_AFTER_S", "SignalExporter"]

_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
MAX_SERIES = 50_000
#: a series whose venue/asset/coin/quote appeared in no signal for this long leaves the scrape
STALE_AFTER_S = 600.0
ENTITY_LABELS = ("venue", "asset", "coin", "quote")


class SignalExporter(Collector):
    """A custom collector holding the latest sample of every signal series.

    Args:
        registry: where to register the collector and its drop counter.
        max_series: the hard cap on exported series.
        stale_after_s: how long an entity (venue, asset, coin, quote value) may be absent from
            every signal before its series leave the scrape.
        clock: the wall clock staleness is measured on (``monotonic``).
        register: register the collector itself (False when the HTTP endpoint renders it with
            :meth:`exposition`, as the daemon's does; the drop counter is always registered).
    """

    def __init__(
        self,
        registry: CollectorRegistry,
        max_series: int = MAX_SERIES,
        stale_after_s: float = STALE_AFTER_S,
        clock: Clock | None = None,
        register: bool = True,
    ) -> None:
        self.max_series = max_series
        self.stale_after_s = stale_after_s
        self.clock: Clock = clock or SystemClock()
        self._labels: dict[str, tuple[str, ...]] = {}
        self._entities: dict[str, tuple[str, ...]] = {}  # entity label names of each signal
        self._values: dict[tuple[str, tuple[str, ...]], float] = {}
        self._seen: dict[tuple[str, str], float] = {}  # (entity label, value) -> monotonic s
        self._label_text: dict[tuple[str, tuple[str, ...]], str] = {}  # '{a="b",...}' per series
        self._next_expiry = 0.0
        self.dropped = Counter(
            "riskmon_signal_dropped_total",
            "Signal samples not exported, by reason",
            ["reason"],
            registry=registry,
        )
        self.expired_series = 0
        if register:
            registry.register(self)

    def update(self, signals: Iterable[Signal]) -> None:
        """Record the latest value of each signal."""
        now = self.clock.monotonic()
        seen = self._seen
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
                self._entities[s.name] = tuple(k for k in names if k in ENTITY_LABELS)
            if len(s.labels) != len(names) or any(k not in s.labels for k in names):
                self.dropped.labels(reason="bad_labels").inc()
                continue
            key = (s.name, tuple(s.labels[k] for k in names))
            if key not in self._values and len(self._values) >= self.max_series:
                self.dropped.labels(reason="series_cap").inc()
                continue
            self._values[key] = s.value
            for k in self._entities[s.name]:
                seen[(k, s.labels[k])] = now
        if now >= self._next_expiry:
            self.expire(now)
            self._next_expiry = now + 1.0

    def expire(self, now: float | None = None) -> int:
        """Forget every series whose entity went stale; return how many were removed."""
        now = self.clock.monotonic() if now is None else now
        limit = now - self.stale_after_s
        stale = {e for e, t in self._seen.items() if t < limit}
        if not stale:
            return 0
        gone = [key for key in self._values if self._is_stale(key, stale)]
        for key in gone:
            del self._values[key]
            self._label_text.pop(key, None)
        for e in stale:
            del self._seen[e]
        self.expired_series += len(gone)
        return len(gone)

    def _is_stale(self, key: tuple[str, tuple[str, ...]], stale: set[tuple[str, str]]) -> bool:
        name, values = key
        return any(
            (k, v) in stale
            for k, v in zip(self._labels[name], values, strict=True)
            if k in ENTITY_LABELS
        )

    def latest(self, names: Collection[str]) -> Iterator[tuple[str, dict[str, str], float]]:
        """The latest value of every live series of the signals ``names``, in signal units.

        ``(name, labels, value)``, non-finite values included; stale series are already gone.
        """
        for (name, label_values), value in list(self._values.items()):
            if name in names:
                yield name, dict(zip(self._labels[name], label_values, strict=True)), value

    def series(self) -> int:
        """How many series the next scrape exports (before dropping non-finite values)."""
        return len(self._values)

    def collect(self) -> Iterator[Metric]:
        """Yield one family per signal name (called by the registry at scrape time)."""
        self.expire()
        expired = CounterMetricFamily("riskmon_signal_expired_series", _EXPIRED_HELP)
        expired.add_metric([], self.expired_series)
        yield expired
        values = dict(self._values)
        families: dict[str, tuple[GaugeMetricFamily | CounterMetricFamily, float]] = {}
        for (name, label_values), value in values.items():
            if not math.isfinite(value):
                continue
            entry = families.get(name)
            if entry is None:
                spec = metric_for(name)
                labels = list(self._labels[name])
                fam: GaugeMetricFamily | CounterMetricFamily
                if spec.kind == "counter":
                    fam = CounterMetricFamily(spec.metric, spec.help, labels=labels)
                else:
                    fam = GaugeMetricFamily(spec.metric, spec.help, labels=labels)
                entry = families[name] = (fam, spec.scale)
            entry[0].add_metric(list(label_values), value * entry[1])
        for fam, _scale in families.values():
            yield fam
        for name, spec in SIGNAL_METRICS.items():  # declared before their first sample
            if name not in families:
                if spec.kind == "counter":
                    yield CounterMetricFamily(spec.metric, spec.help)
                else:
                    yield GaugeMetricFamily(spec.metric, spec.help)

    def exposition(self, openmetrics: bool = False) -> str:
        """The same families as :meth:`collect`, rendered directly (the daemon's fast path).

        Byte-identical to rendering :meth:`collect` with prometheus-client (text format 0.0.4,
        or OpenMetrics without the final ``# EOF``), at a fraction of the cost: label strings
        are built once per series.
        """
        self.expire()
        out = [
            _header("riskmon_signal_expired_series", _EXPIRED_HELP, "counter", openmetrics),
            f"riskmon_signal_expired_series_total {floatToGoString(self.expired_series)}\n",
        ]
        cache = self._label_text
        by_name: dict[str, list[str]] = {}
        scales: dict[str, float] = {}
        for key, value in list(self._values.items()):
            if not math.isfinite(value):
                continue
            name = key[0]
            lines = by_name.get(name)
            if lines is None:
                lines = by_name[name] = []
                scales[name] = metric_for(name).scale
            text = cache.get(key)
            if text is None:
                text = cache[key] = _label_text(self._labels[name], key[1])
            lines.append(f"{text} {floatToGoString(value * scales[name])}\n")
        for name, lines in by_name.items():
            spec = metric_for(name)
            fam = spec.metric.removesuffix("_total") if spec.kind == "counter" else spec.metric
            sample = fam + "_total" if spec.kind == "counter" else fam
            out.append(_header(fam, spec.help, spec.kind, openmetrics))
            out.extend(sample + line for line in lines)
        for name, spec in SIGNAL_METRICS.items():
            if name not in by_name:
                fam = spec.metric.removesuffix("_total") if spec.kind == "counter" else spec.metric
                out.append(_header(fam, spec.help, spec.kind, openmetrics))
        return "".join(out)

    def describe(self) -> list[Metric]:
        """Nothing to describe up front: the families appear with their first samples."""
        return []


#: prometheus-client's number format (``1e+06``, ``NaN``), typed
floatToGoString = cast(Callable[[float], str], _untyped_float_to_go)
_EXPIRED_HELP = "Signal series removed from the scrape because their entity went stale"


def _escape_value(v: str) -> str:
    return v.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _label_text(names: tuple[str, ...], values: tuple[str, ...]) -> str:
    if not names:
        return ""
    pairs = ",".join(f'{k}="{_escape_value(v)}"' for k, v in zip(names, values, strict=True))
    return "{" + pairs + "}"


def _header(family: str, help_: str, kind: str, openmetrics: bool) -> str:
    if openmetrics:
        text = help_.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')
        return f"# HELP {family} {text}\n# TYPE {family} {kind}\n"
    name = family + "_total" if kind == "counter" else family
    text = help_.replace("\\", "\\\\").replace("\n", "\\n")
    return f"# HELP {name} {text}\n# TYPE {name} {kind}\n"
