"""Running a backtest: a scenario or a capture file through the full pipeline, at full speed.

A scenario's events go through :class:`~monitor.backtest.bridge.VenueBridge` (the venue's
simulator renders them, its real parser reads them back); a capture's frames go through the
parsers as in ``riskmon replay``. The parsed events then run through the same
:class:`~monitor.pipeline.Pipeline` as the daemon. Everything is in event time: the same scenario
and seed (or the same capture) always give the same alerts.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, Literal

import structlog

from alerts.evaluator import AlertEvaluator
from alerts.rules import load_ruleset
from monitor.backtest.bridge import VenueBridge
from monitor.backtest.result import BacktestResult
from monitor.backtest.summary import summary
from monitor.capture import open_capture, read_frames
from monitor.coverage import default_live_factors
from monitor.pipeline import Pipeline
from monitor.replay.backfill import BackfillSeeder
from monitor.replay.parse import parse_lines
from monitor.simulator.scenarios import Scenario, get_scenario
from monitor.simulator.scenarios.base import seed_backfill
from streams.coverage import covered_share
from streams.engine import StreamEngine
from streams.events import Event
from streams.processors import default_processors
from streams.processors.factory import StreamsConfig
from streams.processors.liquidations import LiquidationConfig
from streams.units import NS_PER_SECOND

__all__ = [
    "COVERAGES",
    "Coverage",
    "Progress",
    "backtest_capture",
    "backtest_scenario",
    "backtest_summary",
]

log = structlog.get_logger(__name__)

#: ``progress(done, total)``: how far a backtest has come (event time for a scenario, bytes read
#: for a capture), called every :data:`PROGRESS_EVERY` input events and once at the end
Progress = Callable[[int, int], None]
PROGRESS_EVERY = 2048


def _run(
    pipeline: Pipeline, events: Iterable[Event], result: BacktestResult, end_ns: int | None
) -> None:
    rec = result.recorder
    notices = result.notices
    for ev in events:
        step = pipeline.on_event(ev)
        if step.signals:
            rec.on_signals(step.signals)
        if step.notices:
            notices.extend(step.notices)
    if end_ns is not None and end_ns > pipeline.engine.watermark_ns:
        step = pipeline.advance(end_ns)
        rec.on_signals(step.signals)
        notices.extend(step.notices)
    step = pipeline.flush()
    rec.on_signals(step.signals)
    notices.extend(step.notices)
    rec.finish()


Coverage = Literal["whole", "live"]
COVERAGES: tuple[Coverage, ...] = ("whole", "live")


def _pipeline(result: BacktestResult, tick_s: float = 1.0, coverage_share: float = 1.0) -> Pipeline:
    config = StreamsConfig(liquidations=LiquidationConfig(coverage_share=coverage_share))
    engine = StreamEngine(default_processors(config), tick_ns=max(1, round(tick_s * NS_PER_SECOND)))
    ruleset = load_ruleset(result.rules)
    for rule in ruleset.rules:
        key = (rule.name, rule.severity)
        result.rule_for_ns[key] = min(result.rule_for_ns.get(key, rule.for_ns), rule.for_ns)
    return Pipeline(engine, AlertEvaluator(ruleset))


def backtest_scenario(
    name: str,
    seed: int = 7,
    rules: str = "november-2025",
    tick_s: float = 1.0,
    coverage: Coverage = "whole",
    progress: Progress | None = None,
) -> BacktestResult:
    """Run scenario ``name`` (seeded) through simulators, parsers and the pipeline.

    ``tick_s`` is the stream engine's tick in event time: 1 s as in the daemon (the default).
    Coarser ticks run long scenarios several times faster, but rule timers and window figures
    are then sampled less often than the daemon samples them: use them for exploration only.

    ``coverage``: ``whole`` plays the scenario as the whole market (``liq_coverage_share`` 1);
    ``live`` renders only the liquidations the default live configuration's feeds show
    (:func:`~monitor.coverage.default_live_factors`) and runs the pipeline at their covered
    share, as ``riskmon run`` would.

    Raises:
        KeyError: an unknown scenario (or a coverage variant of one that is not an episode).
    """
    started = time.monotonic()
    factors = default_live_factors() if coverage == "live" else None
    scenario: Scenario = get_scenario(name, seed, factors)
    share = 1.0 if factors is None else covered_share(factors)
    info = scenario.info
    backfill = scenario.backfill()
    result = BacktestResult(
        scenario=info.name if factors is None else f"{info.name} (coverage live)",
        source="scenario",
        rules=rules,
        seed=seed,
        description=info.description,
        start_ns=info.start_ns,
        end_ns=info.end_ns,
        worst_ns=info.worst_ns,
        backfill=backfill,
        notes=list(info.notes),
    )
    pipeline = _pipeline(result, tick_s, share)
    seed_backfill(pipeline.engine.processors, backfill)
    bridges = {
        venue: VenueBridge(
            venue,
            symbols,
            info.channels.get(venue),
            result.stats,
            info.extra_instruments.get(venue, []),
            info.start_ns,
        )
        for venue, symbols in info.symbols.items()
    }

    total = max(1, info.end_ns - info.start_ns)

    def parsed() -> Iterator[Event]:
        for ev in scenario.events():
            result.input_events += 1
            if progress is not None and result.input_events % PROGRESS_EVERY == 0:
                progress(min(total, max(0, ev.ts_event - info.start_ns)), total)
            bridge = bridges.get(ev.venue)
            if bridge is not None:
                yield from bridge.feed(ev)

    _run(pipeline, parsed(), result, info.end_ns)
    if progress is not None:
        progress(total, total)
    result.wall_s = time.monotonic() - started
    log.info(
        "backtest.done",
        scenario=name,
        seed=seed,
        events=result.input_events,
        frames=result.stats.frames,
        skipped=sum(result.stats.skipped.values()),
        notices=len(result.notices),
        wall_s=round(result.wall_s, 2),
        coverage=coverage,
        coverage_share=round(share, 4),
    )
    return result


def backtest_summary(name: str, seed: int = 7) -> dict[str, Any]:
    """:func:`summary` of :func:`backtest_scenario` with the default pack, tick and coverage
    (a module-level function: picklable, for worker processes)."""
    return summary(backtest_scenario(name, seed))


def backtest_capture(
    path: str | Path,
    rules: str = "november-2025",
    tick_s: float = 1.0,
    progress: Progress | None = None,
) -> BacktestResult:
    """Run a capture file (as written by ``riskmon capture``) through parsers and the pipeline.

    A capture has no declared worst point: the lowest BTC (else first asset) reference price seen
    is used for lead times.

    Raises:
        OSError: the file cannot be opened.
        CaptureFormatError: it is not text (or not gzip although named ``.gz``).
    """
    started = time.monotonic()
    p = Path(path)
    result = BacktestResult(
        scenario=p.name,
        source="capture",
        rules=rules,
        seed=None,
        description=f"Capture file {p.name}",
        start_ns=0,
        end_ns=0,
        worst_ns=None,
    )
    pipeline = _pipeline(result, tick_s)
    first: list[int] = []

    size = max(1, p.stat().st_size)
    fh, position = open_capture(p)

    def events() -> Iterator[Event]:
        seeder = BackfillSeeder(pipeline.engine.processors, lambda: pipeline.engine.watermark_ns)
        for ev in parse_lines(read_frames(fh), result.stats, backfill=seeder):
            result.input_events += 1
            if progress is not None and result.input_events % PROGRESS_EVERY == 0:
                progress(min(size, position()), size)
            if not first and type(ev).__name__ != "FeedStatus":
                first.append(ev.ts_event)
            yield ev

    with fh:
        _run(pipeline, events(), result, None)
    if progress is not None:
        progress(size, size)
    result.start_ns = first[0] if first else 0
    result.end_ns = pipeline.engine.watermark_ns
    keys = result.recorder.keys("price_ref")
    key = next((k for k in keys if dict(k[1]).get("asset") == "BTC"), keys[0] if keys else None)
    if key is not None:
        times, values = result.recorder.series(key)
        if values:
            result.worst_ns = times[min(range(len(values)), key=values.__getitem__)]
    result.wall_s = time.monotonic() - started
    return result
