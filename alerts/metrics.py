"""Prometheus metrics of the alert engine. Build one :class:`AlertMetrics` per registry."""

from __future__ import annotations

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram

__all__ = ["AlertMetrics"]


class AlertMetrics:
    """Counters, gauges and histograms named ``riskmon_alerts_<noun>_<unit>[_total]``.

    Label values come from rules and config (rule, severity, receiver), never from wire data.
    """

    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        self.evaluations = Counter(
            "riskmon_alerts_rule_evaluations_total",
            "Rule evaluations performed by the evaluator",
            registry=registry,
        )
        self.transitions = Counter(
            "riskmon_alerts_transitions_total",
            "Alert state changes (firing/resolved) received by the dispatcher",
            ["rule", "severity", "status"],
            registry=registry,
        )
        self.firing = Gauge(
            "riskmon_alerts_firing_alerts",
            "Alerts currently firing, by severity",
            ["severity"],
            registry=registry,
        )
        self.muted = Counter(
            "riskmon_alerts_muted_total",
            "Alerts left out of a notification because they were silenced or inhibited",
            ["reason"],
            registry=registry,
        )
        self.notifications = Counter(
            "riskmon_alerts_notifications_total",
            "Grouped notifications written to the outbox",
            ["receiver"],
            registry=registry,
        )
        self.sent = Counter(
            "riskmon_alerts_sent_total",
            "Notifications delivered",
            ["receiver"],
            registry=registry,
        )
        self.failed = Counter(
            "riskmon_alerts_failed_total",
            "Failed delivery attempts, by outcome",
            ["receiver", "outcome"],
            registry=registry,
        )
        self.outbox_pending = Gauge(
            "riskmon_alerts_outbox_pending_notifications",
            "Notifications waiting in the outbox",
            ["receiver"],
            registry=registry,
        )
        self.receiver_broken = Gauge(
            "riskmon_alerts_receiver_broken_state",
            "1 while a receiver answers as misconfigured (e.g. Slack 404/410)",
            ["receiver"],
            registry=registry,
        )
        self.delivery_seconds = Histogram(
            "riskmon_alerts_delivery_seconds",
            "Time of one delivery attempt",
            ["receiver"],
            registry=registry,
        )
