"""Produce normalized events to ``riskmon.events.v1``: batched per asset, keyed by asset.

The publisher is the feeds' event sink in Kafka mode (and ``riskmon replay --bus kafka``'s).
Events of one asset collect into one record (up to ``max_events_per_record``) and are sent when
that many are waiting, after ``flush_interval_ms``, or when event time crosses a second: a
worker's engine ticks every second of event time, so no event of an earlier second may follow
a later one in a partition (the single process's order, tick for tick). Feed states without an
asset (a connection going down) go to every partition: every worker's feed health sees them.

Losses are counted, never silent. A record the broker did not acknowledge is counted as lost
events; a broker whose offsets went backwards (it lost its data, e.g. a restart of a
memory-only broker) is counted as a log reset. Either way the publisher recreates missing
topics and publishes a ``feed_status`` event of venue ``kafka`` (``error`` with the count as
reason, then ``connected``), so the loss shows in feed health and its alerts like any feed's.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable
from typing import Any

import structlog
from aiokafka import AIOKafkaProducer
from prometheus_client import REGISTRY, CollectorRegistry

from monitor.kafka.codec import HistoryRecord, encode, events_record, schema_headers
from monitor.kafka.settings import KafkaBusSettings
from monitor.kafka.topics import ensure_topics
from monitor.metrics import MetricSet
from streams.events import Event, FeedStatus
from streams.units import NS_PER_SECOND

__all__ = ["BUS_VENUE", "KafkaPublisher", "PublisherMetrics", "build_producer"]

log = structlog.get_logger(__name__)

#: the ``venue`` of the feed states the publisher emits about the bus itself
BUS_VENUE = "kafka"


class PublisherMetrics(MetricSet):
    """Counters of the Kafka publisher."""

    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        super().__init__(registry)
        self.records = self.counter(
            "riskmon_kafka_records_sent", "Records sent to the events topic"
        )
        self.events = self.counter("riskmon_kafka_events_sent", "Events sent to the events topic")
        self.lost = self.counter(
            "riskmon_kafka_events_lost",
            "Events the broker did not acknowledge (or lost with its log)",
        )
        self.resets = self.counter(
            "riskmon_kafka_log_resets",
            "Times the broker's offsets went backwards (it lost its data)",
        )


def build_producer(cfg: KafkaBusSettings, **overrides: Any) -> AIOKafkaProducer:
    """An aiokafka producer with the bus settings' acks, idempotence and compression."""
    acks: int | str = "all" if cfg.acks == "all" else int(cfg.acks)
    kwargs: dict[str, Any] = {
        "bootstrap_servers": cfg.brokers,
        "client_id": cfg.client_id,
        "acks": acks,
        "enable_idempotence": cfg.idempotence,
        "compression_type": None if cfg.compression == "none" else cfg.compression,
        "linger_ms": cfg.linger_ms,
        "max_request_size": 16 * 1024 * 1024,
        "max_batch_size": 1024 * 1024,
    }
    kwargs.update(overrides)
    return AIOKafkaProducer(**kwargs)


class KafkaPublisher:
    """Batch events per asset and produce them.

    Args:
        cfg: the bus settings.
        metrics: counters (a fresh registry per test).
        clock: wall clock for the ``published_ns`` stamp, in ns.
        time_flush: flush every asset when event time crosses a second (keeps the engine's
            tick order); only turn off in benchmarks of raw throughput.

    Attributes:
        lost_events: events not acknowledged; log_resets: log resets seen; records, events: sent.
    """

    def __init__(
        self,
        cfg: KafkaBusSettings,
        metrics: PublisherMetrics | None = None,
        clock: Callable[[], int] = time.time_ns,
        *,
        time_flush: bool = True,
    ) -> None:
        self.cfg = cfg
        self.topic = cfg.topics.events
        self.metrics = metrics or PublisherMetrics(CollectorRegistry())
        self.clock = clock
        self.time_flush = time_flush
        self._producer: AIOKafkaProducer | None = None
        self._pending: dict[str, list[Event]] = {}
        self._n_pending = 0
        self._second = 0
        self._partitions: list[int] = []
        self._inflight: set[asyncio.Future[Any]] = set()
        self._last_offset: dict[int, int] = {}
        self._trouble: list[str] = []  # reasons of losses not yet announced
        self._wake = asyncio.Event()
        self.records = 0
        self.events = 0
        self.lost_events = 0
        self.log_resets = 0
        self._log = log.bind(component="kafka-publisher")
        #: when this publisher started (stamped in every record: the feeds' run)
        self.run_ns = 0

    async def start(self) -> None:
        """Create the topics and connect the producer."""
        self.run_ns = self.clock()
        await ensure_topics(self.cfg)
        self._producer = build_producer(self.cfg)
        await self._producer.start()
        self._partitions = sorted(await self._producer.partitions_for(self.topic) or [])
        if not self._partitions:
            self._partitions = list(range(self.cfg.topics.events_partitions))

    async def stop(self) -> None:
        """Send what is pending, wait for acknowledgements, disconnect."""
        if self._producer is None:
            return
        try:
            await self.flush()
        finally:
            await self._producer.stop()
            self._producer = None

    # ------------------------------------------------------------------ sink

    async def publish(self, event: Event) -> None:
        """Queue one event (the feeds' sink); waits when ``max_pending_events`` are held."""
        if self.time_flush and not isinstance(event, FeedStatus):
            second = event.ts_event // NS_PER_SECOND
            if second > self._second:
                if self._second and self._n_pending:
                    await self._send_all()
                self._second = second
        batch = self._pending.setdefault(event.asset, [])
        batch.append(event)
        self._n_pending += 1
        if len(batch) >= self.cfg.max_events_per_record:
            await self._send(event.asset)
        elif self._n_pending >= self.cfg.max_pending_events:
            await self._send_all()
        elif self._n_pending == 1:
            self._wake.set()

    async def flush(self) -> None:
        """Send every pending event and wait until the broker acknowledged (or failed) them."""
        await self._send_all()
        if self._inflight:
            await asyncio.wait(list(self._inflight))
        await self._announce_trouble()

    async def run(self) -> None:
        """Send waiting events every ``flush_interval_ms``, announce losses, and recreate
        topics a broker lost. Runs until cancelled."""
        async with asyncio.TaskGroup() as tg:
            tg.create_task(self._flush_loop(), name="kafka-flush")
            tg.create_task(self._topic_watch(), name="kafka-topics")

    async def _topic_watch(self) -> None:
        """Recreate missing topics: a broker that lost its data must not auto-create them with
        default partition counts, nor leave the producer failing until its request timeout."""
        while True:
            await asyncio.sleep(self.cfg.topic_check_interval_s)
            try:
                created = await ensure_topics(self.cfg)
            except Exception as e:
                self._log.warning("kafka.topics_unreachable", error=repr(e))
                continue
            if created:
                self._trouble.append("topics missing on the broker")
                self._wake.set()

    async def _flush_loop(self) -> None:
        interval = self.cfg.flush_interval_ms / 1000
        while True:
            await self._wake.wait()
            self._wake.clear()
            if interval:
                await asyncio.sleep(interval)
            await self._send_all()
            await self._announce_trouble()

    # ------------------------------------------------------------------ sending

    async def _send_all(self) -> None:
        for asset in [a for a, b in self._pending.items() if b]:
            await self._send(asset)

    async def _send(self, asset: str) -> None:
        events = self._pending.pop(asset, [])
        if not events:
            return
        self._n_pending -= len(events)
        producer = self._producer
        if producer is None:
            raise RuntimeError("publisher not started")
        value = encode(events_record(asset, self.clock(), events, self.run_ns))
        headers = schema_headers("events")
        targets: list[int | None] = list(self._partitions) if asset == "" else [None]
        for partition in targets:
            try:
                fut = await producer.send(
                    self.topic,
                    value,
                    key=asset.encode(),
                    partition=partition,
                    headers=headers,
                )
            except Exception as e:  # the producer refused the record outright
                self._lost(len(events), f"send failed: {type(e).__name__}")
                continue
            self._inflight.add(fut)
            fut.add_done_callback(functools.partial(self._delivered, n=len(events)))
        self.records += 1
        self.events += len(events)
        self.metrics.records.inc()
        self.metrics.events.inc(len(events))

    async def publish_history(self, asset: str, history: HistoryRecord) -> None:
        """Send one venue's REST history of ``asset`` (after the asset's pending events, on its
        partition) and wait for the broker's acknowledgement.

        Raises:
            Exception: the producer's error when the record was refused or not acknowledged.
        """
        producer = self._producer
        if producer is None:
            raise RuntimeError("publisher not started")
        await self._send(asset)
        value = encode(events_record(asset, self.clock(), [], self.run_ns, history))
        fut = await producer.send(
            self.topic, value, key=asset.encode(), headers=schema_headers("events")
        )
        await fut

    def _delivered(self, fut: asyncio.Future[Any], n: int) -> None:
        self._inflight.discard(fut)
        if fut.cancelled():
            self._lost(n, "send cancelled")
            return
        exc = fut.exception()
        if exc is not None:
            self._lost(n, f"not acknowledged: {type(exc).__name__}")
            return
        meta = fut.result()
        last = self._last_offset.get(meta.partition, -1)
        if meta.offset <= last:
            self.log_resets += 1
            self.metrics.resets.inc()
            self._trouble.append(f"broker lost its log (partition {meta.partition})")
            self._last_offset = {}
            self._wake.set()
        self._last_offset[meta.partition] = meta.offset

    def _lost(self, n: int, reason: str) -> None:
        self.lost_events += n
        self.metrics.lost.inc(n)
        self._trouble.append(reason)
        self._wake.set()

    async def _announce_trouble(self) -> None:
        """Recreate topics and publish the bus's feed status after a loss."""
        if not self._trouble:
            return
        reasons, self._trouble = self._trouble, []
        self._log.error(
            "kafka.events_lost",
            lost_events_total=self.lost_events,
            log_resets_total=self.log_resets,
            reason=reasons[-1],
        )
        try:
            created = await ensure_topics(self.cfg)
        except Exception as e:
            self._log.error("kafka.topics_unavailable", error=repr(e))
            created = []
        now = self.clock()
        reason = f"{reasons[-1]}; lost_events_total={self.lost_events}; log_resets_total=" + str(
            self.log_resets
        )
        if created:
            reason += "; topics recreated"
        common = {"venue": BUS_VENUE, "symbol": "", "instrument": "", "asset": ""}
        await self.publish(
            FeedStatus(
                **common,
                ts_event=now,
                ts_recv=now,
                channel="connection",
                status="error",
                reason=reason,
            )
        )
        await self.publish(
            FeedStatus(
                **common, ts_event=now, ts_recv=now, channel="connection", status="connected"
            )
        )
        await self._send_all()
