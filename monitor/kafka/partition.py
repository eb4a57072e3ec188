"""One events partition's processors, idempotent per source offset (pure: no Kafka, no faust).

A worker owns some partitions of ``riskmon.events.v1``; each gets a :class:`PartitionProcessor`:
the same :class:`~streams.engine.StreamEngine` and processors as the single process, fed the
partition's records in offset order. Kafka consumer groups re-deliver records (faust rewinds
every partition to its last commit at each rebalance; a replacement worker starts from the last
checkpoint), so every record goes through an :class:`OffsetGate`: a record at or below the
offsets already folded in is skipped, and windows never count an event twice.

The venues' REST history reaches a partition as records too (:mod:`monitor.kafka.history`):
seeded at once into a partition that held nothing, or once event time has passed the gap after
a downtime of the feeds; what waits is part of the checkpoint.

A broker that loses its data (a memory-only broker restarted, a topic deleted and recreated)
starts offsets again at 0. The gate tells such a new log from a re-delivery by the publisher's
send time stamped in every record: a re-delivered record was sent no later than the newest one
already folded in; a record of the new log was sent after it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from monitor.backfill import seed_targets
from monitor.kafka.codec import (
    Checkpoint,
    SchemaError,
    SignalBatch,
    checkpoint_record,
    decode_events,
    signals_record,
)
from monitor.kafka.history import PartitionHistory
from streams.engine import StreamEngine
from streams.processors import default_processors

__all__ = ["Admission", "OffsetGate", "PartitionFactory", "PartitionProcessor"]

Admission = Literal["new", "duplicate", "reset"]


@dataclass(slots=True)
class OffsetGate:
    """The last source offset folded in, and the newest publisher time among those records.

    Attributes:
        offset: the highest offset admitted (-1: none).
        published_ns: the newest ``published_ns`` admitted.
    """

    offset: int = -1
    published_ns: int = 0

    def admit(self, offset: int, published_ns: int) -> Admission:
        """Decide whether the record at ``offset`` is new, a re-delivery, or of a new log."""
        if offset > self.offset:
            self.offset = offset
            self.published_ns = max(self.published_ns, published_ns)
            return "new"
        if published_ns > self.published_ns:
            self.offset = offset
            self.published_ns = published_ns
            return "reset"
        return "duplicate"


class PartitionProcessor:
    """The processors of one events partition.

    Args:
        partition: the events partition number.
        engine: the stream engine (default: every default processor, 1 s ticks).

    Attributes:
        records: records folded in; duplicates: re-deliveries skipped; resets: new logs seen;
        bad_records: records that were not a known events schema (skipped);
        events: events folded in; history: the venues' REST history it was given.
    """

    def __init__(self, partition: int, engine: StreamEngine | None = None) -> None:
        self.partition = partition
        self.engine = engine or StreamEngine(default_processors())
        self.gate = OffsetGate()
        self.records = 0
        self.events = 0
        self.duplicates = 0
        self.resets = 0
        self.bad_records = 0
        self.dirty = False  # folded records since the last checkpoint
        self.history = PartitionHistory(partition, seed_targets(self.engine.processors))

    def on_record(self, offset: int, value: bytes | None) -> SignalBatch | None:
        """Fold one record in; return its signals (None when skipped, or when it produced no
        signal and no tick).

        Raises:
            SchemaError: the record is not a known events schema (counted in ``bad_records``;
                its offset is admitted so a re-delivery of it is skipped quietly).
        """
        try:
            batch = decode_events(value)
        except SchemaError:
            if offset > self.gate.offset:
                self.gate.offset = offset
                self.bad_records += 1
                self.dirty = True  # the next checkpoint covers it: counted once
            raise
        verdict = self.gate.admit(offset, batch.published_ns)
        if verdict == "duplicate":
            self.duplicates += 1
            return None
        if verdict == "reset":
            self.resets += 1
        engine = self.engine
        history = self.history
        history.on_record(batch, engine.watermark_ns)
        tick_before = engine.last_tick_ns
        signals = []
        for ev in batch.events:
            got = engine.on_event(ev)
            if got:
                signals.extend(got)
        history.folded(engine.watermark_ns)
        self.records += 1
        self.events += len(batch.events)
        self.dirty = True
        if not signals and engine.last_tick_ns == tick_before:
            return None  # nothing for the alerter: no signal, event time did not tick
        return signals_record(
            self.partition, offset, batch.published_ns, engine.last_tick_ns, signals
        )

    def advance(self, now_ns: int) -> SignalBatch | None:
        """Move a quiet partition's event time to ``now_ns`` (idle tick; -1 offset)."""
        if self.engine.watermark_ns == 0 or now_ns <= self.engine.watermark_ns:
            return None
        before = self.engine.last_tick_ns
        signals = self.engine.advance(now_ns)
        if self.history.state.pending:
            self.history.seed_due(self.engine.watermark_ns)
        if not signals and self.engine.last_tick_ns == before:
            return None
        self.dirty = True
        return signals_record(self.partition, -1, 0, self.engine.last_tick_ns, signals)

    def checkpoint(self) -> Checkpoint:
        """The processors' state and the offsets it covers."""
        self.dirty = False
        return checkpoint_record(
            self.partition,
            self.gate.offset,
            self.gate.published_ns,
            self.engine.snapshot(),
            self.history.snapshot(),
        )

    def restore(self, cp: Checkpoint) -> None:
        """Load a checkpoint of this partition."""
        self.engine.restore(cp.state)
        self.gate = OffsetGate(cp.offset, cp.published_ns)
        self.history = PartitionHistory(self.partition, self.history.targets, cp.history)
        self.dirty = False


#: builds the processor of a partition (tests pass engines with other processors)
PartitionFactory = Callable[[int], PartitionProcessor]
