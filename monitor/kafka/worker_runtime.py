"""What a worker does with the events partitions it owns, apart from consuming them.

:class:`WorkerRuntime` keeps one :class:`~monitor.kafka.partition.PartitionProcessor` per owned
partition, publishes their signal batches to ``riskmon.signals.v1``, writes their checkpoints to
``riskmon.checkpoints.v1`` and loads a checkpoint when a partition is first seen after an
assignment. It uses aiokafka directly; the faust application (:mod:`monitor.kafka.worker`) only
hands it records and tells it about revoked partitions. Signals are flushed before the
checkpoint that covers their source offsets is written, so a checkpoint never covers a signal
that was not sent; a signal sent after the last checkpoint is sent again by the next owner, with
the same source offset, and the alerter skips it.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from monitor.kafka.codec import (
    Checkpoint,
    SchemaError,
    SignalBatch,
    decode_checkpoint,
    encode,
    schema_headers,
)
from monitor.kafka.partition import PartitionFactory, PartitionProcessor
from monitor.kafka.publisher import build_producer
from monitor.kafka.settings import KafkaBusSettings
from streams.units import NS_PER_SECOND

__all__ = ["WorkerRuntime", "load_checkpoint"]

log = structlog.get_logger(__name__)


async def load_checkpoint(
    consumer: AIOKafkaConsumer, topic: str, partition: int, timeout_s: float = 30.0
) -> Checkpoint | None:
    """Read the newest checkpoint of ``partition`` (None if there is none).

    Reads the checkpoints partition from its start to its end. The end is the larger of the
    listed end offset and the high watermark of the fetch responses (one broker of the test
    suite reports end offsets short by the records of the last batch).
    """
    tp = TopicPartition(topic, partition)
    consumer.assign([tp])
    await consumer.seek_to_beginning(tp)
    end = (await consumer.end_offsets([tp])).get(tp, 0)
    latest: Checkpoint | None = None
    deadline = time.monotonic() + timeout_s
    while end > 0:
        got = await consumer.getmany(tp, timeout_ms=200, max_records=1000)
        for r in got.get(tp, []):
            try:
                cp = decode_checkpoint(r.value)
            except SchemaError as e:
                log.error("kafka.checkpoint_unreadable", partition=partition, error=str(e))
                continue
            if cp.partition == partition:
                latest = cp
        position = await consumer.position(tp)
        if position >= max(end, consumer.highwater(tp) or 0):
            break
        if time.monotonic() > deadline:
            raise TimeoutError(f"checkpoints of partition {partition} not read in {timeout_s}s")
    return latest


class WorkerRuntime:
    """Processors, signals producer and checkpoints of one worker.

    Args:
        cfg: the bus settings.
        factory: builds the processor of a partition.
    """

    def __init__(self, cfg: KafkaBusSettings, factory: PartitionFactory | None = None) -> None:
        self.cfg = cfg
        self.factory: PartitionFactory = factory or PartitionProcessor
        self.partitions: dict[int, PartitionProcessor] = {}
        self._last_record: dict[int, float] = {}
        self._producer: AIOKafkaProducer | None = None
        self._reader: AIOKafkaConsumer | None = None
        self.bad_records = 0
        self.signal_batches = 0
        self.assignments = 0  # partition assignments received (ready after the first)
        #: counts of the partitions given up since start (their processors are gone)
        self._retired: Counter[str] = Counter()
        self._retired_skew: Counter[tuple[str, str]] = Counter()
        self._log = log.bind(component="kafka-worker")

    async def start(self) -> None:
        """Connect the producer and the checkpoint reader."""
        if self._producer is not None:
            return
        self._producer = build_producer(self.cfg, linger_ms=0)
        await self._producer.start()
        self._reader = AIOKafkaConsumer(
            bootstrap_servers=self.cfg.brokers,
            client_id=f"{self.cfg.client_id}-checkpoints",
            enable_auto_commit=False,
            fetch_max_wait_ms=self.cfg.fetch_max_wait_ms,
            max_partition_fetch_bytes=16 * 1024 * 1024,
            fetch_max_bytes=64 * 1024 * 1024,
        )
        await self._reader.start()

    async def stop(self) -> None:
        """Checkpoint every partition, then disconnect."""
        try:
            if self._producer is not None:
                await self.checkpoint(list(self.partitions))
        finally:
            if self._reader is not None:
                await self._reader.stop()
                self._reader = None
            if self._producer is not None:
                await self._producer.stop()
                self._producer = None

    async def _processor(self, partition: int) -> PartitionProcessor:
        proc = self.partitions.get(partition)
        if proc is not None:
            return proc
        await self.start()
        proc = self.factory(partition)
        assert self._reader is not None
        cp = await load_checkpoint(self._reader, self.cfg.topics.checkpoints, partition)
        if cp is not None:
            proc.restore(cp)
        self._log.info(
            "kafka.partition_restored",
            partition=partition,
            checkpoint_offset=cp.offset if cp is not None else None,
        )
        self.partitions[partition] = proc
        return proc

    async def on_record(self, partition: int, offset: int, value: bytes | None) -> bool:
        """Fold one events record in and publish its signals; False if it was skipped."""
        proc = await self._processor(partition)
        self._last_record[partition] = time.monotonic()
        try:
            batch = proc.on_record(offset, value)
        except SchemaError as e:
            self.bad_records += 1
            self._log.error(
                "kafka.bad_record", partition=partition, offset=offset, error=str(e)[:200]
            )
            return False
        if batch is None:
            return False
        await self._send(batch)
        return True

    async def _send(self, batch: SignalBatch) -> None:
        assert self._producer is not None
        await self._producer.send(
            self.cfg.topics.signals,
            encode(batch),
            key=str(batch.partition).encode(),
            headers=schema_headers("signals"),
        )
        self.signal_batches += 1

    async def idle_ticks(self) -> None:
        """Advance partitions without records for ``idle_tick_s`` by the wall time elapsed."""
        idle_s = self.cfg.idle_tick_s
        if idle_s <= 0 or self._producer is None:
            return
        now = time.monotonic()
        for p, proc in self.partitions.items():
            quiet = now - self._last_record.get(p, now)
            if quiet < idle_s:
                continue
            batch = proc.advance(proc.engine.watermark_ns + int(quiet * NS_PER_SECOND))
            self._last_record[p] = now
            if batch is not None:
                await self._send(batch)

    def take_checkpoints(self, partitions: Iterable[int]) -> list[Checkpoint]:
        """Snapshot each changed partition now (no await: nothing is folded in meanwhile)."""
        return [
            self.partitions[p].checkpoint()
            for p in partitions
            if p in self.partitions and self.partitions[p].dirty
        ]

    async def write_checkpoints(self, cps: list[Checkpoint]) -> None:
        """Flush the signals sent so far (they cover the snapshots), then write the snapshots."""
        if not cps or self._producer is None:
            return
        await self._producer.flush()
        for cp in cps:
            await self._producer.send_and_wait(
                self.cfg.topics.checkpoints,
                encode(cp),
                key=str(cp.partition).encode(),
                partition=cp.partition,
                headers=schema_headers("checkpoint"),
            )

    async def checkpoint(self, partitions: Iterable[int]) -> list[int]:
        """Checkpoint each changed partition; return them."""
        cps = self.take_checkpoints(partitions)
        await self.write_checkpoints(cps)
        return [cp.partition for cp in cps]

    def totals(self) -> Counter[str]:
        """``records``, ``events`` and ``duplicates`` of every partition held since start."""
        out = Counter(self._retired)
        for proc in self.partitions.values():
            out.update(_counts(proc))
        return out

    def skewed(self) -> Counter[tuple[str, str]]:
        """Events the engines dropped for their time, by venue and direction, since start."""
        out = Counter(self._retired_skew)
        for proc in self.partitions.values():
            out.update(proc.engine.skewed)
        return out

    async def revoke(self, partitions: Iterable[int]) -> None:
        """Checkpoint and forget partitions this worker no longer owns."""
        parts = [p for p in partitions if p in self.partitions]
        if not parts:
            return
        cps = self.take_checkpoints(parts)
        dropped = {p: self.partitions.pop(p) for p in parts}
        await self.write_checkpoints(cps)
        for p, proc in dropped.items():
            self._last_record.pop(p, None)
            self._retired.update(_counts(proc))
            self._retired_skew.update(proc.engine.skewed)
            self._log.info(
                "kafka.partition_revoked",
                partition=p,
                offset=proc.gate.offset,
                duplicates_skipped=proc.duplicates,
            )


def _counts(proc: PartitionProcessor) -> dict[str, int]:
    return {"records": proc.records, "events": proc.events, "duplicates": proc.duplicates}
