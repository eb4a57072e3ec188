"""Benchmark: the default live config's coverage on one core (issue 14).

Run: ``.venv/bin/python bench/bench_coverage.py`` (about a minute). It measures, in one process:

- start-up: loading every venue's instrument metadata (packaged snapshots), building the default
  config's feeds (streams, whole-market expansion, connection plans) and the pipeline with the
  default rule pack: what ``riskmon run`` does before its first connection;
- events/s: the default coverage rendered by the simulator in each venue's native frames at a
  heavy-day rate of event time (``--rate``, default 20,000 events/s): liquidations of every
  listed perpetual of the venues with a liquidation feed, the majors' trades and quotes and their
  funding, and the stablecoin books' quotes. Each frame goes through the venue's parser and the
  daemon's ``Pipeline`` (every default processor and the default rule pack);
- RSS after 60 days of windows: every covered asset's windows filled first (24 h of per-minute
  liquidations, 60 days of hourly open interest per venue, 90 days of hourly prices), then the
  run.

It also times the CPU reference of ``bench/reference.py`` right before the measured run and prints
the ratio events/s / reference iterations/s: compare runs on the shared machine by that ratio.

Then a further ``--split`` events (default 100,000) are timed apart, to show where the time goes:
the parsers per frame, each event's path through the processors and rules, and the
once-a-second ticks (the processors' emission of every covered asset's figures, and the rules
over them). From these it prints the CPU that one second at the goal's rate would take on this
core, part by part.

Goals: at least 300,000 events/s and under 400 MB RSS. Options: ``--events N`` (measured
frames' events, default 300,000), ``--rate R``, ``--seed S``, ``--split N``.
"""

from __future__ import annotations

import argparse
import math
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from full_windows import fill_windows
from prometheus_client import CollectorRegistry
from reference import cpu_reference, describe

from alerts.evaluator import AlertEvaluator
from alerts.rules import load_ruleset
from monitor.feed import VenueFeed
from monitor.health import freeze_startup_objects
from monitor.listings import listed_symbols
from monitor.metrics import MonitorMetrics
from monitor.pipeline import Pipeline
from monitor.settings import load_settings
from monitor.simulator.base import SimSession, SimVenue
from monitor.simulator.venues import sim_venue
from monitor.venues.base import FrameParser
from monitor.wiring import build_feed
from streams.engine import StreamEngine
from streams.events import Event, EventHeader, Funding, Liquidation, Quote, Trade
from streams.processors import (
    default_processors,
)

S = 1_000_000_000
M = 60 * S
H = 60 * M
T0 = 1_760_054_400 * S  # 2025-10-10 00:00 UTC
#: the goal of issue 14: events/s on one core
GOAL_EPS = 300_000.0
#: a heavy day's mix of the default coverage (shares of events)
MIX = (("trades", 0.55), ("quotes", 0.30), ("liquidations", 0.12), ("funding", 0.03))


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return math.nan


@dataclass
class Frames:
    """Rendered frames as three columns: each frame's parser, text and receive stamp.

    Columns rather than a tuple per frame: a batch of 20,000 tuples held while the pipeline
    runs would be promoted to the oldest GC generation and make the collector scan the whole
    heap inside the timing, a cost of the benchmark's own batches that the daemon, which
    handles frames as they arrive, does not have.
    """

    parsers: list[FrameParser] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    stamps: list[int] = field(default_factory=list)


@dataclass
class Venue:
    """One configured venue: its feed, its simulator and the sessions the feed's plans open."""

    feed: VenueFeed
    sim: SimVenue
    sessions: list[SimSession]

    @property
    def parser(self) -> FrameParser:
        return self.feed.parser


async def _nothing(_: Event) -> None:
    return None


def start_up() -> tuple[list[Venue], Pipeline, float]:
    """What ``riskmon run`` builds before connecting, timed: metadata, feeds, pipeline."""
    t = time.perf_counter()
    settings = load_settings(state_dir=Path("/nonexistent-bench-state"))
    metrics = MonitorMetrics(CollectorRegistry())
    feeds = [
        build_feed(settings, vid, _nothing, metrics)
        for vid, vs in settings.venues.items()
        if vs.enabled
    ]
    pipeline = Pipeline(
        StreamEngine(default_processors()), AlertEvaluator(load_ruleset(settings.rules))
    )
    elapsed = time.perf_counter() - t
    venues = []
    for feed in feeds:
        sim = sim_venue(feed.venue)
        sessions = []
        for plan in feed.plans:
            parts = urlsplit(plan.url)
            path = (
                parts.path.split(f"/{feed.venue}", 1)[-1]
                if feed.venue in parts.path
                else parts.path
            )
            session = SimSession(path=path, query=dict(parse_qsl(parts.query)))
            sim.on_open(session)
            for frame in plan.subscribe:
                sim.on_message(session, frame)
            sessions.append(session)
        venues.append(Venue(feed, sim, sessions))
    return venues, pipeline, elapsed


def _header(venue: str, symbol: str, inst: str, asset: str, ts: int) -> EventHeader:
    return {
        "venue": venue,
        "symbol": symbol,
        "instrument": inst,
        "asset": asset,
        "ts_event": ts,
        "ts_recv": ts,
    }


def coverage(venues: Sequence[Venue]) -> dict[str, list[tuple[Venue, str]]]:
    """Per channel, the (venue, symbol) pairs the default config covers."""
    out: dict[str, list[tuple[Venue, str]]] = {ch: [] for ch, _ in MIX}
    for v in venues:
        for st in v.feed.streams:
            if st.symbol == "*" and st.channel == "liquidations":
                out["liquidations"].extend((v, s) for s in listed_symbols(v.feed.registry))
            elif st.symbol != "*" and st.channel in out and st.symbol in v.sim.instruments:
                out[st.channel].append((v, st.symbol))
    return out


def render(
    venues: Sequence[Venue],
    start: int,
    n_events: int,
    rate: float,
    rng: random.Random,
    price: dict[str, float],
    assets: set[str],
) -> Frames:
    """Frames of ``n_events`` covered events from event ``start`` at ``rate`` events/s."""
    cov = coverage(venues)
    channels = [ch for ch, _ in MIX if cov[ch]]
    weights = [w for ch, w in MIX if cov[ch]]
    step = int(S / rate)
    frames = Frames()
    for k in range(start, start + n_events):
        ts = T0 + k * step
        ch = rng.choices(channels, weights)[0]
        v, sym = cov[ch][rng.randrange(len(cov[ch]))]
        inst = v.sim.instruments[sym]
        assets.add(inst.base)
        key = f"{v.feed.venue}:{sym}"
        p = price[key] = price.get(key, 1.0 + 100.0 * rng.random()) * (1.0 + rng.gauss(0.0, 1e-4))
        head = _header(v.feed.venue, sym, inst.instrument, inst.base, ts)
        ev: Event
        if ch == "trades":
            ev = Trade(**head, price=p, size=2.0, notional_usd=2.0 * p, side="buy")
        elif ch == "quotes":
            ev = Quote(**head, bid=p * 0.9999, ask=p * 1.0001, bid_size=5.0, ask_size=5.0)
        elif ch == "liquidations":
            long = rng.random() < 0.7
            ev = Liquidation(
                **head, price=p, size=3.0, notional_usd=3.0 * p, side="long" if long else "short"
            )
        else:
            ev = Funding(
                **head, rate=1e-4, interval_h=8.0, rate_8h=1e-4, mark_price=p,
                next_funding_ts=ts + 8 * H,
            )  # fmt: skip
        for topic, frame in v.sim.encode(ev):
            if any(topic in s.subscriptions for s in v.sessions):
                frames.parsers.append(v.parser)
                frames.texts.append(frame)
                frames.stamps.append(ts)
                break
    return frames


def pipeline_run(frames: Frames, pipeline: Pipeline) -> int:
    """Parse every frame and run its events through the pipeline; the number of events."""
    n = 0
    for parser, frame, ts in zip(frames.parsers, frames.texts, frames.stamps, strict=True):
        for ev in parser.parse(frame, ts):
            pipeline.on_event(ev)
            n += 1
    return n


@dataclass
class Split:
    """Where the time of a run goes: the parsers, each event's path and the ticks, timed apart.

    A tick is the ``Pipeline.on_event`` call in which the engine's tick moved (the event that
    crossed a second's boundary): its time is the processors' once-a-second emission and the
    rules over it; every other call is the per-event path.
    """

    frames: int = 0
    events: int = 0
    ticks: int = 0
    tick_signals: int = 0
    parse_s: float = 0.0
    event_s: float = 0.0
    tick_s: float = 0.0

    def run(self, frames: Frames, pipeline: Pipeline) -> None:
        """As :func:`pipeline_run`, timing each part apart."""
        engine = pipeline.engine
        clock = time.perf_counter
        for parser, frame, ts in zip(frames.parsers, frames.texts, frames.stamps, strict=True):
            t = clock()
            events = parser.parse(frame, ts)
            self.parse_s += clock() - t
            self.frames += 1
            for ev in events:
                tick = engine.last_tick_ns
                t = clock()
                step = pipeline.on_event(ev)
                dt = clock() - t
                if engine.last_tick_ns != tick:
                    self.tick_s += dt
                    self.ticks += 1
                    self.tick_signals += len(step.signals)
                else:
                    self.event_s += dt
                self.events += 1

    def report(self, rate: float, goal: float) -> list[str]:
        """The split per frame, event and tick, and the CPU a second at ``goal`` events/s at
        ``rate`` events/s of event time would take for each part."""
        parse_us = self.parse_s / self.frames * 1e6
        event_us = self.event_s / max(1, self.events - self.ticks) * 1e6
        tick_ms = self.tick_s / max(1, self.ticks) * 1e3
        at_goal = {
            "parsers": goal * self.frames / self.events * parse_us / 1e6,
            "per-event path": goal * event_us / 1e6,
            "ticks": goal / rate * tick_ms / 1e3,
        }
        need = sum(at_goal.values())
        parts = ", ".join(f"{k} {v:.2f} s" for k, v in at_goal.items())
        return [
            f"where the time goes ({self.events:,} more events timed apart): parsers "
            f"{parse_us:.2f} us/frame, per-event path {event_us:.2f} us/event, ticks "
            f"{tick_ms:.1f} ms each ({self.tick_signals / max(1, self.ticks):,.0f} signals, "
            f"one per {rate:,.0f} events of event time)",
            f"CPU one second at {goal:,.0f} events/s would take on this core: {need:.2f} s "
            f"({parts}); the goal needs {need:.1f}x less",
        ]


def main() -> None:
    """Measure start-up, events/s and RSS; print them with the goals."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--events", type=int, default=300_000)
    ap.add_argument("--rate", type=float, default=20_000.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--split", type=int, default=100_000)
    args = ap.parse_args()
    rss0 = _rss_mb()
    venues, pipeline, startup_s = start_up()
    cov = coverage(venues)
    rng = random.Random(args.seed)
    price: dict[str, float] = {}
    assets: set[str] = set()
    for v, sym in cov["liquidations"]:  # every covered asset has full windows
        assets.add(v.sim.instruments[sym].base)
    oi_venues = [v.feed.venue for v in venues if "open_interest" in v.feed.spec.channels]
    fill_windows(pipeline.engine, assets, oi_venues, T0)
    freeze_startup_objects()  # as the daemon does once started (its state restored by then)
    # warm up, then measure in batches (frames rendered outside the timing, then dropped)
    batch = 20_000
    pipeline_run(render(venues, 0, batch, args.rate, rng, price, assets), pipeline)
    ref = cpu_reference()
    n_events, dt = 0, 0.0
    for start in range(batch, batch + args.events, batch):
        frames = render(venues, start, batch, args.rate, rng, price, assets)
        t = time.perf_counter()
        n_events += pipeline_run(frames, pipeline)
        dt += time.perf_counter() - t
    t = time.perf_counter()
    pipeline.flush()
    dt += time.perf_counter() - t
    eps = n_events / dt
    rss = _rss_mb()  # before the split pass, whose events the measured run did not hold
    split = Split()
    for start in range(batch + args.events, batch + args.events + args.split, batch):
        split.run(render(venues, start, batch, args.rate, rng, price, assets), pipeline)
    connections = sum(len(v.feed.plans) for v in venues)
    print(f"coverage: {len(cov['liquidations'])} listed perps' liquidations on "
          f"{len({v.feed.venue for v, _ in cov['liquidations']})} venues; trades on "
          f"{len(cov['trades'])}, quotes on {len(cov['quotes'])} majors; "
          f"{len(assets)} assets; {connections} connections")  # fmt: skip
    print(f"start-up (metadata, feeds, pipeline): {startup_s * 1000:.0f} ms")
    print(f"events/s on one core (parse + processors + rules): {eps:,.0f}  "
          f"[goal >= {GOAL_EPS:,.0f}: {'PASS' if eps >= GOAL_EPS else 'FAIL'}]")  # fmt: skip
    print(f"{describe(ref)}; events/s / reference: {eps / ref:.4f}")
    print(f"RSS after 60 days of windows: {rss:.0f} MB (before start-up {rss0:.0f} MB)  "
          f"[goal < 400 MB: {'PASS' if rss < 400 else 'FAIL'}]")  # fmt: skip
    for line in split.report(args.rate, GOAL_EPS):
        print(line)


if __name__ == "__main__":
    main()
