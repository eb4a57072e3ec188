"""The alert path of ``bench_kafka.py``'s latency run: ``riskmon alerter`` and a webhook receiver.

Not a benchmark on its own (``bench/run.py`` runs only ``bench_*.py``). :class:`AlertPath`

- serves a webhook receiver (aiohttp, 127.0.0.1, in the benchmark's process) that stamps the
  wall time each notification arrives, as soon as its handler runs;
- starts the real ``riskmon alerter --config FILE`` on the run's bus, with the default pack plus
  one rule of its own, ``bench_liquidation`` (``liq_usd{side=all, window=1m} >= $1M`` for the
  assets ``LAT0000``, ``LAT0001``, ...; ``for: 0s``), and one route to the webhook grouped by
  alert name and asset, ``group_wait`` and ``group_interval`` 0 (the smallest allowed), so every
  alert is its own notification and no grouping timer delays it;
- hands the benchmark a fresh asset's $2M long liquidation whenever it asks (:meth:`liquidation`),
  so alerts fire at a known rate, each exactly once (the 1 m window keeps it firing past the run);
  their sum also crosses the pack's ``liquidations_1h`` warning once in a 30 s run, which is
  counted apart as an alert of another rule;
- watches every signal batch the benchmark reads (:meth:`on_batch`) to know, per events partition
  and tick, when the record that carried the tick was handed to Kafka (its ``published_ns``) and
  when the benchmark read its batch.

What is timed: processors emit on 1 s event-time ticks, so a liquidation at event time t in
second s shows in the signals of tick T = s + 1, emitted when the first event of second s + 1
reaches its partition's worker. The alert's ``starts_at`` is T. Its latency is timed from the
moment the record that carried tick T in the liquidation's partition was handed to Kafka (that
record's ``published_ns``, the same start point as the signals-topic latency) to the
notification's arrival at the receiver. The wait for the tick itself (0-1 s of event time after
the liquidation: what a live feed waits in wall time in the single process too) is not included;
the alerter's wait for the other partitions to reach T (its event-time order), its fetch, rule
evaluation, the store, the dispatcher, the outbox and the HTTP post are. Cumulative checkpoints
from the same start are printed too: the benchmark's own read of that batch on the signals topic,
every partition's batch of that tick read by the benchmark (the alerter applies a tick once
every partition reached it), the alerter's ``alert.notice`` log line (rules evaluated, before
the store), and the notification's ``created_ns`` (the dispatcher began the flush that put it
into the outbox; the notice was stored by then).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from aiohttp import web
from aiokafka.partitioner import DefaultPartitioner
from kafka_workers import proc_cpu_s

from monitor.kafka.codec import SignalBatch
from streams.events import Liquidation

RULE = "bench_liquidation"
PREFIX = "LAT"
NOTIONAL_USD = 2e6
NAN = float("nan")
RULES_YAML = f"""\
rules:
  - name: {RULE}
    description: bench_kafka.py latency run, one alert per fresh asset
    signal: liq_usd
    match: {{asset: '=~{PREFIX}[0-9]+', side: all, window: 1m}}
    op: ">="
    level: warning
    threshold: 1e6
    for: 0s
    annotations:
      summary: "{{asset}}: liquidations {{value_h}} in 1 m"
"""


@dataclass(slots=True)
class Arrival:
    """One ``bench_liquidation`` alert as the webhook received it."""

    starts_at: int
    arrived_ns: int
    created_ns: int


def pct(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(q * len(s)))] if s else float("nan")


def _iso_ns(ts: str) -> int:
    """structlog's ISO time stamp (UTC, microseconds) as unix ns."""
    return int(datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp() * 1e6) * 1000


class AlertPath:
    """The alerter, its webhook receiver and the bookkeeping of the timed alerts."""

    def __init__(self, tmp: Path, bus_cfg: dict[str, Any], partitions: int) -> None:
        self.tmp = tmp
        self.bus_cfg = bus_cfg
        self.partitions = list(range(partitions))
        self.log = tmp / "alerter.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.runner: web.AppRunner | None = None
        self.injected: dict[str, int] = {}  # asset -> event time of its liquidation
        self.arrivals: dict[str, Arrival] = {}
        self.duplicates = 0
        self.other_alerts = 0
        # (partition, tick_ns) -> (published_ns, read_ns) of the first batch carrying that tick
        self.ticks: dict[tuple[int, int], tuple[int, int]] = {}
        self._partitioner = DefaultPartitioner()
        self._all_in = asyncio.Event()
        self._cpu0 = (0.0, time.monotonic())

    async def start(self, timeout_s: float = 60.0) -> None:
        """Serve the receiver, start the alerter, wait until it is the active one."""
        app = web.Application()
        app.router.add_post("/hook", self._handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", 0).start()
        port = self.runner.addresses[0][1]
        self._spawn(port)
        deadline = time.monotonic() + timeout_s
        while '"kafka.alerter_active"' not in self.log.read_text(errors="replace"):
            assert self.proc is not None
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"alerter did not start: {self.log.read_text()[-2000:]}")
            await asyncio.sleep(0.2)

    def _spawn(self, port: int) -> None:
        """Write the alerter's config and rule file; start ``riskmon alerter``."""
        rules = self.tmp / "bench-rules.yaml"
        rules.write_text(RULES_YAML, encoding="utf-8")
        cfg = {
            "state_dir": str(self.tmp / "alerter-state"),
            "store": str(self.tmp / "alerts.db"),
            "metrics": {"enabled": False},
            "log_format": "json",
            "log_level": "info",
            "bus": self.bus_cfg,
            "alerting": {
                "pack": "november-2025",
                "rule_files": [str(rules)],
                "receivers": [
                    {"type": "webhook", "name": "bench", "url": f"http://127.0.0.1:{port}/hook"}
                ],
                "routes": [
                    {
                        "receiver": "bench",
                        "group_by": ["alertname", "asset"],
                        "group_wait_s": 0,
                        "group_interval_s": 0,
                        "repeat_interval_s": 86_400,
                    }
                ],
            },
        }
        config = self.tmp / "alerter.yaml"
        config.write_text(yaml.safe_dump(cfg), encoding="utf-8")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "monitor.cli", "alerter", "--config", str(config)],
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )

    def cpu_s(self) -> float:
        """CPU seconds (user + system) the alerter used so far."""
        assert self.proc is not None
        return proc_cpu_s(self.proc.pid)

    def mark(self) -> None:
        """Start of the timed run: the alerter's CPU share is measured from here."""
        self._cpu0 = (self.cpu_s(), time.monotonic())

    def liquidation(self, now_ns: int) -> Liquidation:
        """A $2M long liquidation of a fresh asset at event time ``now_ns`` (one alert)."""
        asset = f"{PREFIX}{len(self.injected):04d}"
        self.injected[asset] = now_ns
        return Liquidation(
            venue="bybit-linear",
            symbol=f"{asset}USDT",
            instrument=f"{asset}-USDT-PERP",
            asset=asset,
            ts_event=now_ns,
            ts_recv=now_ns,
            price=1.0,
            size=NOTIONAL_USD,
            notional_usd=NOTIONAL_USD,
            side="long",
        )

    def on_batch(self, batch: SignalBatch, read_ns: int) -> None:
        """Note the first batch of each (partition, tick): the record that carried the tick."""
        key = (batch.partition, batch.tick_ns)
        if batch.published_ns and key not in self.ticks:
            self.ticks[key] = (batch.published_ns, read_ns)

    async def _handle(self, request: web.Request) -> web.Response:
        now = time.time_ns()
        body = json.loads(await request.read())
        for a in body["alerts"]:
            if a["rule"] != RULE:
                self.other_alerts += 1
                continue
            if a["status"] != "firing":
                continue
            asset = a["labels"]["asset"]
            if asset in self.arrivals:
                self.duplicates += 1
            else:
                self.arrivals[asset] = Arrival(a["starts_at"], now, body["created_ns"])
        if len(self.arrivals) >= len(self.injected):
            self._all_in.set()
        return web.Response(text="ok")

    async def settle(self, timeout_s: float = 5.0) -> None:
        """Wait for the alerts of every liquidation whose tick came (or ``timeout_s``)."""
        self._all_in.clear()
        if len(self.arrivals) < len(self.injected):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._all_in.wait(), timeout_s)

    async def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.runner is not None:
            await self.runner.cleanup()

    def _notices(self) -> dict[str, int]:
        """asset -> wall time (ns) of the alerter's ``alert.notice`` line of its alert."""
        out: dict[str, int] = {}
        for raw in self.log.read_text(errors="replace").splitlines():
            line = raw[raw.find("{") :]
            if f'"{RULE}"' not in line or '"alert.notice"' not in line:
                continue
            d = json.loads(line)
            if d.get("status") == "firing":
                out.setdefault(d["labels"]["asset"], _iso_ns(d["timestamp"]))
        return out

    def report(self, measure_from_ns: int, rate_per_s: float) -> list[str]:
        """The lines to print: latency to the receiver, warm-up apart, and the checkpoints."""
        notices = self._notices()
        timed: dict[str, list[float]] = {
            "read": [],
            "all_read": [],
            "notice": [],
            "outbox": [],
            "received": [],
        }
        warm: list[float] = []
        unmatched = 0
        for asset, a in self.arrivals.items():
            p = self._partitioner(asset.encode(), self.partitions, self.partitions)
            tick = self.ticks.get((p, a.starts_at))
            if tick is None:
                unmatched += 1
                continue
            pub, read = tick
            ms = (a.arrived_ns - pub) / 1e6
            if pub < measure_from_ns:
                warm.append(ms)
                continue
            timed["received"].append(ms)
            timed["read"].append((read - pub) / 1e6)
            last = max(self.ticks.get((q, a.starts_at), (0, 0))[1] for q in self.partitions)
            timed["all_read"].append((last - pub) / 1e6)
            timed["outbox"].append((a.created_ns - pub) / 1e6)
            if asset in notices:
                timed["notice"].append((notices[asset] - pub) / 1e6)
        lat = timed["received"]
        cpu = (self.cpu_s() - self._cpu0[0]) / (time.monotonic() - self._cpu0[1])
        lines = [
            f"alert path: {len(self.injected)} liquidations injected ({rate_per_s:g}/s, one fresh "
            f"asset each), alerter CPU {cpu:.0%} of a core, "
            f"{len(self.arrivals)} alerts received, {self.duplicates} duplicates, "
            f"{unmatched} without their tick record, {self.other_alerts} alerts of other rules; "
            f"the first seconds (not counted): n={len(warm)}, max {max(warm, default=NAN):.1f} ms",
            f"latency at the notifier (tick record of the alert's partition published -> "
            f"webhook received): n={len(lat)} p50 {pct(lat, 0.5):.1f} ms, p99 "
            f"{pct(lat, 0.99):.1f} ms, max {max(lat, default=NAN):.1f} ms",
            "  checkpoints from the same start, p50 / p99 ms: "
            + ", ".join(
                f"{label} {pct(timed[k], 0.5):.1f} / {pct(timed[k], 0.99):.1f}"
                for k, label in (
                    ("read", "batch read by the bench"),
                    ("all_read", "every partition's batch of that tick read by the bench"),
                    ("notice", "alert.notice logged by the alerter"),
                    ("outbox", "dispatcher flush began (created_ns)"),
                    ("received", "received"),
                )
            ),
        ]
        return lines
