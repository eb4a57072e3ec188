"""A broker that loses its data (Tansu restarted): the feeds' publisher recreates the topics
with their partition counts, carries on, counts the loss and publishes it as a feed status."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient

from monitor.kafka.codec import decode_events
from monitor.kafka.local_broker import LocalBroker
from monitor.kafka.publisher import BUS_VENUE, KafkaPublisher
from monitor.kafka.settings import KafkaBusSettings
from streams.events import FeedStatus, Trade
from tests.test_kafka.conftest import tansu_bus, wait_until


@pytest.fixture
def own_broker() -> Iterator[LocalBroker]:
    b = LocalBroker()
    b.start()
    try:
        yield b
    finally:
        b.stop()


def trade(asset: str, ts: int) -> Trade:
    return Trade(
        venue="binance-usdm",
        symbol=f"{asset}USDT",
        instrument=f"{asset}-USDT-PERP",
        asset=asset,
        ts_event=ts,
        ts_recv=ts,
        price=100.0,
        size=1.0,
        notional_usd=100.0,
        side="buy",
    )


async def partitions(cfg: KafkaBusSettings) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=cfg.brokers)
    await admin.start()
    try:
        got = await admin.describe_topics([cfg.topics.events])
        return len(got[0]["partitions"]) if got and got[0]["error_code"] == 0 else 0
    finally:
        await admin.close()


async def test_broker_restart_loss_is_counted_and_announced(own_broker: LocalBroker) -> None:
    cfg = KafkaBusSettings(**tansu_bus(own_broker.address, "restart"))
    pub = KafkaPublisher(cfg)
    await pub.start()
    runner = asyncio.create_task(pub.run())
    try:
        t0 = time.time_ns()
        for i in range(200):
            await pub.publish(trade(("BTC", "ETH", "SOL")[i % 3], t0 + i * 1_000_000))
        await pub.flush()
        assert pub.lost_events == 0
        assert pub.log_resets == 0

        own_broker.kill()  # memory-only: every topic and offset is gone
        own_broker.start()
        for i in range(200, 400):
            await pub.publish(trade(("BTC", "ETH", "SOL")[i % 3], t0 + i * 1_000_000))
            await asyncio.sleep(0.01)
        await pub.flush()
        await wait_until(lambda: pub.log_resets + pub.lost_events > 0, 30, "the loss counted")
        await pub.flush()
        assert await partitions(cfg) == cfg.topics.events_partitions

        consumer = AIOKafkaConsumer(
            cfg.topics.events, bootstrap_servers=cfg.brokers, auto_offset_reset="earliest"
        )
        await consumer.start()
        statuses: list[FeedStatus] = []
        trades = 0
        try:
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and not (statuses and trades):
                got = await consumer.getmany(timeout_ms=300)
                for records in got.values():
                    for r in records:
                        for ev in decode_events(r.value).events:
                            if isinstance(ev, FeedStatus) and ev.venue == BUS_VENUE:
                                statuses.append(ev)
                            elif isinstance(ev, Trade):
                                trades += 1
        finally:
            await consumer.stop()
        assert trades > 0, "nothing published after the restart"
        errors = [s for s in statuses if s.status == "error"]
        assert errors
        assert "log_resets_total=" in errors[0].reason
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)
        await pub.stop()
