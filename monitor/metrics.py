"""Prometheus metrics of the monitor package (feeds, bus, pipeline).

Label values come from config and code (venue ids, connection keys, channels, closed reason
sets), never from wire strings or exception text.
"""

from __future__ import annotations

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram

__all__ = ["MonitorMetrics"]


class MonitorMetrics:
    """The daemon's own metrics, on an injectable registry (a fresh one per test)."""

    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        self.registry = registry
        self.frames = Counter(
            "riskmon_feed_frames_total", "Raw frames received", ["venue"], registry=registry
        )
        self.frames_skipped = Counter(
            "riskmon_feed_frames_skipped_total",
            "Frames that could not be parsed, by reason (malformed, unknown, no_metadata)",
            ["venue", "reason"],
            registry=registry,
        )
        self.events = Counter(
            "riskmon_feed_events_total",
            "Normalized events produced",
            ["venue", "type"],
            registry=registry,
        )
        self.connects = Counter(
            "riskmon_feed_connects_total",
            "Successful websocket connections",
            ["venue"],
            registry=registry,
        )
        self.reconnects = Counter(
            "riskmon_feed_reconnects_total",
            "Connections lost or rotated and reopened",
            ["venue", "reason"],
            registry=registry,
        )
        self.connected = Gauge(
            "riskmon_feed_connected",
            "1 while the connection is open and subscribed",
            ["venue", "connection"],
            registry=registry,
        )
        self.status_changes = Counter(
            "riskmon_feed_status_changes_total",
            "Feed status changes",
            ["venue", "channel", "status"],
            registry=registry,
        )
        self.stream_up = Gauge(
            "riskmon_feed_stream_up",
            "1 while a channel delivers within its quiet limit, 0 when stale or silent",
            ["venue", "channel"],
            registry=registry,
        )
        self.rest_requests = Counter(
            "riskmon_feed_rest_requests_total",
            "REST polls by outcome",
            ["venue", "outcome"],
            registry=registry,
        )
        self.bus_dropped = Counter(
            "riskmon_bus_dropped_total",
            "Events dropped because the bus was full (quotes only)",
            ["type"],
            registry=registry,
        )
        self.bus_depth = Gauge(
            "riskmon_bus_queue_depth", "Events waiting on the in-process bus", registry=registry
        )
        self.signals = Counter(
            "riskmon_pipeline_signals_total", "Signal samples produced", registry=registry
        )
        self.alert_notices = Counter(
            "riskmon_pipeline_alert_notices_total",
            "Alert state changes produced",
            ["status", "severity"],
            registry=registry,
        )
        self.latency = Histogram(
            "riskmon_pipeline_event_latency_seconds",
            "Time from a frame's receipt to its event being processed",
            registry=registry,
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
        )
