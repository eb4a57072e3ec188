"""Prometheus metrics of the monitor package (feeds, bus, pipeline, windows).

Names follow ``riskmon_<subsystem>_<noun>_<base unit>[_total]`` (subsystems ``feed``,
``instruments``, ``bus``, ``pipeline``, ``window``, ``peg``); signal families are named by
:mod:`monitor.exporter`, alert-engine families by :mod:`alerts.metrics`. Label values come from
config and code (venue ids, connection keys, channels, closed reason sets, processor names,
watched coins), never from wire strings or exception text.
The ``*_created`` series of counters and histograms are turned off (they double the series count
and no panel reads them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Generic, TypeVar

from prometheus_client import REGISTRY, CollectorRegistry, disable_created_metrics
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

from alerts.metrics import LATENCY_BUCKETS, MetricSet

__all__ = [
    "LATENCY_BUCKETS",
    "MetricSet",
    "MonitorMetrics",
    "ScrapeCollector",
    "SkewCounters",
    "WindowCounters",
]

T = TypeVar("T")

disable_created_metrics()  # type: ignore[no-untyped-call]


class MonitorMetrics(MetricSet):
    """The daemon's own metrics, on an injectable registry (a fresh one per test)."""

    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        super().__init__(registry)
        self.frames = self.counter("riskmon_feed_frames_total", "Raw frames received", ["venue"])
        self.frames_skipped = self.counter(
            "riskmon_feed_frames_skipped_total",
            "Frames that could not be parsed, by reason (malformed, unknown, no_metadata)",
            ["venue", "reason"],
        )
        self.events = self.counter(
            "riskmon_feed_events_total", "Normalized events produced", ["venue", "type"]
        )
        self.connects = self.counter(
            "riskmon_feed_connects_total", "Successful websocket connections", ["venue"]
        )
        self.reconnects = self.counter(
            "riskmon_feed_reconnects_total",
            "Connections lost or rotated and reopened",
            ["venue", "reason"],
        )
        self.connected = self.gauge(
            "riskmon_feed_connected",
            "1 while the connection is open and subscribed",
            ["venue", "connection"],
        )
        self.status_changes = self.counter(
            "riskmon_feed_status_changes_total",
            "Feed status changes",
            ["venue", "channel", "status"],
        )
        self.stream_up = self.gauge(
            "riskmon_feed_stream_up",
            "1 while a channel delivers within its quiet limit, 0 when stale or silent",
            ["venue", "channel"],
        )
        self.rest_requests = self.counter(
            "riskmon_feed_rest_requests_total",
            "REST requests (polls, backfill, instrument lists) by outcome: ok, rate_limited,"
            " http_error, server_error, unreachable, too_large, truncated, not_utf8, not_json",
            ["venue", "outcome"],
        )
        self.instruments_derived = self.counter(
            "riskmon_instruments_derived_total",
            "Symbols without instrument metadata whose asset was read from the symbol itself",
            ["venue"],
        )
        self.instruments_listed = self.gauge(
            "riskmon_instruments_listed",
            "Instruments with metadata (packaged snapshot, cache and the venue's REST listing)",
            ["venue"],
        )
        self.bus_dropped = self.counter(
            "riskmon_bus_dropped_total",
            "Events dropped because the bus was full (quotes only)",
            ["type"],
        )
        self.bus_depth = self.gauge(
            "riskmon_bus_queue_depth", "Events waiting on the in-process bus"
        )
        self.signals = self.counter("riskmon_pipeline_signals_total", "Signal samples produced")
        self.alert_notices = self.counter(
            "riskmon_pipeline_alert_notices_total",
            "Alert state changes produced",
            ["status", "severity"],
        )
        self.latency = self.histogram(
            "riskmon_pipeline_event_latency_seconds",
            "Time from a frame's receipt to its event being processed",
        )
        self.notice_latency = self.histogram(
            "riskmon_pipeline_event_to_notice_seconds",
            "Time from the receipt of the frame whose event produced an alert notice to the notice",
        )
        self.peg_quorum_venues = self.gauge(
            "riskmon_peg_quorum_venues",
            "Enabled venues whose configured quotes price the watched stablecoin (quorum: 3)",
            ["coin"],
        )


class ScrapeCollector(Collector, Generic[T]):
    """A collector whose figures are read at scrape time from ``read()``.

    Args:
        read: returns what the families are made of.
        registry: where to register (None: not registered).
    """

    def __init__(self, read: Callable[[], T], registry: CollectorRegistry | None = None) -> None:
        self.read = read
        if registry is not None:
            registry.register(self)


class WindowCounters(ScrapeCollector[Iterable[object]]):
    """Late and dropped events of the processors' time windows, read at scrape time.

    A *late* event is older than the window's newest bucket but still inside the retained
    history (it is counted in the windows it belongs to); a *dropped* one is older than every
    retained bucket. Any processor with ``late_events`` / ``dropped_events`` attributes counts.

    ``read`` returns the processors (e.g. ``lambda: engine.processors``).
    """

    def collect(self) -> Iterator[Metric]:
        """Yield the two counter families, one series per processor that keeps the count."""
        late = CounterMetricFamily(
            "riskmon_window_late_events",
            "Events older than the window's newest bucket, still counted",
            labels=["processor"],
        )
        dropped = CounterMetricFamily(
            "riskmon_window_dropped_events",
            "Events older than every retained bucket, not counted",
            labels=["processor"],
        )
        for p in self.read():
            name = str(getattr(p, "name", type(p).__name__))
            n_late = getattr(p, "late_events", None)
            if isinstance(n_late, int):
                late.add_metric([name], n_late)
            n_dropped = getattr(p, "dropped_events", None)
            if isinstance(n_dropped, int):
                dropped.add_metric([name], n_dropped)
        yield late
        yield dropped

    def describe(self) -> list[Metric]:
        """The two family names (no processor is read at registration)."""
        return [
            CounterMetricFamily("riskmon_window_late_events", ""),
            CounterMetricFamily("riskmon_window_dropped_events", ""),
        ]


class SkewCounters(ScrapeCollector[Mapping[tuple[str, str], int]]):
    """Events the stream engine dropped for their time, read at scrape time.

    ``riskmon_pipeline_skewed_events_total{venue,direction}``: ``ahead`` (stamped further after
    its receive time than the engine allows) or ``behind`` (further before the newest event
    time); see :mod:`streams.engine`. ``read`` returns the engine's counts (e.g.
    ``lambda: engine.skewed``).
    """

    NAME = "riskmon_pipeline_skewed_events"

    def collect(self) -> Iterator[Metric]:
        """Yield the family, one series per venue and direction seen."""
        fam = CounterMetricFamily(
            self.NAME,
            "Events dropped because their event time strayed too far (ahead of their receive"
            " time, or behind the newest event time)",
            labels=["venue", "direction"],
        )
        for (venue, direction), n in sorted(self.read().items()):
            fam.add_metric([venue, direction], n)
        yield fam

    def describe(self) -> list[Metric]:
        """The family name."""
        return [CounterMetricFamily(self.NAME, "")]
