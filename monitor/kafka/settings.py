"""The ``bus: {kind: kafka, ...}`` section: brokers, topics, producer and consumer tuning.

Every knob a production cluster (Apache Kafka, Redpanda, a managed service) needs is here, with
defaults for such a cluster: ``acks: all`` and the idempotent producer on. Test configurations
for Tansu (the memory-only broker of the test suite) turn idempotence off; nothing in the code
depends on a particular broker.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["KafkaBusSettings", "KafkaTopics"]


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class KafkaTopics(_Strict):
    """Topic names and partition counts (created with their final counts; see docs/scale-out.md).

    Attributes:
        events: normalized events, keyed by asset.
        frames: raw venue frames (audit, capture), keyed by venue; only when ``frames`` is on.
        signals: signal batches from the workers to the alerter (one partition: one alerter
            reads them in order).
        checkpoints: worker processor snapshots, keyed by events partition (compacted).
        events_partitions: partitions of the events topic = the most workers that can share the
            load; cannot be raised later without moving assets between partitions.
        replication_factor: 3 on a production cluster, 1 on a single broker.
    """

    events: str = "riskmon.events.v1"
    frames: str = "riskmon.frames.v1"
    signals: str = "riskmon.signals.v1"
    checkpoints: str = "riskmon.checkpoints.v1"
    events_partitions: int = Field(default=12, ge=1)
    frames_partitions: int = Field(default=3, ge=1)
    replication_factor: int = Field(default=1, ge=1)


class KafkaBusSettings(_Strict):
    """Events travel through Kafka: ``riskmon run`` only runs the feeds and produces.

    Attributes:
        kind: ``kafka``.
        brokers: bootstrap servers, ``host:port``.
        client_id: Kafka client id prefix.
        topics: topic names and partition counts.
        frames: also produce every raw frame to the frames topic.
        acks: producer acknowledgements: ``all`` (default), ``1`` or ``0``.
        idempotence: idempotent producer (needs ``acks: all``; off for brokers without it).
        compression: ``none`` (default), ``gzip``, ``snappy``, ``lz4`` or ``zstd`` (the last
            three need their Python package: python-snappy, lz4, zstandard).
        linger_ms: how long the producer waits to fill a batch.
        max_events_per_record: events of one asset carried by one record, at most.
        flush_interval_ms: how long events of an asset wait for companions before being sent.
        max_pending_events: events held by the publisher before ``publish`` waits (back-pressure).
        topic_check_interval_s: how often the feeds check that the topics exist (and recreate
            them after a broker lost its data).
        worker_group: consumer group of ``riskmon worker``.
        alerter_group: consumer group of ``riskmon alerter``.
        fetch_max_wait_ms: consumers' fetch wait (faust hard-codes 1500 ms; we override it).
        session_timeout_s: consumer group session timeout.
        heartbeat_interval_s: consumer heartbeat interval.
        rebalance_timeout_s: how long a rebalance may take.
        commit_interval_s: how often workers commit offsets (bounds the rewind at a rebalance).
        checkpoint_interval_s: how often a worker checkpoints each partition's processors.
        idle_tick_s: a worker advances a quiet partition's event time after this much wall time
            without records (0: never).
        alerter_lock: lock file that makes one alerter active (default: next to the store).
        alerter_snapshot_interval_s: how often the alerter saves its evaluator state.
    """

    kind: Literal["kafka"]
    brokers: list[str] = Field(min_length=1)
    client_id: str = "riskmon"
    topics: KafkaTopics = KafkaTopics()
    frames: bool = False
    acks: Literal["all", "1", "0"] = "all"
    idempotence: bool = True
    compression: Literal["none", "gzip", "snappy", "lz4", "zstd"] = "none"
    linger_ms: int = Field(default=5, ge=0)
    max_events_per_record: int = Field(default=100, ge=1)
    flush_interval_ms: int = Field(default=5, ge=0)
    max_pending_events: int = Field(default=100_000, ge=1)
    topic_check_interval_s: float = Field(default=5.0, gt=0)
    worker_group: str = "riskmon-worker"
    alerter_group: str = "riskmon-alerter"
    fetch_max_wait_ms: int = Field(default=20, ge=0)
    session_timeout_s: float = Field(default=10.0, gt=0)
    heartbeat_interval_s: float = Field(default=3.0, gt=0)
    rebalance_timeout_s: float = Field(default=20.0, gt=0)
    commit_interval_s: float = Field(default=1.0, gt=0)
    checkpoint_interval_s: float = Field(default=5.0, gt=0)
    idle_tick_s: float = Field(default=1.0, ge=0)
    alerter_lock: str | None = None
    alerter_snapshot_interval_s: float = Field(default=1.0, gt=0)
