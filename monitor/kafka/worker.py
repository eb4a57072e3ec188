"""``riskmon worker``: the faust-streaming application that runs the stream processors on Kafka.

This module is the only one that imports faust (STYLE Rule 8). A worker joins the consumer group
``bus.worker_group`` on ``riskmon.events.v1`` and hands every record of the partitions it owns to
:class:`~monitor.kafka.worker_runtime.WorkerRuntime`, which runs the same processors as the
single process (one engine per partition: a partition holds every venue of its assets) and
publishes their signals to ``riskmon.signals.v1``.

Offsets and checkpoints agree. Records are acknowledged to faust only once a checkpoint covering
them has been written, so the committed offset of a partition never passes its checkpoint: a
worker that takes over a partition (after a SIGKILL, a join or a leave) restores the checkpoint,
is re-delivered every record after it, and skips the ones at or below it. faust rewinds every
partition to its last commit at each rebalance; those re-deliveries are skipped the same way.

Latency: a partition's checkpoint is taken synchronously (the snapshot must match the offsets
it covers), so the checkpoint timer snapshots one partition at a time and lets records through
between them. faust hard-codes a 1.5 s fetch wait for its worker consumer;
:class:`_FastFetchTransport` replaces it by ``bus.fetch_max_wait_ms`` (20 ms by default), which
takes the p99 from ~760 ms to ~20 ms on a broker that answers a waiting fetch only at the end of
the wait. Its consumer's record loop hands a record to the streams directly when that cannot
wait, instead of faust's per-record race (four tasks per record; see ``_drain_messages``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from pathlib import Path
from typing import Any

import faust
import structlog
from faust.transport.consumer import CONSUMER_FETCHING as _CONSUMER_FETCHING
from faust.transport.drivers import aiokafka as faust_aiokafka
from prometheus_client import REGISTRY

from monitor.health import Health, freeze_startup_objects
from monitor.kafka.endpoint import FamiliesCollector, start_endpoint, worker_families
from monitor.kafka.partition import PartitionFactory
from monitor.kafka.settings import KafkaBusSettings
from monitor.kafka.topics import wait_for_broker
from monitor.kafka.worker_runtime import WorkerRuntime
from monitor.metrics import SkewCounters
from monitor.settings import MetricsSettings

__all__ = ["build_app", "run_worker"]

log = structlog.get_logger(__name__)


class _FastFetchConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    fetch_max_wait_ms = 20

    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        consumer._fetch_max_wait_ms = self.fetch_max_wait_ms  # read by the fetcher at start()
        return consumer


#: sha256 of the source of faust's ``Consumer._drain_messages`` that ours follows (a test compares:
#: a faust upgrade that changes the loop asks for the copy to be reviewed)
FAUST_DRAIN_LOOP_SHA256 = "44a2500309e83c630493f6828af50166ec8d96a0b3e4fb2bab735f704ae93417"


class _FastFetchConsumer(faust_aiokafka.Consumer):
    def _new_consumer_thread(self) -> Any:
        return _FastFetchConsumerThread(self, loop=self.loop, beacon=self.beacon)

    def _handover_cannot_block(self) -> bool:
        """True when handing a record to the streams completes without waiting.

        The hand-over (the conductor's ``on_message``) waits only for suspended flow control, a
        producer buffer over its limit, or a full stream queue; checked in the same loop step
        as the hand-over starts, none of them can change before it ends.
        """
        app = self.app
        buffer = app.producer.buffer
        return (
            not self.suspend_flow.is_set()
            and app.flow_control.is_active()
            and buffer.size <= buffer.max_messages
            and not any(channel.queue.full() for channel in app.topics)
        )

    async def _drain_messages(self, fetcher: Any) -> None:
        """faust 0.15's record loop, with one change: the hand-over of a record.

        faust races every hand-over against ``suspend_flow`` with ``wait_first``: four tasks
        and an ``asyncio.wait`` per record, ~40 us, a fifth of a worker's time at 100 events
        per record. A hand-over that cannot wait (:meth:`_handover_cannot_block`) is awaited
        directly: it ends before anything could set ``suspend_flow``, so nothing is left to
        race. One that could wait (a full queue, a rebalance) keeps faust's race, and with it
        the abandonment of a hand-over when the flow is suspended.
        """
        callback = self.callback
        getmany = self.getmany
        consumer_should_stop = self._stopped.is_set
        fetcher_should_stop = fetcher._stopped.is_set
        get_read_offset = self._read_offset.__getitem__
        set_read_offset = self._read_offset.__setitem__
        set_flag = self.diag.set_flag
        unset_flag = self.diag.unset_flag
        commit_every = self._commit_every
        acks_enabled_for = self.app.topics.acks_enabled_for
        cannot_block = self._handover_cannot_block
        yield_every = 100
        num_since_yield = 0
        try:
            while not (consumer_should_stop() or fetcher_should_stop()):
                set_flag(_CONSUMER_FETCHING)
                ait = getmany(timeout=1.0)
                await self.sleep(0)
                if not self.should_stop:
                    async for tp, message in ait:
                        num_since_yield += 1
                        if num_since_yield > yield_every:
                            await asyncio.sleep(0)
                            num_since_yield = 0
                        offset = message.offset
                        r_offset = get_read_offset(tp)
                        if r_offset is None or offset >= r_offset:
                            gap = offset - (r_offset or 0)
                            if gap > 1 and r_offset and acks_enabled_for(message.topic):
                                await self._add_gap(tp, r_offset + 1, offset)
                            if commit_every is not None and self._n_acked >= commit_every:
                                self._n_acked = 0
                                await self.commit()
                            if cannot_block():
                                await callback(message)
                            else:
                                await self.wait_first(callback(message), self.suspend_flow.wait())
                            set_read_offset(tp, offset)
                    unset_flag(_CONSUMER_FETCHING)
        except self.consumer_stopped_errors:
            if self.transport.app.should_stop:
                self.log.info("Broker stopped consumer, shutting down...")
                return
            raise
        except asyncio.CancelledError:
            if self.transport.app.should_stop:
                self.log.info("Consumer shutting down for user cancel.")
                return
            raise
        except Exception as exc:
            self.log.exception("Drain messages raised: %r", exc)
            raise
        finally:
            unset_flag(_CONSUMER_FETCHING)


class _FastFetchTransport(faust_aiokafka.Transport):
    Consumer = _FastFetchConsumer


def build_app(
    cfg: KafkaBusSettings,
    datadir: Path,
    factory: PartitionFactory | None = None,
) -> tuple[Any, WorkerRuntime]:
    """The faust app of a worker and its runtime.

    Args:
        cfg: the bus settings.
        datadir: faust's data directory (one per worker process on a host).
        factory: builds each partition's processors (default: the daemon's).
    """
    _FastFetchConsumerThread.fetch_max_wait_ms = cfg.fetch_max_wait_ms
    app: Any = faust.App(
        cfg.worker_group,
        broker=[f"kafka://{b}" for b in cfg.brokers],
        broker_client_id=cfg.client_id,
        datadir=str(datadir),
        web_enabled=False,
        topic_allow_declare=False,
        topic_disable_leader=True,
        consumer_auto_offset_reset="earliest",
        broker_session_timeout=cfg.session_timeout_s,
        broker_heartbeat_interval=cfg.heartbeat_interval_s,
        broker_rebalance_timeout=cfg.rebalance_timeout_s,
        broker_request_timeout=max(cfg.session_timeout_s, cfg.rebalance_timeout_s) + 5,
        broker_commit_interval=cfg.commit_interval_s,
        producer_acks=-1 if cfg.acks == "all" else int(cfg.acks),
        stream_wait_empty=False,
    )
    app.transport = _FastFetchTransport(app.conf.broker_consumer, app)
    runtime = WorkerRuntime(cfg, factory)
    unacked: dict[int, list[Any]] = {}
    topic = app.topic(
        cfg.topics.events,
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
        partitions=cfg.topics.events_partitions,
    )

    def ack(counts: dict[int, int]) -> None:
        """Acknowledge the first ``n`` unacknowledged records of each partition."""
        for p, n in counts.items():
            messages = unacked.get(p, [])
            for message in messages[:n]:
                message.ack(app.consumer)
            del messages[:n]

    async def checkpoint(partitions: list[int]) -> None:
        # snapshot state and the records it covers together, then write, then acknowledge
        cps = runtime.take_checkpoints(partitions)
        counts = {p: len(unacked.get(p, [])) for p in partitions}
        await runtime.write_checkpoints(cps)
        ack(counts)

    async def process(stream: Any) -> None:
        async for event in stream.noack().events():
            m = event.message
            await runtime.on_record(m.partition, m.offset, m.value)
            unacked.setdefault(m.partition, []).append(m)

    async def checkpoints() -> None:
        # one partition at a time: a snapshot holds the event loop (tens to hundreds of ms with
        # full windows), so records of the other partitions are processed between snapshots
        for p in sorted(set(runtime.partitions) | set(unacked)):
            await checkpoint([p])
            await asyncio.sleep(0)

    async def idle_ticks() -> None:
        await runtime.idle_ticks()

    async def on_revoked(app: Any, revoked: Any, **kwargs: Any) -> None:
        parts = [tp.partition for tp in revoked if tp.topic == cfg.topics.events]
        counts = {p: len(unacked.get(p, [])) for p in parts}
        await runtime.revoke(parts)
        ack(counts)

    async def on_assigned(app: Any, assigned: Any, **kwargs: Any) -> None:
        owned = {tp.partition for tp in assigned if tp.topic == cfg.topics.events}
        runtime.assignments += 1
        if runtime.assignments == 1:
            freeze_startup_objects()
        log.info("kafka.worker_assigned", partitions=sorted(owned))
        stale = [p for p in runtime.partitions if p not in owned]
        counts = {p: len(unacked.get(p, [])) for p in stale}
        await runtime.revoke(stale)
        ack(counts)

    app.agent(topic, name="riskmon-processors")(process)
    app.timer(interval=cfg.checkpoint_interval_s, name="riskmon-checkpoints")(checkpoints)
    if cfg.idle_tick_s > 0:
        app.timer(interval=cfg.idle_tick_s, name="riskmon-idle-ticks")(idle_ticks)
    app.on_partitions_revoked.connect(on_revoked)
    app.on_partitions_assigned.connect(on_assigned)
    return app, runtime


def _observe(
    app: Any, runtime: WorkerRuntime, metrics: MetricsSettings, loop: asyncio.AbstractEventLoop
) -> Health:
    """Serve the worker's ``/metrics``, ``/healthz`` and ``/readyz`` on faust's loop.

    The server is bound before faust starts (a taken port is a start-up error); the loop
    serves it once faust runs it. Liveness is the loop's heartbeat; ready after the first
    partition assignment.
    """
    health = Health()
    health.add_check(
        "assigned", lambda: None if runtime.assignments else "no partition assignment yet"
    )
    FamiliesCollector(lambda: worker_families(runtime), REGISTRY)
    SkewCounters(runtime.skewed, REGISTRY)
    loop.run_until_complete(start_endpoint("worker", metrics, REGISTRY, health))
    app.task(health.heartbeat)
    return health


async def _await_broker(cfg: KafkaBusSettings, health: Health | None) -> bool:
    """Wait until the cluster answers (:func:`wait_for_broker`), the endpoint alive meanwhile;
    False when SIGINT or SIGTERM came first (before faust installs its own handlers)."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    beat = asyncio.create_task(health.heartbeat()) if health is not None else None
    try:
        return await wait_for_broker(cfg, stop)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        if beat is not None:
            beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beat


def run_worker(
    cfg: KafkaBusSettings,
    datadir: Path,
    log_level: str = "info",
    factory: PartitionFactory | None = None,
    metrics: MetricsSettings | None = None,
) -> int:
    """Run a worker until SIGINT/SIGTERM; return the exit status. ``factory``: see
    :func:`build_app` (the CLI's carries the configuration's liquidation coverage);
    ``metrics``: where to serve the worker's endpoint (None: nowhere).

    Raises:
        OSError: the endpoint's port cannot be bound.
    """
    datadir.mkdir(parents=True, exist_ok=True)
    app, runtime = build_app(cfg, datadir, factory)
    loop = asyncio.new_event_loop()
    health = None
    if metrics is not None and metrics.enabled:
        health = _observe(app, runtime, metrics, loop)
    if not loop.run_until_complete(_await_broker(cfg, health)):
        return 0
    worker = faust.Worker(
        app,
        loglevel=logging.WARNING if log_level != "debug" else logging.INFO,
        quiet=True,
        redirect_stdouts=False,
        override_logging=False,
        loop=loop,
    )
    log.info("kafka.worker_starting", group=cfg.worker_group, brokers=cfg.brokers)
    try:
        worker.execute_from_commandline()
    except SystemExit as e:
        return int(e.code or 0)
    return 0
