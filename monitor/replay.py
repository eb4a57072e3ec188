"""Offline runs over captured frames: ``riskmon parse`` and ``riskmon replay``.

Both read capture lines (or bare frames) and run the venue parsers exactly as the daemon does.
Replay then drives the same :class:`~monitor.pipeline.Pipeline` in event time, as fast as
possible; the same file always gives the same output.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Literal

from alerts.evaluator import AlertEvaluator
from alerts.model import encode_alert
from alerts.rules import RuleSet
from monitor.capture import CaptureLine
from monitor.pipeline import Pipeline, Step
from monitor.venues import get_venue, load_registry
from monitor.venues.base import FrameParser, ParseError
from streams.engine import StreamEngine
from streams.events import Event, encode_event
from streams.processors import default_processors
from streams.signals import Signal, encode_signal, signal_key

__all__ = ["FrameStats", "ParserSet", "SignalThinner", "parse_lines", "replay"]

Emit = Literal["events", "signals", "alerts"]
_NS = 1_000_000_000


@dataclass
class FrameStats:
    """What a parse or replay run saw."""

    frames: int = 0
    events: int = 0
    skipped: dict[str, int] = field(default_factory=dict)

    def skip(self, kind: str) -> None:
        """Count a skipped frame."""
        self.skipped[kind] = self.skipped.get(kind, 0) + 1

    def summary(self) -> str:
        """One line for stderr."""
        total = sum(self.skipped.values())
        kinds = ", ".join(f"{k}={v}" for k, v in sorted(self.skipped.items()))
        return f"{self.frames} frames, {self.events} events, {total} skipped" + (
            f" ({kinds})" if kinds else ""
        )


class ParserSet:
    """One parser per venue, built on first use from the packaged instrument snapshots."""

    def __init__(self) -> None:
        self._parsers: dict[str, FrameParser] = {}

    def get(self, venue: str) -> FrameParser:
        """The parser of ``venue`` (raises ``UnknownVenueError``)."""
        p = self._parsers.get(venue)
        if p is None:
            p = get_venue(venue).make_parser(load_registry(venue))
            self._parsers[venue] = p
        return p


def parse_lines(
    lines: Iterable[tuple[int, CaptureLine]],
    stats: FrameStats,
    errors: IO[str] | None = None,
    venue: str | None = None,
) -> Iterator[Event]:
    """Parse capture lines into events; count and report (to ``errors``) what cannot be parsed.

    Args:
        lines: ``(line_number, CaptureLine)`` pairs.
        stats: counters updated in place.
        errors: where one line per skipped frame is written.
        venue: only frames of this venue (others are skipped as ``other_venue``).
    """
    parsers = ParserSet()
    for n, line in lines:
        stats.frames += 1
        if venue is not None and line.venue and line.venue != venue:
            stats.skip("other_venue")
            if errors is not None:
                errors.write(f"line {n}: skipped (other_venue): frame of {line.venue}\n")
            continue
        try:
            events = parsers.get(line.venue or venue or "").parse(line.frame, line.ts_recv)
        except ParseError as e:
            stats.skip(e.kind)
            if errors is not None:
                errors.write(f"line {n}: skipped ({e.kind}): {e.reason[:300]}\n")
            continue
        except KeyError as e:
            stats.skip("unknown_venue")
            if errors is not None:
                errors.write(f"line {n}: skipped (unknown_venue): {e}\n")
            continue
        stats.events += len(events)
        yield from events


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
    errors: IO[str] | None = None,
) -> FrameStats:
    """Run captured frames through parsers, processors and rules; print JSON lines to ``out``."""
    stats = FrameStats()
    pipeline = Pipeline(StreamEngine(default_processors()), AlertEvaluator(rules))
    thinner = SignalThinner(int(every_s * _NS))
    for ev in parse_lines(lines, stats, errors):
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
