"""Alert engine benchmark (not a test): evaluator throughput and alert pipeline latency.

1. Rule evaluations per second with the full default pack over a synthetic signal stream
   (every signal name of the pack, many assets / coins / venues, one sample per series per
   event-time second).
2. Latency from a signal entering the evaluator to its alert (a) being stored and grouped
   (``AlertService.submit`` returned) and (b) reaching the notifier (``notify`` called), through
   the real SQLite store, dispatcher (group_wait 0) and deliverer. Printed as p50/p99.
3. Latency from a raw event entering the pipeline to its alert reaching the notifier: a live-paced
   stream (a trade every 10 ms of event time) through every processor, the default pack and the
   alert service; at a random instant a $300M long liquidation crosses ``liquidations_1h``.
   Processors emit on the aligned one-second tick, so the alert leaves with the first event of
   the next second: the event-time wait (what a live feed waits in wall time) and the processing
   time (wall clock, from the tick-closing event entering the pipeline to ``notify``) are
   printed apart, and their sum.

Run: ``.venv/bin/python bench/bench_alerts.py [--signals N] [--alerts N]``
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import statistics
import tempfile
import time
from pathlib import Path

import structlog
from prometheus_client import CollectorRegistry

from alerts.evaluator import AlertEvaluator
from alerts.model import Notification
from alerts.notify.base import NotifyResult
from alerts.rules import load_pack
from alerts.service import AlertService
from alerts.settings import AlertsSettings, ConsoleReceiver, RouteSettings
from monitor.pipeline import Pipeline
from streams.engine import StreamEngine
from streams.events import Event, Liquidation, Trade
from streams.processors import default_processors
from streams.signals import Signal
from streams.units import NS_PER_SECOND as S

T0 = 1_763_700_000 * S
ASSETS = ["BTC", "ETH", "SOL", "XRP", "DOGE", "BNB", "ADA", "AVAX", "LINK", "TON"]
COINS = ["USDT", "USDC", "FDUSD", "DAI", "USDe"]
VENUES = ["binance", "bybit", "okx", "kraken", "coinbase", "hyperliquid"]


def one_second(t: int, rng: random.Random) -> list[Signal]:
    """Every series of the stream, sampled once at event time ``t``."""
    out: list[Signal] = []
    for a in [*ASSETS, "all"]:
        out.extend(
            Signal("liq_usd", {"asset": a, "side": side, "window": w}, rng.uniform(0, 3e8), t)
            for side in ("long", "short", "all")
            for w in ("1m", "5m", "1h", "24h")
        )
        out.append(Signal("liq_long_share", {"asset": a, "window": "24h"}, rng.random(), t))
        out.append(Signal("liq_burst_z", {"asset": a}, rng.gauss(0, 2), t))
    for a in ASSETS:
        out.append(Signal("oi_drawdown_pct", {"asset": a}, rng.uniform(-40, 0), t))
        out.append(Signal("oi_change_pct", {"asset": a, "window": "24h"}, rng.uniform(-20, 5), t))
        out.append(Signal("oi_complete", {"asset": a}, 1.0, t))
        out.append(Signal("price_ref", {"asset": a}, rng.uniform(1, 1e5), t))
        out.append(Signal("price_drawdown_pct", {"asset": a}, rng.uniform(-40, 0), t))
        out.extend(
            Signal("price_return_pct", {"asset": a, "window": w}, rng.uniform(-6, 6), t)
            for w in ("10m", "1h", "24h")
        )
        out.append(
            Signal(
                "funding_rate_8h", {"asset": a, "venue": "oi_weighted"}, rng.uniform(-4e-4, 1e-3), t
            )
        )
        out.append(Signal("funding_negative_hours", {"asset": a}, rng.uniform(0, 30), t))
        out.append(Signal("deleveraging_score", {"asset": a}, rng.uniform(0, 100), t))
    for c in COINS:
        out.append(Signal("peg_median_deviation_bps", {"coin": c}, rng.uniform(-40, 40), t))
        out.append(
            Signal(
                "peg_venues_deviating", {"coin": c, "threshold": "100"}, float(rng.randint(0, 4)), t
            )
        )
        out.extend(
            Signal("peg_dislocation_bps", {"coin": c, "venue": v}, rng.uniform(-300, 100), t)
            for v in VENUES
        )
    for v in VENUES:
        for ch in ("trades", "liquidations", "book"):
            out.append(
                Signal("feed_age_seconds", {"venue": v, "channel": ch}, rng.uniform(0, 60), t)
            )
            out.append(Signal("feed_up", {"venue": v, "channel": ch}, 1.0, t))
    return out


def bench_throughput(n_signals: int) -> None:
    rng = random.Random(7)
    pack = load_pack("november-2025")
    ev = AlertEvaluator(pack)
    per_sec = len(one_second(T0, rng))
    seconds = max(1, n_signals // per_sec)
    batches = [one_second(T0 + i * S, rng) for i in range(seconds)]
    total = sum(len(b) for b in batches)
    notices = 0
    t0 = time.perf_counter()
    for i, batch in enumerate(batches):
        notices += len(ev.on_signals(batch))
        notices += len(ev.on_tick(T0 + i * S))
    dt = time.perf_counter() - t0
    print(f"pack november-2025: {len(pack.rules)} alert levels, {per_sec} series")
    print(f"signals: {total:,} in {dt:.2f} s = {total / dt:,.0f} signals/s")
    print(f"rule evaluations: {ev.evaluations:,} = {ev.evaluations / dt:,.0f} evaluations/s")
    print(f"notices emitted: {notices:,}")


class TimingNotifier:
    """Records when each notification reaches the notifier."""

    name = "timing"
    min_interval_s = 0.0

    def __init__(self) -> None:
        self.arrived: dict[tuple[str, str], float] = {}
        self.event = asyncio.Event()

    async def notify(self, notification: Notification) -> NotifyResult:
        now = time.perf_counter()
        for a in notification.alerts:
            self.arrived.setdefault((a.fingerprint, a.status), now)
        self.event.set()
        return NotifyResult(ok=True)

    async def wait_for(self, fp: str, status: str = "firing") -> float:
        while (fp, status) not in self.arrived:
            self.event.clear()
            await self.event.wait()
        return self.arrived.pop((fp, status))

    async def aclose(self) -> None:
        return None


def _timing_service(tmp: Path) -> tuple[AlertService, TimingNotifier]:
    """An alert service whose one receiver records arrival times; every alert its own group."""
    settings = AlertsSettings(
        db_path=tmp / "bench.db",
        receivers=[ConsoleReceiver(name="timing")],
        routes=[
            RouteSettings(
                receiver="timing",
                group_by=["..."],
                group_wait_s=0.0,
                group_interval_s=0.0,
                repeat_interval_s=1e9,
            )
        ],
    )
    notifier = TimingNotifier()
    svc = AlertService(settings, notifiers={"timing": notifier}, registry=CollectorRegistry())
    return svc, notifier


async def bench_latency(n_alerts: int) -> None:
    with tempfile.TemporaryDirectory() as d:
        svc, notifier = _timing_service(Path(d))
        ev = svc.new_evaluator()
        stored: list[float] = []
        delivered: list[float] = []
        async with svc:
            t = T0
            for i in range(n_alerts):
                asset = ASSETS[i % 2]
                sig = Signal("price_return_pct", {"asset": asset, "window": "10m"}, -5.0, t)
                t0 = time.perf_counter()
                notices = ev.on_signals([sig])
                await svc.submit(notices)
                stored.append(time.perf_counter() - t0)
                # the warning level is notified; its watch level is inhibited by the ladder rule
                (warning,) = [n.fingerprint for n in notices if n.severity == "warning"]
                delivered.append(await notifier.wait_for(warning) - t0)
                # resolve it in event time so the next round fires again
                t += 60 * S
                ev.on_signals(
                    [Signal("price_return_pct", {"asset": asset, "window": "10m"}, 0.0, t)]
                )
                await svc.submit(ev.on_tick(t + 20 * 60 * S))
                t += 21 * 60 * S
        for name, xs in (("stored+grouped", stored), ("at notifier", delivered)):
            print(
                f"latency signal -> {name}: {_quantiles_ms(xs)}"
                f" (n={len(xs)}, each alert = 2 notices: watch + warning)"
            )


def _btc(cls: type[Trade] | type[Liquidation], t: int, usd: float, side: str) -> Event:
    price = 85_000.0
    return cls(
        venue="binance-usdm",
        symbol="BTCUSDT",
        instrument="BTC-USDT-PERP",
        asset="BTC",
        ts_event=t,
        ts_recv=t,
        price=price,
        size=usd / price,
        notional_usd=usd,
        side=side,  # type: ignore[arg-type]
    )


def _quantiles_ms(xs: list[float]) -> str:
    q = statistics.quantiles([x * 1e3 for x in xs], n=100)
    return f"p50 {q[49]:.2f} ms, p99 {q[98]:.2f} ms"


async def bench_event_to_notifier(n_alerts: int) -> None:
    rng = random.Random(11)
    step = 10_000_000  # a trade every 10 ms of event time
    with tempfile.TemporaryDirectory() as d:
        svc, notifier = _timing_service(Path(d))
        pipeline = Pipeline(StreamEngine(default_processors()), svc.new_evaluator())
        waits: list[float] = []
        processing: list[float] = []
        total: list[float] = []
        async with svc:
            t = T0
            for _ in range(n_alerts):
                for _ in range(300 + rng.randrange(100)):  # 3-4 s of calm trading
                    t += step
                    await svc.submit(pipeline.on_event(_btc(Trade, t, 50_000.0, "sell")).notices)
                liq_ts = t + rng.randrange(1, step)
                await svc.submit(
                    pipeline.on_event(_btc(Liquidation, liq_ts, 300e6, "long")).notices
                )
                t = liq_ts
                fp = ""
                while not fp:
                    t += step
                    entered = time.perf_counter()
                    notices = pipeline.on_event(_btc(Trade, t, 50_000.0, "sell")).notices
                    await svc.submit(notices)
                    fp = next(
                        (
                            n.fingerprint
                            for n in notices
                            if n.rule == "liquidations_1h" and n.status == "firing"
                        ),
                        "",
                    )
                proc = await notifier.wait_for(fp) - entered
                wait = (t - liq_ts) / S
                waits.append(wait)
                processing.append(proc)
                total.append(wait + proc)
                t += 2 * 3600 * S  # the hour window empties; the alert resolves
                await svc.submit(pipeline.advance(t).notices)
                # a re-fire before the resolution went out would be a flap, not a new alert
                await notifier.wait_for(fp, "resolved")
        print(f"latency event -> at notifier (n={len(total)}, live pace, 1 s ticks):")
        print(f"  waiting for the one-second tick (event time): {_quantiles_ms(waits)}")
        print(f"  processing, tick-closing event -> notify():   {_quantiles_ms(processing)}")
        print(f"  total:                                         {_quantiles_ms(total)}")


def main() -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--signals", type=int, default=500_000, help="signals for the throughput run")
    p.add_argument("--alerts", type=int, default=300, help="alerts for the latency run")
    args = p.parse_args()
    bench_throughput(args.signals)
    asyncio.run(bench_latency(args.alerts))
    asyncio.run(bench_event_to_notifier(args.alerts // 3))


if __name__ == "__main__":
    main()
