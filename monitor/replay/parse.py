"""Parsing captured frames offline: ``riskmon parse`` and the first stage of replay and backtest.

Capture lines (or bare frames) go through the venue parsers exactly as the daemon runs them; a
frame that cannot be parsed is counted in :class:`FrameStats` by kind and reported, never fatal.
Backfill answers (lines with a ``backfill`` tag) are not frames of a stream: they go to the
given :class:`~monitor.replay.backfill.BackfillSeeder` (replay, backtest) or are passed over
(``riskmon parse``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from monitor.capture import CaptureLine
from monitor.replay.backfill import BackfillSeeder
from monitor.venues import get_venue, load_registry
from monitor.venues.base import FrameParser, ParseError
from streams.events import Event

__all__ = ["FrameStats", "HeldLines", "ParserSet", "TextSink", "parse_lines"]


class TextSink(Protocol):
    """Where skipped frames are reported: a text file, or anything with its ``write``."""

    def write(self, text: str, /) -> int:
        """Write ``text``."""
        ...


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
    errors: TextSink | None = None,
    venue: str | None = None,
    backfill: BackfillSeeder | None = None,
) -> Iterator[Event]:
    """Parse capture lines into events; count and report (to ``errors``) what cannot be parsed.

    Args:
        lines: ``(line_number, CaptureLine)`` pairs.
        stats: counters updated in place.
        errors: where one line per skipped frame is written.
        venue: only frames of this venue (others are skipped as ``other_venue``).
        backfill: seeds the backfill answers into processors (a batch when it is complete, the
            rest at the end); without it they are passed over.
    """
    parsers = ParserSet()
    for n, line in lines:
        stats.frames += 1
        if backfill is not None:
            backfill.ready()
        if line.backfill is not None:
            problem = backfill.add(line) if backfill is not None else None
            if problem is not None:
                stats.skip("bad_backfill")
                if errors is not None:
                    errors.write(f"line {n}: skipped (bad_backfill): {problem}\n")
            continue
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
    if backfill is not None:
        backfill.finish()


class HeldLines:
    """A text sink that holds its lines back until :meth:`release` (at most ``keep`` of them).

    ``riskmon replay`` reports every skipped frame; until a first event shows the input is a
    capture at all, those reports are held, so that a file of garbage ends in one error line
    rather than one line per garbage line.
    """

    def __init__(self, out: TextSink, stats: FrameStats, keep: int = 100) -> None:
        self._out = out
        self._stats = stats
        self._keep = keep
        self._held: list[str] = []
        self._dropped = 0
        self._released = False

    def write(self, text: str) -> int:
        """Write ``text`` (held until :meth:`release` or until a first event has been parsed)."""
        if not self._released and self._stats.events:
            self.release()
        if self._released:
            return self._out.write(text)
        if len(self._held) < self._keep:
            self._held.append(text)
        else:
            self._dropped += 1
        return len(text)

    def release(self) -> None:
        """Write what was held and every line from now on."""
        if self._released:
            return
        self._released = True
        for text in self._held:
            self._out.write(text)
        if self._dropped:
            self._out.write(f"... and {self._dropped} more skipped frames before the first event\n")
        self._held.clear()
