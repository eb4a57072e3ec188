"""``riskmon alerter``: consume ``riskmon.signals.v1``, evaluate rules, deliver; one at a time.

The alert side of the single process, unchanged: the same :class:`~alerts.service.AlertService`
(SQLite store, outbox, dispatcher, deliverers) and the same evaluator, fed by
:class:`~monitor.kafka.alerter_core.AlerterCore`.

One alerter is active. It holds an exclusive ``flock`` on ``bus.alerter_lock`` (default: the
store's path + ``.lock``); a standby started beside it waits for the lock and takes over when the
active one exits or dies (the kernel releases the lock of a dead process). The store is one file,
so the standby runs on the same host or shared volume.

No lost and no repeated notification: the alerter saves its state (evaluator, gates, held
batches) to ``state_dir/alerter.msgpack`` and only then commits the signals offset that state
covers (the file is written and synced in a thread, so the event loop keeps consuming and
delivering meanwhile). A successor
restores that state and is re-delivered the signals after it; re-applying them gives the same
notices, which the dispatcher recognises as no change of any alert's state (the store keeps the
alert state), and notifications already queued sit in the outbox until delivered.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import time
from pathlib import Path
from typing import IO

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from prometheus_client import REGISTRY, CollectorRegistry

from alerts.service import AlertService
from monitor.exporter import SignalExporter
from monitor.health import Health, freeze_startup_objects
from monitor.kafka.alerter_core import AlerterCore
from monitor.kafka.codec import SchemaError, decode_signals
from monitor.kafka.endpoint import FamiliesCollector, alerter_families, start_endpoint
from monitor.kafka.settings import KafkaBusSettings
from monitor.kafka.topics import wait_for_broker
from monitor.notices import log_notice
from monitor.settings import MetricsSettings

__all__ = ["Alerter"]

log = structlog.get_logger(__name__)


class Alerter:
    """The alerter process.

    Args:
        cfg: the bus settings.
        service: the alert service (built from the ``alerting`` settings).
        state_dir: where the alerter's state file lives.
        lock_path: the lock that makes one alerter active.
        endpoint: where to serve ``/metrics``, ``/healthz`` and ``/readyz`` (None: nowhere).
        registry: the Prometheus registry the endpoint renders.
    """

    def __init__(
        self,
        cfg: KafkaBusSettings,
        service: AlertService,
        state_dir: Path,
        lock_path: Path,
        endpoint: MetricsSettings | None = None,
        registry: CollectorRegistry = REGISTRY,
    ) -> None:
        self.cfg = cfg
        self.endpoint = endpoint
        self.registry = registry
        self.service = service
        self.state_path = state_dir / "alerter.msgpack"
        self.lock_path = lock_path
        self.core = AlerterCore(service.new_evaluator())
        self.bad_records = 0
        self.notices = 0
        self.active = False
        self._stop = asyncio.Event()
        self._lock_fh: IO[bytes] | None = None
        self._saving: asyncio.Task[None] | None = None  # the snapshot being written
        self._log = log.bind(component="kafka-alerter")
        self.exporter = SignalExporter(registry, register=False)  # rendered by the endpoint
        self.core.observe = self.exporter.update
        FamiliesCollector(lambda: alerter_families(self), registry)
        self.health = Health()
        self.health.add_check("active", lambda: None if self.active else "standby")
        self.health.watch(service.supervisor.unhealthy)  # a delivery task that keeps failing

    def stop(self) -> None:
        """Ask the alerter (active or standby) to stop."""
        self._stop.set()

    async def _acquire(self) -> bool:
        """Wait for the lock; False if stopped first."""
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        fh = self.lock_path.open("ab")
        announced = False
        while not self._stop.is_set():
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if not announced:
                    self._log.info("kafka.alerter_standby", lock=str(self.lock_path))
                    announced = True
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), 0.2)
                continue
            self._lock_fh = fh
            return True
        fh.close()
        return False

    def _restore(self) -> None:
        if not self.state_path.is_file():
            return
        try:
            self.core.restore(self.state_path.read_bytes())
        except (OSError, ValueError, KeyError, TypeError) as e:
            self._log.error("kafka.alerter_state_unreadable", error=str(e))
            return
        self._log.info("kafka.alerter_state_restored", tick_ns=self.core.last_tick_ns)

    def _write_state(self, data: bytes) -> None:
        """Write a snapshot durably: a temporary file, fsync, rename."""
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.state_path.with_suffix(".tmp")
        with tmp.open("wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(self.state_path)

    def _save(self) -> None:
        self._write_state(self.core.snapshot())

    async def _save_and_commit(
        self, consumer: AIOKafkaConsumer, tp: TopicPartition, data: bytes, offset: int | None
    ) -> None:
        """Write ``data`` (the state after every record before ``offset``) off the event loop,
        then commit ``offset``: the write and its fsync must not hold up the signals and the
        deliveries of this process (they take tens of ms on a busy disk)."""
        await asyncio.to_thread(self._write_state, data)
        if offset is not None:
            await consumer.commit({tp: offset})

    async def run(self) -> None:
        """Serve the endpoint (active or standby), wait to be the active alerter, then consume
        until :meth:`stop`.

        Raises:
            OSError: the endpoint's port cannot be bound.
        """
        runner = None
        if self.endpoint is not None:
            runner = await start_endpoint(
                "alerter", self.endpoint, self.registry, self.health, extra=[self.exporter]
            )
        beat = asyncio.create_task(self.health.heartbeat(), name="heartbeat")
        self.health.supervise([beat])
        try:
            await self._run_active()
        finally:
            beat.cancel()
            if runner is not None:
                await runner.cleanup()

    async def _run_active(self) -> None:
        if not await wait_for_broker(self.cfg, self._stop) or not await self._acquire():
            return
        self.active = True
        self._log.info("kafka.alerter_active", lock=str(self.lock_path))
        self._restore()
        await self.service.start()  # no evaluator: it replays from its commit, re-deriving alerts
        tp = TopicPartition(self.cfg.topics.signals, 0)
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.cfg.brokers,
            client_id=f"{self.cfg.client_id}-alerter",
            group_id=self.cfg.alerter_group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=self.cfg.fetch_max_wait_ms,
            session_timeout_ms=int(self.cfg.session_timeout_s * 1000),
            heartbeat_interval_ms=int(self.cfg.heartbeat_interval_s * 1000),
            max_partition_fetch_bytes=16 * 1024 * 1024,
        )
        await consumer.start()
        consumer.assign([tp])
        committed = await consumer.committed(tp)
        if committed is not None:
            consumer.seek(tp, committed)
        else:
            await consumer.seek_to_beginning(tp)
        freeze_startup_objects()
        try:
            await self._consume(consumer, tp)
        finally:
            if self._saving is not None:  # never two writers of the state file
                with contextlib.suppress(BaseException):
                    await self._saving
            with contextlib.suppress(Exception):
                self._save()
                await consumer.commit()
            await consumer.stop()
            await self.service.aclose()
            if self._lock_fh is not None:
                self._lock_fh.close()
            self._log.info(
                "kafka.alerter_stopped",
                notices=self.notices,
                duplicates_skipped=self.core.duplicates,
                bad_records=self.bad_records,
            )

    async def _consume(self, consumer: AIOKafkaConsumer, tp: TopicPartition) -> None:
        last_save = time.monotonic()
        position: int | None = None  # the offset after the last record applied
        while not self._stop.is_set():
            got = await consumer.getmany(tp, timeout_ms=100, max_records=5000)
            now = time.monotonic()
            notices = []
            for r in got.get(tp, []):
                position = r.offset + 1
                try:
                    batch = decode_signals(r.value)
                except SchemaError as e:
                    self.bad_records += 1
                    self._log.error("kafka.bad_record", offset=r.offset, error=str(e)[:200])
                    continue
                notices.extend(self.core.on_batch(batch, now))
            if not got:
                notices.extend(self.core.release(now))
            if notices:
                self.notices += len(notices)
                for n in notices:
                    log_notice(self._log, n, starts_at=n.starts_at)
                await self.service.submit(notices)
            saving = self._saving
            since = now - last_save
            interval = self.cfg.alerter_snapshot_interval_s
            # encoding the snapshot holds the event loop (10-30 ms with a few hundred series on a
            # busy host): taken when a fetch found nothing for 100 ms, so not while a tick's
            # notices are being stored and sent (within one more interval at most)
            if (
                since >= interval
                and (saving is None or saving.done())
                and (not got or since >= 2 * interval)
            ):
                if saving is not None:
                    saving.result()  # a failed save stops the alerter, as before
                # the snapshot is taken here, after the notices were stored; written in the
                # background, then the offset it covers is committed
                self._saving = asyncio.create_task(
                    self._save_and_commit(consumer, tp, self.core.snapshot(), position)
                )
                last_save = now
