"""Prometheus metrics of the alert engine. Build one :class:`AlertMetrics` per registry.

Besides counters and histograms it exports the engine's alert state like Prometheus' ``ALERTS``:
``riskmon_alerts_firing{alertname, severity, <alert labels>} 1`` for every firing alert, gone
from the next scrape once the alert resolves (the dispatcher hands over its live set with
:meth:`AlertMetrics.set_firing`). Notice-to-delivery latency is measured per receiver from the
moment the dispatcher accepted a notice (:meth:`AlertMetrics.notice_accepted`) to the first
successful delivery of a notification carrying it (:meth:`AlertMetrics.delivered`).
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from typing import Protocol

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.samples import Sample

from streams.units import NS_PER_SECOND

__all__ = [
    "DELIVERY_BUCKETS",
    "LATENCY_BUCKETS",
    "AlertMetrics",
    "FiringAlert",
    "FiringAlerts",
    "MetricSet",
]

_LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_MAX_TRACKED = 10_000
#: seconds; group_wait and retries put most deliveries between one second and minutes
DELIVERY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)


#: seconds; from sub-millisecond processing to a notice held back by a slow tick
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class MetricSet:
    """Declares a component's metrics on one registry (injectable: a fresh one per test).

    The alert engine's and the monitor's metrics (:mod:`monitor.metrics`) are declared through it.
    """

    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        self.registry = registry

    def counter(self, name: str, doc: str, labels: Sequence[str] = ()) -> Counter:
        """A counter on the registry."""
        return Counter(name, doc, labels, registry=self.registry)

    def gauge(self, name: str, doc: str, labels: Sequence[str] = ()) -> Gauge:
        """A gauge on the registry."""
        return Gauge(name, doc, labels, registry=self.registry)

    def histogram(
        self,
        name: str,
        doc: str,
        labels: Sequence[str] = (),
        buckets: Sequence[float] = LATENCY_BUCKETS,
    ) -> Histogram:
        """A histogram of seconds on the registry (default buckets :data:`LATENCY_BUCKETS`)."""
        return Histogram(name, doc, labels, registry=self.registry, buckets=buckets)


class FiringAlert(Protocol):
    """What the firing-alerts gauge needs from an alert (an :class:`~alerts.model.AlertNotice`)."""

    @property
    def rule(self) -> str: ...

    @property
    def severity(self) -> str: ...

    @property
    def labels(self) -> dict[str, str]: ...


class FiringAlerts(Collector):
    """``riskmon_alerts_firing``: one series (value 1) per firing alert, like ``ALERTS``."""

    NAME = "riskmon_alerts_firing"

    def __init__(self) -> None:
        self._alerts: tuple[dict[str, str], ...] = ()

    def set(self, alerts: Iterable[FiringAlert]) -> None:
        """Replace the firing set (labels: alertname, severity and the alert's own labels)."""
        out = []
        for a in alerts:
            labels = {k: v for k, v in a.labels.items() if _LABEL.match(k) and k[:2] != "__"}
            labels["alertname"] = a.rule
            labels["severity"] = a.severity
            out.append(labels)
        self._alerts = tuple(out)

    def collect(self) -> Iterator[Metric]:
        """Yield the family; alerts resolved since the last :meth:`set` are simply absent."""
        fam = GaugeMetricFamily(
            self.NAME, "1 for every firing alert, with its rule (alertname), severity and labels"
        )
        fam.samples.extend(Sample(self.NAME, labels, 1.0) for labels in self._alerts)
        yield fam

    def describe(self) -> list[Metric]:
        """The family name."""
        return [GaugeMetricFamily(self.NAME, "")]


class AlertMetrics(MetricSet):
    """Counters, gauges and histograms named ``riskmon_alerts_<noun>_<unit>[_total]``.

    Label values come from rules and config (rule, severity, receiver), never from wire data.
    """

    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        super().__init__(registry)
        self.evaluations = self.counter(
            "riskmon_alerts_rule_evaluations_total",
            "Rule evaluations performed by the evaluator",
        )
        self.transitions = self.counter(
            "riskmon_alerts_transitions_total",
            "Alert state changes (firing/resolved) received by the dispatcher",
            ["rule", "severity", "status"],
        )
        self.firing = self.gauge(
            "riskmon_alerts_firing_alerts",
            "Alerts currently firing, by severity",
            ["severity"],
        )
        self.muted = self.counter(
            "riskmon_alerts_muted_total",
            "Alerts left out of a notification because they were silenced or inhibited",
            ["reason"],
        )
        self.notifications = self.counter(
            "riskmon_alerts_notifications_total",
            "Grouped notifications written to the outbox",
            ["receiver"],
        )
        self.sent = self.counter(
            "riskmon_alerts_sent_total",
            "Notifications delivered",
            ["receiver"],
        )
        self.failed = self.counter(
            "riskmon_alerts_failed_total",
            "Failed delivery attempts, by outcome",
            ["receiver", "outcome"],
        )
        self.outbox_pending = self.gauge(
            "riskmon_alerts_outbox_pending_notifications",
            "Notifications waiting in the outbox",
            ["receiver"],
        )
        self.receiver_broken = self.gauge(
            "riskmon_alerts_receiver_broken_state",
            "1 while a receiver answers as misconfigured (e.g. Slack 404/410)",
            ["receiver"],
        )
        self.waits_clamped = self.counter(
            "riskmon_alerts_waits_clamped",
            "Receiver waits (Retry-After) cut to the hold cap because absurd or non-finite",
            ["receiver"],
        )
        self.delivery_seconds = self.histogram(
            "riskmon_alerts_delivery_seconds",
            "Time of one delivery attempt",
            ["receiver"],
            buckets=Histogram.DEFAULT_BUCKETS,
        )
        self.notice_to_delivery = self.histogram(
            "riskmon_alerts_notice_to_delivery_seconds",
            "Time from an alert notice accepted by the dispatcher to its delivery, per receiver",
            ["receiver"],
            buckets=DELIVERY_BUCKETS,
        )
        self.firing_alerts = FiringAlerts()
        registry.register(self.firing_alerts)
        # (fingerprint, status) -> (accepted at ns, receivers that delivered it)
        self._accepted: OrderedDict[tuple[str, str], tuple[int, set[str]]] = OrderedDict()

    def set_firing(self, alerts: Iterable[FiringAlert]) -> None:
        """Publish the dispatcher's live (firing) alerts as ``riskmon_alerts_firing``."""
        self.firing_alerts.set(alerts)

    def notice_accepted(self, fingerprint: str, status: str, now_ns: int) -> None:
        """Remember when a state change was accepted (bounded: the oldest are forgotten)."""
        key = (fingerprint, status)
        self._accepted[key] = (now_ns, set())
        self._accepted.move_to_end(key)
        while len(self._accepted) > _MAX_TRACKED:
            self._accepted.popitem(last=False)

    def delivered(self, receiver: str, alerts: Iterable[_Delivered], now_ns: int) -> None:
        """Observe notice-to-delivery latency for each alert first delivered to ``receiver``."""
        hist = self.notice_to_delivery.labels(receiver)
        for a in alerts:
            entry = self._accepted.get((a.fingerprint, a.status))
            if entry is None or receiver in entry[1]:
                continue
            entry[1].add(receiver)
            hist.observe(max(0, now_ns - entry[0]) / NS_PER_SECOND)


class _Delivered(Protocol):
    @property
    def fingerprint(self) -> str: ...

    @property
    def status(self) -> str: ...
