"""``riskmon run`` with ``bus.kind: kafka``: only the feeds, producing to the events topic.

The venue feeds are the daemon's (:func:`monitor.daemon.build_feed`); their sink is a
:class:`~monitor.kafka.publisher.KafkaPublisher` instead of the in-process bus. Processors,
rules and delivery run in ``riskmon worker`` and ``riskmon alerter``. With ``bus.frames`` on,
every raw frame also goes to the frames topic (:class:`KafkaFrameWriter`).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import aiohttp
import structlog
from aiokafka import AIOKafkaProducer
from prometheus_client import REGISTRY, CollectorRegistry

from monitor.capture import BackfillTag, CaptureWriter
from monitor.clock_follower import ClockFollower, apply_feed_wall_floors
from monitor.health import Health, feeds_subscribed, freeze_startup_objects
from monitor.kafka.codec import encode, frame_record, schema_headers
from monitor.kafka.endpoint import start_endpoint
from monitor.kafka.history import publish_histories
from monitor.kafka.publisher import KafkaPublisher, PublisherMetrics, build_producer
from monitor.kafka.settings import KafkaBusSettings
from monitor.kafka.topics import wait_for_broker
from monitor.listing_refresh import refresh_forever, refresh_listings
from monitor.metrics import MonitorMetrics
from monitor.settings import Settings
from monitor.simulator.clock import ScenarioClock
from monitor.wiring import build_feeds, run_clock
from streams.supervisor import TaskSupervisor

__all__ = ["FeedsOnly", "KafkaFrameWriter"]

log = structlog.get_logger(__name__)


class KafkaFrameWriter(CaptureWriter):
    """A capture sink that produces each raw frame to the frames topic (keyed by venue).

    The feeds call :meth:`write` synchronously for every frame; records are handed to the
    producer without waiting, at most ``max_pending`` at a time (beyond, frames are dropped and
    counted in ``dropped``: frames are for audit, the events topic is what must not lose).
    """

    def __init__(self, cfg: KafkaBusSettings, max_pending: int = 10_000) -> None:
        # no file: the frames topic replaces the capture file
        self.cfg = cfg
        self.lines = 0
        self.dropped = 0
        self.max_pending = max_pending
        self._producer: AIOKafkaProducer | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    async def start(self) -> None:
        """Connect the producer."""
        self._producer = build_producer(self.cfg)
        await self._producer.start()

    def write(
        self, venue: str, frame: str, ts_recv: int, backfill: BackfillTag | None = None
    ) -> None:
        """Queue one frame (the REST history the feeds load goes to the events topic, not here:
        ``backfill`` is never set, and the frames schema has no field for it)."""
        if self._producer is None or len(self._tasks) >= self.max_pending:
            self.dropped += 1
            return
        task = asyncio.get_running_loop().create_task(
            self._producer.send(
                self.cfg.topics.frames,
                encode(frame_record(venue, frame, ts_recv)),
                key=venue.encode(),
                headers=schema_headers("frames"),
            )
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        self.lines += 1

    def flush(self) -> None:
        """Nothing to flush synchronously; :meth:`aclose` waits for the producer."""

    def close(self) -> None:
        """See :meth:`aclose`."""

    async def aclose(self) -> None:
        """Wait for queued frames and disconnect."""
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=10)
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None


class FeedsOnly:
    """The venue feeds, publishing to Kafka.

    Args:
        settings: the daemon settings (``bus`` must be Kafka).
        registry: Prometheus registry.
        stall_after_s, ping_interval_s: as for :class:`~monitor.daemon.Daemon`.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        registry: CollectorRegistry = REGISTRY,
        stall_after_s: float | None = None,
        ping_interval_s: float | None = 20.0,
    ) -> None:
        if not isinstance(settings.bus, KafkaBusSettings):
            raise ValueError("FeedsOnly needs bus.kind: kafka")
        self.settings = settings
        self.cfg = settings.bus
        self.metrics = MonitorMetrics(registry)
        self.publisher = KafkaPublisher(self.cfg, PublisherMetrics(registry))
        self.frames = KafkaFrameWriter(self.cfg) if self.cfg.frames else None
        #: the wall clock, or with ``simulator:`` set the simulator's scenario clock (receive
        #: stamps, history requests, watchdogs), as for the single process
        self.clock = run_clock(settings)
        self.feeds = build_feeds(
            settings,
            self.publisher.publish,
            self.metrics,
            capture=self.frames,
            stall_after_s=stall_after_s,
            ping_interval_s=ping_interval_s,
            clock=self.clock,
        )
        #: every connection and poll of every feed runs under it, restarted on failure
        self.supervisor = TaskSupervisor(registry)
        self.registry = registry
        self.health = Health()
        self.health.watch(self.supervisor.unhealthy)  # a connection or poll that keeps failing
        self.health.add_check("feeds", lambda: feeds_subscribed(self.feeds))
        self._stop = asyncio.Event()
        self._log = log.bind(component="kafka-feeds")

    def stop(self) -> None:
        """Ask the feeds to stop."""
        self._stop.set()

    def _apply_wall_floors(self) -> None:
        if isinstance(self.clock, ScenarioClock):
            apply_feed_wall_floors(self.clock.speed, self.feeds)

    async def run(self) -> None:
        """Run until :meth:`stop`; then send what is pending.

        Raises:
            OSError: the endpoint's port cannot be bound.
        """
        runner = await start_endpoint(
            "feeds",
            self.settings.metrics,
            self.registry,
            self.health,
            lambda: {"events": self.publisher.events, "lost_events": self.publisher.lost_events},
        )
        try:
            await self._run()
        finally:
            if runner is not None:
                await runner.cleanup()

    async def _run(self) -> None:
        if not await wait_for_broker(self.cfg, self._stop):
            return
        await self.publisher.start()
        if self.frames is not None:
            await self.frames.start()
        started = time.monotonic()
        try:
            async with aiohttp.ClientSession() as http:
                follower = ClockFollower.of(self.clock, self.settings.simulator, self._log)
                following = follower is not None and await follower.anchor(http)
                cache = str(self.settings.state_dir / "instruments")
                await refresh_listings(self.feeds, http, cache)
                freeze_startup_objects()
                self._log.info(
                    "kafka.feeds_started",
                    venues=[f.venue for f in self.feeds],
                    brokers=self.cfg.brokers,
                    topic=self.cfg.topics.events,
                )
                async with asyncio.TaskGroup() as tg:
                    tasks = [
                        tg.create_task(f.run(http, self.supervisor), name=f"feed:{f.venue}")
                        for f in self.feeds
                    ]
                    tasks.append(tg.create_task(self.publisher.run(), name="kafka-publisher"))
                    tasks.append(tg.create_task(self.health.heartbeat(), name="heartbeat"))
                    self.health.supervise(tasks)
                    # the venues' history loads beside the feeds and ends (not supervised)
                    history = publish_histories(
                        self.feeds, http, self.publisher, self.clock, self.metrics
                    )
                    tasks.append(tg.create_task(history, name="history"))
                    every = self.settings.instruments_refresh_s
                    tasks.append(
                        tg.create_task(
                            refresh_forever(self.feeds, http, self.clock, every, cache),
                            name="listings",
                        )
                    )
                    if following:
                        assert follower is not None
                        follow = follower.follow(http, on_read=self._apply_wall_floors)
                        tasks.append(tg.create_task(follow, name="clock"))
                    await self._stop.wait()
                    for t in tasks:
                        t.cancel()
        finally:
            with contextlib.suppress(Exception):
                await self.publisher.stop()
            if self.frames is not None:
                await self.frames.aclose()
            self._log.info(
                "kafka.feeds_stopped",
                events=self.publisher.events,
                records=self.publisher.records,
                lost_events=self.publisher.lost_events,
                log_resets=self.publisher.log_resets,
                seconds=round(time.monotonic() - started, 1),
            )
