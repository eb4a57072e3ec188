"""The HTTP endpoint of the Kafka roles, and what their ``/metrics`` show.

Each role (``riskmon run`` with a Kafka bus, ``riskmon worker``, ``riskmon alerter``) serves the
daemon's endpoint (:func:`monitor.health.build_app`) on ``metrics.host:metrics.port``:
``/metrics``, ``/healthz`` (the loop's heartbeat and the role's supervised tasks) and
``/readyz`` (the role's own checks). Roles sharing a host each need their own port
(``RISKMON_METRICS__PORT``). A port that cannot be bound is a one-line start-up error, as for
``riskmon run``.

Besides what the feeds and the alert service export as in one process, the worker and the
alerter export their Kafka counters, read at scrape time from their state:

- worker: ``riskmon_kafka_worker_partitions`` (owned), ``..._records_total``,
  ``..._events_total``, ``..._duplicates_skipped_total`` (re-deliveries after a rebalance or
  takeover), ``..._bad_records_total``, ``..._signal_batches_total``,
  ``riskmon_kafka_worker_event_time_seconds{partition}`` (each owned partition's watermark),
  and the engines' ``riskmon_pipeline_skewed_events_total{venue,direction}``;
- alerter: ``riskmon_kafka_alerter_active`` (1 active, 0 standby),
  ``..._held_batches`` (waiting for slower partitions), ``..._applied_batches_total``,
  ``..._duplicates_skipped_total``, ``..._bad_records_total``,
  ``riskmon_kafka_alerter_event_time_seconds`` (the last applied tick), and every signal as
  the daemon exports it (:class:`~monitor.exporter.SignalExporter`), so the Grafana dashboards
  work unchanged on the Kafka topology.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import structlog
from aiohttp import web
from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from monitor.health import Exposition, Health, build_app, serve
from monitor.metrics import ScrapeCollector
from monitor.settings import MetricsSettings
from streams.units import NS_PER_SECOND

if TYPE_CHECKING:
    from monitor.kafka.alerter import Alerter
    from monitor.kafka.worker_runtime import WorkerRuntime

__all__ = ["FamiliesCollector", "alerter_families", "start_endpoint", "worker_families"]

log = structlog.get_logger(__name__)


async def start_endpoint(
    role: str,
    metrics: MetricsSettings,
    registry: CollectorRegistry,
    health: Health,
    details: Callable[[], dict[str, Any]] | None = None,
    extra: Sequence[Exposition] = (),
) -> web.AppRunner | None:
    """Serve the role's endpoint (None when ``metrics.enabled`` is false).

    Raises:
        OSError: the port cannot be bound.
    """
    if not metrics.enabled:
        return None
    app = build_app(registry, health, details, extra)
    runner, port = await serve(app, metrics.host, metrics.port)
    log.info("kafka.endpoint_serving", role=role, host=metrics.host, port=port)
    return runner


class FamiliesCollector(ScrapeCollector[Iterable[Metric]]):
    """Families made at scrape time by ``read()`` (a role's state read as it is)."""

    def collect(self) -> Iterable[Metric]:
        """Yield the families."""
        return self.read()


def worker_families(rt: WorkerRuntime) -> Iterator[Metric]:
    """A worker's Kafka counters, read from its runtime."""
    totals = rt.totals()
    p = "riskmon_kafka_worker"
    yield GaugeMetricFamily(
        f"{p}_partitions", "Events partitions this worker owns", len(rt.partitions)
    )
    yield CounterMetricFamily(f"{p}_records", "Events records folded in", totals["records"])
    yield CounterMetricFamily(f"{p}_events", "Events folded in", totals["events"])
    yield CounterMetricFamily(
        f"{p}_duplicates_skipped",
        "Records re-delivered at or below a checkpoint's offset, skipped",
        totals["duplicates"],
    )
    yield CounterMetricFamily(
        f"{p}_bad_records", "Records that were not a known events schema", rt.bad_records
    )
    yield CounterMetricFamily(
        f"{p}_signal_batches", "Signal records published to the signals topic", rt.signal_batches
    )
    wm = GaugeMetricFamily(
        f"{p}_event_time_seconds",
        "Event time (watermark) of each owned partition",
        labels=["partition"],
    )
    for part, proc in sorted(rt.partitions.items()):
        wm.add_metric([str(part)], proc.engine.watermark_ns / NS_PER_SECOND)
    yield wm


def alerter_families(a: Alerter) -> list[Metric]:
    """The alerter's Kafka counters, read from its state."""
    core = a.core
    p = "riskmon_kafka_alerter"
    return [
        GaugeMetricFamily(
            f"{p}_active", "1 when this alerter holds the lock, 0 on standby", a.active
        ),
        GaugeMetricFamily(
            f"{p}_held_batches", "Signal batches waiting for slower partitions", core.held
        ),
        CounterMetricFamily(
            f"{p}_applied_batches", "Signal batches applied to the rules", core.applied
        ),
        CounterMetricFamily(
            f"{p}_duplicates_skipped",
            "Signal batches re-delivered for an already applied source offset, skipped",
            core.duplicates,
        ),
        CounterMetricFamily(
            f"{p}_bad_records", "Records that were not a known signals schema", a.bad_records
        ),
        GaugeMetricFamily(
            f"{p}_event_time_seconds",
            "Event time of the last applied tick",
            core.last_tick_ns / NS_PER_SECOND,
        ),
    ]
