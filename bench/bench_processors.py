"""Benchmark: events/s through all default processors on one core, and RSS with full windows.

Run: ``.venv/bin/python bench/bench_processors.py`` (about a minute). It runs one subprocess per
instrument count (so each RSS figure is clean) and prints a table:

- events/s: a synthetic mix (70% trades, 15% quotes, 6% open interest, 6% funding, 3%
  liquidations, plus stablecoin spot quotes) at 20,000 events per second of event time, through
  ``StreamEngine(default_processors())`` including its 1 s ticks;
- RSS after filling every window: 24 h of per-minute liquidations for every asset, 60 days of
  hourly open interest per venue and 90 days of hourly prices (backfill hooks), then the run.

Every size also times the CPU reference of ``bench/reference.py`` (best of 5) in its own
process, right before its run, and the run is timed per second of event time (one tick each):
``best 1 s`` is the fastest of those seconds. On the shared machine compare runs by
``best / ref`` (both best-of figures, the least disturbed by other jobs), not by raw events/s.

Options: ``--instruments N`` runs one size in-process; ``--events N`` sets the measured events.
"""

from __future__ import annotations

import argparse
import math
import random
import subprocess
import sys
import time
from pathlib import Path

from full_windows import fill_windows
from reference import cpu_reference, describe

from streams.engine import StreamEngine
from streams.events import Event, Funding, Liquidation, OpenInterest, Quote, Trade
from streams.processors import (
    default_processors,
)
from streams.units import NS_PER_SECOND as S

T0 = 1_763_683_200 * S
VENUES = ["binance-usdm", "okx-swap", "bybit-linear", "hyperliquid", "deribit", "kraken-futures"]
RATE_PER_S = 20_000


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return math.nan


def _make_events(n_instruments: int, n_events: int, seed: int = 1) -> list[Event]:
    rng = random.Random(seed)
    n_assets = max(1, n_instruments // len(VENUES))
    assets = [f"A{i:03d}" for i in range(n_assets)]
    insts = [(a, v) for a in assets for v in VENUES][:n_instruments]
    px = {a: 100.0 * (1 + i) for i, a in enumerate(assets)}
    out: list[Event] = []
    step = S // RATE_PER_S
    stables = [
        ("USDT-USD-SPOT", "kraken"),
        ("USDC-USDT-SPOT", "binance"),
        ("USDE-USDT-SPOT", "bybit"),
    ]
    for k in range(n_events):
        ts = T0 + k * step
        asset, venue = insts[rng.randrange(len(insts))]
        base = {
            "venue": venue,
            "symbol": asset + "USDT",
            "instrument": f"{asset}-USDT-PERP",
            "asset": asset,
            "ts_event": ts,
            "ts_recv": ts,
        }
        r = rng.random()
        p = px[asset] = px[asset] * (1.0 + rng.gauss(0.0, 1e-4))
        ev: Event
        if r < 0.70:
            ev = Trade(**base, price=p, size=1.0, notional_usd=p, side="buy")
        elif r < 0.85:
            ev = Quote(**base, bid=p * 0.9999, ask=p * 1.0001)
        elif r < 0.91:
            ev = OpenInterest(**base, size=1e6, notional_usd=1e6 * p)
        elif r < 0.97:
            rate = rng.gauss(0.0001, 0.0001)
            ev = Funding(**base, rate=rate, interval_h=8.0, rate_8h=rate, mark_price=p)
        elif r < 0.995:
            side = "long" if rng.random() < 0.7 else "short"
            ev = Liquidation(**base, price=p, size=1.0, notional_usd=1e4 * rng.random(), side=side)
        else:
            inst, sv = stables[rng.randrange(len(stables))]
            ev = Quote(
                venue=sv,
                symbol=inst,
                instrument=inst,
                asset=inst.split("-")[0],
                ts_event=ts,
                ts_recv=ts,
                bid=0.9995,
                ask=1.0005,
            )
        out.append(ev)
    return out


def run_one(n_instruments: int, n_events: int) -> tuple[float, float, float, float, float]:
    """Return (events/s, events/s of the fastest second of event time, RSS MB after filling and
    running, RSS MB before the processors, reference iterations/s)."""
    ref = cpu_reference()
    events = _make_events(n_instruments, n_events)
    rss0 = _rss_mb()
    engine = StreamEngine(default_processors())
    n_assets = max(1, n_instruments // len(VENUES))
    fill_windows(engine, [f"A{i:03d}" for i in range(n_assets)], VENUES, T0)
    warm = events[: n_events // 10]
    engine.on_events(warm)
    rest = events[n_events // 10 :]
    dt, best = 0.0, 0.0
    for i in range(0, len(rest), RATE_PER_S):  # one second of event time (one tick) each
        chunk = rest[i : i + RATE_PER_S]
        t = time.perf_counter()
        engine.on_events(chunk)
        d = time.perf_counter() - t
        dt += d
        best = max(best, len(chunk) / d)
    t = time.perf_counter()
    engine.flush()
    dt += time.perf_counter() - t
    return len(rest) / dt, best, _rss_mb(), rss0, ref


def main() -> None:
    """Run the sweep (or one size with ``--instruments``) and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--instruments", type=int, default=0)
    ap.add_argument("--events", type=int, default=500_000)
    args = ap.parse_args()
    if args.instruments:
        eps, best, rss, rss0, ref = run_one(args.instruments, args.events)
        print(f"{args.instruments}\t{eps:.0f}\t{best:.0f}\t{rss:.1f}\t{rss0:.1f}\t{ref:.0f}")
        return
    print(describe(cpu_reference()))
    print(
        f"{'instruments':>11} {'assets':>6} {'events/s':>10} {'best 1 s':>10} {'ref M it/s':>10} "
        f"{'best / ref':>10} {'RSS MB':>8} {'RSS w/o proc':>12}"
    )
    for n in (60, 150, 300, 600, 1200):
        res = subprocess.run(
            [sys.executable, __file__, "--instruments", str(n), "--events", str(args.events)],
            capture_output=True,
            text=True,
            check=True,
        )
        _, eps, best, rss, rss0, ref = res.stdout.split()
        print(
            f"{n:>11} {n // 6:>6} {float(eps):>10,.0f} {float(best):>10,.0f} "
            f"{float(ref) / 1e6:>10.2f} {float(best) / float(ref):>10.4f} {float(rss):>8.1f} "
            f"{float(rss0):>12.1f}"
        )


if __name__ == "__main__":
    main()
