"""Export the latest value of every signal to Prometheus, in base units, with stale series removed.

Naming. Each signal maps to one metric family through :data:`SIGNAL_METRICS`: the name gets the
``riskmon_`` prefix and a base unit (``_ratio`` for fractions, percentages and basis points,
``_seconds`` for hours, ``_usd`` for dollars), and the value is scaled to that unit
(``oi_drawdown_pct = -35`` is exported as ``riskmon_oi_drawdown_ratio -0.35``). The signal
counters ``feed_gaps_total`` and ``feed_reconnects_total`` are exported as counters
``riskmon_feed_health_*_total``, so that no family is exported twice or under two types (the
daemon's own ``riskmon_feed_reconnects_total{venue,reason}`` is a different counter). A signal
missing from the catalogue keeps its own name as a gauge. Alert-rule export and the dashboards
read the same table (:func:`metric_for`), so thresholds are scaled exactly like the values.

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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Literal

from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from streams.clock import Clock, SystemClock
from streams.signals import Signal

__all__ = [
    "ENTITY_LABELS",
    "MAX_SERIES",
    "SIGNAL_METRICS",
    "STALE_AFTER_S",
    "MetricSpec",
    "SignalExporter",
    "metric_for",
]

_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
MAX_SERIES = 50_000
#: a series whose venue/asset/coin/quote appeared in no signal for this long leaves the scrape
STALE_AFTER_S = 600.0
ENTITY_LABELS = ("venue", "asset", "coin", "quote")
_PREFIX = "riskmon_"


@dataclass(frozen=True, slots=True)
class MetricSpec:
    """How one signal is exported: metric name, scale to the base unit, type and help."""

    metric: str
    scale: float = 1.0
    kind: Literal["gauge", "counter"] = "gauge"
    help: str = ""


def _g(metric: str, help_: str, scale: float = 1.0) -> MetricSpec:
    return MetricSpec(_PREFIX + metric, scale, "gauge", help_)


#: signal name -> exported metric (names carry base units; values are scaled to them)
SIGNAL_METRICS: dict[str, MetricSpec] = {
    "liq_usd": _g("liq_usd", "Liquidated notional in the window, USD."),
    "liq_count": _g("liq_events", "Liquidation events in the window."),
    "liq_long_share": _g("liq_long_share_ratio", "Long share of liquidated USD (0 when empty)."),
    "liq_burst_z": _g("liq_burst_zscore", "Robust z of 1-minute liquidations vs baseline."),
    "liq_saturated_seconds": _g(
        "liq_saturated_seconds", "Seconds in the last hour a capped venue hit its cap."
    ),
    "liq_window_covered": _g("liq_window_covered", "1 once a whole window of data was seen."),
    "oi_usd": _g("oi_usd", "Open interest, USD."),
    "oi_change_pct": _g("oi_change_ratio", "Change of open interest over the window.", 0.01),
    "oi_drawdown_pct": _g("oi_drawdown_ratio", "Open interest vs its 60-day peak (<= 0).", 0.01),
    "oi_drawdown_coverage": _g(
        "oi_drawdown_coverage_ratio", "Share of the total the OI drawdown covers."
    ),
    "oi_complete": _g("oi_complete", "1 when every known instrument's OI is fresh."),
    "oi_venue_included": _g("oi_venue_included", "1 when the venue counts in the OI total."),
    "price_ref": _g("price_ref", "Reference price (median of fresh venues), quote currency."),
    "price_venues": _g("price_venues", "Venues in the reference price."),
    "price_drawdown_pct": _g(
        "price_drawdown_ratio", "Reference price vs its 90-day high (<= 0).", 0.01
    ),
    "price_return_pct": _g("price_return_ratio", "Reference price return over the window.", 0.01),
    "funding_rate_8h": _g("funding_rate_8h_ratio", "Funding rate per 8 hours (0.0001 = 0.01%)."),
    "funding_rate_annual_pct": _g(
        "funding_rate_annual_ratio", "Funding rate per year (simple).", 0.01
    ),
    "funding_negative_hours": _g(
        "funding_negative_seconds", "Time the OI-weighted funding has been negative.", 3600.0
    ),
    "peg_price": _g("peg_price_usd", "Stablecoin mid, USD."),
    "peg_deviation_bps": _g("peg_deviation_ratio", "Stablecoin price - 1.", 1e-4),
    "peg_median_deviation_bps": _g(
        "peg_median_deviation_ratio", "Median deviation from peg over fresh venues.", 1e-4
    ),
    "peg_venues": _g("peg_venues", "Fresh venues quoting the coin."),
    "peg_venues_deviating": _g(
        "peg_venues_deviating", "Fresh venues deviating by at least `threshold` bps."
    ),
    "peg_dislocation_bps": _g(
        "peg_dislocation_ratio", "Venue deviation minus the median of the others.", 1e-4
    ),
    "peg_max_dislocation_bps": _g(
        "peg_max_dislocation_ratio", "The largest venue dislocation (signed).", 1e-4
    ),
    "peg_reference_fresh": _g("peg_reference_fresh", "0 when parity replaced the USD reference."),
    "feed_age_seconds": _g("feed_age_seconds", "Event time since the channel's newest event."),
    "feed_up": _g("feed_up", "1 while the channel reports itself up."),
    "feed_gaps_total": MetricSpec(
        "riskmon_feed_health_gaps_total", 1.0, "counter", "Up to stale/down transitions."
    ),
    "feed_reconnects_total": MetricSpec(
        "riskmon_feed_health_reconnects_total",
        1.0,
        "counter",
        "Reconnects seen on the connection channel (event stream).",
    ),
    "deleveraging_score": _g("deleveraging_score", "Deleveraging composite score, 0-100."),
    "deleveraging_component": _g(
        "deleveraging_component_ratio", "Deleveraging score component, 0-1."
    ),
    "deleveraging_score_inputs": _g(
        "deleveraging_score_inputs", "Score components that had data (0-6)."
    ),
}


def metric_for(signal: str) -> MetricSpec:
    """The exported metric of a signal (a signal outside the catalogue keeps its own name)."""
    spec = SIGNAL_METRICS.get(signal)
    if spec is not None:
        return spec
    if signal.endswith("_total"):
        return MetricSpec(_PREFIX + signal, 1.0, "counter", f"riskmon signal {signal}")
    return MetricSpec(_PREFIX + signal, 1.0, "gauge", f"riskmon signal {signal}")


class SignalExporter(Collector):
    """A custom collector holding the latest sample of every signal series.

    Args:
        registry: where to register the collector and its drop counter.
        max_series: the hard cap on exported series.
        stale_after_s: how long an entity (venue, asset, coin, quote value) may be absent from
            every signal before its series leave the scrape.
        clock: the wall clock staleness is measured on (``monotonic``).
    """

    def __init__(
        self,
        registry: CollectorRegistry,
        max_series: int = MAX_SERIES,
        stale_after_s: float = STALE_AFTER_S,
        clock: Clock | None = None,
    ) -> None:
        self.max_series = max_series
        self.stale_after_s = stale_after_s
        self.clock: Clock = clock or SystemClock()
        self._labels: dict[str, tuple[str, ...]] = {}
        self._values: dict[tuple[str, tuple[str, ...]], float] = {}
        self._seen: dict[tuple[str, str], float] = {}  # (entity label, value) -> monotonic s
        self._next_expiry = 0.0
        self.dropped = Counter(
            "riskmon_signal_dropped_total",
            "Signal samples not exported, by reason",
            ["reason"],
            registry=registry,
        )
        self.expired = Counter(
            "riskmon_signal_expired_series_total",
            "Signal series removed from the scrape because their entity went stale",
            registry=registry,
        )
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
            if len(s.labels) != len(names) or any(k not in s.labels for k in names):
                self.dropped.labels(reason="bad_labels").inc()
                continue
            key = (s.name, tuple(s.labels[k] for k in names))
            if key not in self._values and len(self._values) >= self.max_series:
                self.dropped.labels(reason="series_cap").inc()
                continue
            self._values[key] = s.value
            for k in ENTITY_LABELS:
                v = s.labels.get(k)
                if v is not None:
                    seen[(k, v)] = now
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
        for e in stale:
            del self._seen[e]
        if gone:
            self.expired.inc(len(gone))
        return len(gone)

    def _is_stale(self, key: tuple[str, tuple[str, ...]], stale: set[tuple[str, str]]) -> bool:
        name, values = key
        return any(
            (k, v) in stale
            for k, v in zip(self._labels[name], values, strict=True)
            if k in ENTITY_LABELS
        )

    def series(self) -> int:
        """How many series the next scrape exports (before dropping non-finite values)."""
        return len(self._values)

    def collect(self) -> Iterator[Metric]:
        """Yield one family per signal name (called by the registry at scrape time)."""
        self.expire()
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

    def describe(self) -> list[Metric]:
        """Nothing to describe up front: the families appear with their first samples."""
        return []
