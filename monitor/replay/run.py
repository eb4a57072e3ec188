"""``riskmon replay``: captured frames through parsers, processors and rules, in event time.

Replay drives the daemon's :class:`~monitor.pipeline.Pipeline` as fast as possible and prints
events, signals (thinned to one sample per series per interval) or alert notices as JSON lines;
the same file always gives the same output.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import IO, Literal

from alerts.evaluator import AlertEvaluator
from alerts.model import encode_alert
from alerts.rules import RuleSet
from monitor.capture import CaptureLine
from monitor.pipeline import Pipeline, Step
from monitor.replay.backfill import BackfillSeeder
from monitor.replay.parse import FrameStats, TextSink, parse_lines
from streams.engine import StreamEngine
from streams.events import encode_event
from streams.processors import default_processors
from streams.signals import Signal, encode_signal, signal_key
from streams.units import NS_PER_SECOND

__all__ = ["Emit", "SignalThinner", "replay"]

#: what ``riskmon replay --emit`` prints
Emit = Literal["events", "signals", "alerts"]


class SignalThinner:
    """Keep at most one sample per signal series per ``every_ns`` of event time.

    The last sample of every series is always emitted, by :meth:`finish`.
    """

    def __init__(self, every_ns: int) -> None:
        self.every_ns = every_ns
        self._printed: dict[tuple[str, tuple[tuple[str, str], ...]], int] = {}
        self._pending: dict[tuple[str, tuple[tuple[str, str], ...]], Signal] = {}

    def feed(self, signals: Iterable[Signal]) -> list[Signal]:
        """Return the samples to print now."""
        out: list[Signal] = []
        for s in signals:
            key = signal_key(s)
            last = self._printed.get(key)
            if self.every_ns <= 0 or last is None or s.ts - last >= self.every_ns:
                self._printed[key] = s.ts
                self._pending.pop(key, None)
                out.append(s)
            else:
                self._pending[key] = s
        return out

    def finish(self) -> list[Signal]:
        """The last sample of each series that was held back."""
        out = list(self._pending.values())
        self._pending.clear()
        return out


def replay(
    lines: Iterable[tuple[int, CaptureLine]],
    out: IO[str],
    rules: RuleSet,
    emit: Emit = "alerts",
    every_s: float = 0.0,
    errors: TextSink | None = None,
    stats: FrameStats | None = None,
) -> FrameStats:
    """Run captured frames through parsers, processors and rules; print JSON lines to ``out``.

    ``stats`` (new when not given) counts frames, events and skipped frames as they are read.
    """
    stats = stats if stats is not None else FrameStats()
    pipeline = Pipeline(StreamEngine(default_processors()), AlertEvaluator(rules))
    thinner = SignalThinner(int(every_s * NS_PER_SECOND))
    # the daemon's backfill, seeded as the daemon seeded it
    seeder = BackfillSeeder(pipeline.engine.processors, lambda: pipeline.engine.watermark_ns)
    for ev in parse_lines(lines, stats, errors, backfill=seeder):
        if emit == "events":
            out.write(encode_event(ev).decode())
            out.write("\n")
            continue
        _write_step(pipeline.on_event(ev), out, emit, thinner)
    if emit != "events":
        _write_step(pipeline.flush(), out, emit, thinner)
    if emit == "signals":
        for s in thinner.finish():
            out.write(encode_signal(s).decode())
            out.write("\n")
    return stats


def _write_step(step: Step, out: IO[str], emit: Emit, thinner: SignalThinner) -> None:
    if emit == "signals":
        for s in thinner.feed(step.signals):
            out.write(encode_signal(s).decode())
            out.write("\n")
    else:
        for a in step.notices:
            out.write(encode_alert(a).decode())
            out.write("\n")
