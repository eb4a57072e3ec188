"""Roles started before their broker wait for it (a supervisor must not restart them in a loop
while Kafka starts): alive, not ready, each attempt logged; they carry on once it answers and
stop cleanly on SIGTERM while they wait."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from monitor.kafka.local_broker import LocalBroker
from monitor.simulator.server import ExchangeSimulator
from monitor.simulator.venues.binance_usdm import BinanceUsdmSim
from tests.helpers import free_port
from tests.test_kafka.conftest import Cluster, wait_until
from tests.test_kafka.test_endpoints import get

V = "binance-usdm"


async def test_feeds_wait_for_a_broker_started_after_them(tmp_path: Path) -> None:
    broker = LocalBroker()  # its port is chosen; the broker is not running yet
    cluster = Cluster(tmp_path, broker)
    try:
        async with ExchangeSimulator([BinanceUsdmSim()]) as sim:
            port = free_port()
            cluster.write(
                simulator=sim.url,
                venues={V: {"symbols": ["BTCUSDT"], "channels": ["trades"]}},
                metrics={"enabled": True, "host": "127.0.0.1", "port": port},
            )
            run = cluster.start("run")
            await wait_until(
                lambda: len(cluster.events(run, "kafka.broker_unreachable")) >= 2,
                60,
                "two attempts to reach the broker",
            )
            assert run.poll() is None
            assert get(port, "/healthz")[0] == 200
            assert get(port, "/readyz")[0] == 503
            broker.start()
            await wait_until(
                lambda: bool(cluster.events(run, "kafka.feeds_started")), 60, "feeds started"
            )
            assert cluster.events(run, "kafka.broker_reachable")
            await wait_until(lambda: get(port, "/readyz")[0] == 200, 60, "feeds ready")
            run.send_signal(signal.SIGTERM)
            assert await asyncio.to_thread(run.wait, 30) == 0
            assert "Traceback" not in cluster.log_of(run)
    finally:
        cluster.stop_all()
        broker.stop()


async def test_roles_waiting_for_the_broker_stop_cleanly(tmp_path: Path) -> None:
    cluster = Cluster(tmp_path, LocalBroker())  # never started
    procs = {}
    for verb in ("worker", "alerter"):
        env = {"RISKMON_METRICS__ENABLED": "true", "RISKMON_METRICS__PORT": str(free_port())}
        procs[verb] = cluster.start(verb, env=env)
    try:
        for verb, p in procs.items():
            await wait_until(
                lambda p=p: bool(cluster.events(p, "kafka.broker_unreachable")), 60, verb
            )
        for verb, p in procs.items():
            p.send_signal(signal.SIGTERM)
            assert await asyncio.to_thread(p.wait, 30) == 0, verb
            assert "Traceback" not in cluster.log_of(p), verb
    finally:
        cluster.stop_all()
