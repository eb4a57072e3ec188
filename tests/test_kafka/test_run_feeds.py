"""``riskmon run`` with ``bus.kind: kafka`` runs only the feeds: events batched per asset and
keyed by asset on the events topic, raw frames on the frames topic, a clean SIGTERM."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

from aiokafka import AIOKafkaConsumer

from monitor.kafka.codec import SCHEMA_HEADER, decode_events, decode_frame
from monitor.kafka.local_broker import LocalBroker
from monitor.simulator.server import ExchangeSimulator
from monitor.simulator.venues.binance_usdm import BinanceUsdmSim
from streams.events import FeedStatus, Trade
from tests.helpers import free_port
from tests.test_kafka.conftest import Cluster, wait_until
from tests.test_kafka.test_endpoints import get, samples

V = "binance-usdm"
T = 1_763_714_000_000_000_000


async def read_all(brokers: list[str], topic: str, want: int, timeout_s: float) -> list:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=brokers, auto_offset_reset="earliest")
    await consumer.start()
    out: list = []
    try:
        deadline = time.monotonic() + timeout_s
        while len(out) < want and time.monotonic() < deadline:
            got = await consumer.getmany(timeout_ms=300)
            for records in got.values():
                out.extend(records)
    finally:
        await consumer.stop()
    return out


async def test_run_produces_events_and_frames(tmp_path: Path, broker: LocalBroker) -> None:
    cluster = Cluster(tmp_path, broker, frames=True)
    try:
        async with ExchangeSimulator([BinanceUsdmSim()]) as sim:
            port = free_port()
            cluster.write(
                simulator=sim.url,
                venues={V: {"symbols": ["BTCUSDT", "ETHUSDT"], "channels": ["trades"]}},
                metrics={"enabled": True, "host": "127.0.0.1", "port": port},
            )
            run = cluster.start("run")
            await wait_until(
                lambda: any(s.subscriptions for s in sim.sessions(V)), 30, "feeds subscribed"
            )
            for i in range(20):
                for sym, asset in (("BTCUSDT", "BTC"), ("ETHUSDT", "ETH")):
                    sim.publish(
                        Trade(
                            venue=V,
                            symbol=sym,
                            instrument=f"{asset}-USDT-PERP",
                            asset=asset,
                            ts_event=T + i * 100_000_000,
                            ts_recv=0,
                            price=100.0,
                            size=1.0,
                            notional_usd=100.0,
                            side="sell",
                        )
                    )
            bus = cluster.settings["bus"]
            trades: dict[str, int] = {}
            statuses = 0
            deadline = time.monotonic() + 20
            while sum(trades.values()) < 40 and time.monotonic() < deadline:
                trades, statuses = {}, 0
                for r in await read_all(bus["brokers"], bus["topics"]["events"], 10**6, 2):
                    assert dict(r.headers)[SCHEMA_HEADER] == b"events/1"
                    batch = decode_events(r.value)
                    assert r.key == batch.asset.encode()
                    for ev in batch.events:
                        assert ev.asset == batch.asset
                        if isinstance(ev, Trade):
                            trades[ev.asset] = trades.get(ev.asset, 0) + 1
                        elif isinstance(ev, FeedStatus):
                            statuses += 1
            assert trades == {"BTC": 20, "ETH": 20}
            assert statuses > 0
            frames = await read_all(bus["brokers"], bus["topics"]["frames"], 40, 10)
            assert all(decode_frame(r.value).venue == V for r in frames)
            assert len(frames) >= 40
            # the feeds' endpoint: ready (subscribed), alive, the publisher's counts
            assert get(port, "/readyz")[0] == 200
            assert get(port, "/healthz")[0] == 200
            m = samples(port)
            assert m["riskmon_kafka_events_sent_total"] >= 40
            assert m["riskmon_kafka_events_lost_total"] == 0
            assert any(
                k.startswith("riskmon_feed_connected{") and f'venue="{V}"' in k and v == 1
                for k, v in m.items()
            )
            run.send_signal(signal.SIGTERM)
            assert await asyncio.to_thread(run.wait, 20) == 0
            assert cluster.events(run, "kafka.feeds_stopped")[0]["lost_events"] == 0
    finally:
        cluster.stop_all()
