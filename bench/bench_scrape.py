"""Scrape benchmark (not a test): the cost of one ``/metrics`` scrape at 600 instruments.

A registry like the daemon's (feed, bus, pipeline, window and alert metrics plus every signal
family) is filled the way a live daemon fills it: 600 perpetual instruments (10 venues × 60
assets) send trades, funding, open interest and liquidations through every processor for two
minutes of event time; each venue also has spot stablecoin quotes and every feed channel its
status, so the signal set is what a desk with 600 instruments exports. Feed counters get one
series per venue, channel and reason, and 40 alerts are firing.

Printed: series (sample lines) and families, bytes of the text exposition (and gzipped), the
milliseconds to render it the way the daemon does (the registry through prometheus-client, the
signal families through ``SignalExporter.exposition``; p50/p99 of 50, wall and CPU: on a shared
machine the wall time includes waiting for a core), the CPU of the generic path (every family
through prometheus-client) for comparison, and a full HTTP scrape over 127.0.0.1 (the daemon's
aiohttp app, p50/p99 of 50). ``bench/run.py scrape`` runs it with the others.

Run: ``.venv/bin/python bench/bench_scrape.py [--instruments N]``
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import logging
import statistics
import time

import aiohttp
import structlog
from aiohttp import web
from prometheus_client import CollectorRegistry, generate_latest

from alerts.metrics import AlertMetrics
from monitor.exporter import SignalExporter
from monitor.health import Health, build_app
from monitor.metrics import MonitorMetrics, WindowCounters
from streams.engine import StreamEngine
from streams.events import Event, FeedStatus, Funding, Liquidation, OpenInterest, Quote, Trade
from streams.processors import default_processors
from streams.units import NS_PER_SECOND

T0 = 1_763_700_000 * NS_PER_SECOND
VENUES = [
    "binance-usdm",
    "bybit-linear",
    "okx-swap",
    "hyperliquid",
    "deribit",
    "bitmex",
    "kraken",
    "coinbase",
    "bitstamp",
    "binance-spot",
]
CHANNELS = ["trades", "liquidations", "funding", "open_interest", "quotes"]
STABLES = ["USDC", "FDUSD", "DAI", "USDE"]


class _Alert:
    def __init__(self, i: int) -> None:
        self.rule = f"rule_{i % 12}"
        self.severity = ("info", "warning", "critical")[i % 3]
        self.labels = {"asset": f"A{i:03d}", "category": "bench"}


def events(instruments: int, seconds: int) -> list[Event]:
    """Two minutes of a market with ``instruments`` perps spread over the venues."""
    per_venue = max(1, instruments // len(VENUES))
    out: list[Event] = []
    for s in range(seconds):
        ts = T0 + s * NS_PER_SECOND
        for vi, venue in enumerate(VENUES):
            for ai in range(per_venue):
                asset = f"A{ai:03d}"
                kw = {
                    "venue": venue,
                    "symbol": f"{asset}USDT",
                    "instrument": f"{asset}-USDT-PERP",
                    "asset": asset,
                    "ts_event": ts + vi * 1000 + ai,
                    "ts_recv": ts,
                }
                px = 100.0 + ai + 0.01 * s
                out.append(Trade(**kw, price=px, size=1.0, notional_usd=px, side="buy"))
                if s % 10 == 0:
                    out.append(
                        Funding(**kw, rate=1e-4, interval_h=8.0, rate_8h=1e-4, mark_price=px)
                    )
                    out.append(OpenInterest(**kw, size=1e4, notional_usd=1e6 * (1 + ai) + s))
                if s % 15 == ai % 15:
                    out.append(
                        Liquidation(**kw, price=px, size=10.0, notional_usd=10 * px, side="long")
                    )
            for ci, coin in enumerate(STABLES):
                out.append(
                    Quote(
                        venue=venue,
                        symbol=f"{coin}USDT",
                        instrument=f"{coin}-USDT-SPOT",
                        asset=coin,
                        ts_event=ts + 500_000 + ci,
                        ts_recv=ts,
                        bid=0.9995,
                        ask=1.0005 + 0.0001 * (s % 3),
                    )
                )
        if s == 0:
            out += [
                FeedStatus(
                    venue=venue,
                    symbol="",
                    instrument="",
                    asset="",
                    ts_event=ts,
                    ts_recv=ts,
                    channel=ch,
                    status="subscribed",
                )
                for venue in VENUES
                for ch in CHANNELS
            ]
    out.sort(key=lambda e: e.ts_event)
    return out


def build_registry(instruments: int) -> tuple[CollectorRegistry, SignalExporter]:
    """The daemon's registry, filled as after two minutes of a live 600-instrument feed."""
    reg = CollectorRegistry()
    m = MonitorMetrics(reg)
    exporter = SignalExporter(reg, register=False)
    engine = StreamEngine(default_processors())
    WindowCounters(lambda: engine.processors, reg)
    alerts = AlertMetrics(reg)
    for ev in events(instruments, 120):
        exporter.update(engine.on_event(ev))
        m.latency.observe(0.001)
    exporter.update(engine.flush())
    for venue in VENUES:
        m.frames.labels(venue=venue).inc(1000)
        m.connects.labels(venue=venue).inc()
        for reason in ("malformed", "unknown", "no_metadata"):
            m.frames_skipped.labels(venue=venue, reason=reason).inc()
        for ch in CHANNELS:
            m.stream_up.labels(venue=venue, channel=ch).set(1)
            m.events.labels(venue=venue, type=ch).inc(10)
            for st in ("connected", "subscribed", "stale"):
                m.status_changes.labels(venue=venue, channel=ch, status=st).inc()
        m.connected.labels(venue=venue, connection="c0").set(1)
        m.reconnects.labels(venue=venue, reason="stale").inc()
        m.rest_requests.labels(venue=venue, outcome="ok").inc()
    for receiver in ("slack", "email", "webhook"):
        alerts.sent.labels(receiver).inc()
        alerts.notice_to_delivery.labels(receiver).observe(1.0)
        alerts.delivery_seconds.labels(receiver).observe(0.1)
        alerts.outbox_pending.labels(receiver).set(0)
    alerts.set_firing([_Alert(i) for i in range(40)])
    return reg, exporter


def _ms(samples: list[float]) -> str:
    q = statistics.quantiles(samples, n=100)
    return f"p50 {statistics.median(samples):7.2f} ms  p99 {q[98]:7.2f} ms"


def render(reg: CollectorRegistry, exporter: SignalExporter) -> bytes:
    """What the daemon's /metrics renders: the registry, then the signals' fast path."""
    return generate_latest(reg) + exporter.exposition().encode()


async def http_scrapes(reg: CollectorRegistry, exporter: SignalExporter, n: int) -> list[float]:
    """Wall time of ``n`` HTTP scrapes of the daemon's app over 127.0.0.1."""
    runner = web.AppRunner(build_app(reg, Health(), extra=[exporter]), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    out = []
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(n):
                t = time.perf_counter()
                async with http.get(f"http://127.0.0.1:{port}/metrics") as r:
                    await r.read()
                out.append((time.perf_counter() - t) * 1000)
    finally:
        await runner.cleanup()
    return out


def main() -> None:
    """Build the registry, then time rendering and HTTP scrapes."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--instruments", type=int, default=600)
    ap.add_argument("--repeat", type=int, default=50)
    args = ap.parse_args()
    logging.disable(logging.CRITICAL)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL))

    t = time.perf_counter()
    reg, exporter = build_registry(args.instruments)
    fill_s = time.perf_counter() - t
    body = render(reg, exporter)
    lines = [x for x in body.decode().splitlines() if x and not x.startswith("#")]
    families = sum(1 for x in body.decode().splitlines() if x.startswith("# TYPE"))
    wall, cpu, generic = [], [], []
    for _ in range(args.repeat):
        t, c = time.perf_counter(), time.process_time()
        render(reg, exporter)
        wall.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
    reg.register(exporter)  # the generic path, every family through prometheus-client
    assert generate_latest(reg) == body  # the fast path renders the same bytes
    for _ in range(args.repeat):
        c = time.process_time()
        generate_latest(reg)
        generic.append((time.process_time() - c) * 1000)
    reg.unregister(exporter)
    scrape = asyncio.run(http_scrapes(reg, exporter, args.repeat))
    print(f"instruments            {args.instruments} ({len(VENUES)} venues, {fill_s:.1f} s)")
    print(f"series (sample lines)  {len(lines)} (signals {exporter.series()}, families {families})")
    print(f"bytes                  {len(body)}  (gzip {len(gzip.compress(body))})")
    print(f"render (daemon path)   {_ms(wall)}  (CPU {_ms(cpu)})")
    print(f"render generic (CPU)   {_ms(generic)}  (signals through prometheus-client)")
    print(f"HTTP scrape 127.0.0.1  {_ms(scrape)}")


if __name__ == "__main__":
    main()
