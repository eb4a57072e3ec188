"""Backfill answers in a capture: seed a replay's processors as the daemon seeded its own.

The daemon writes a venue's backfill batch (REST klines and open-interest history, tagged with
:class:`~monitor.capture.BackfillTag`) as consecutive capture lines when it seeds its
processors. :class:`BackfillSeeder` collects a batch's lines, parses each body with the venue's
own history parser (the one its backfill planner names for that request) and seeds through
:func:`monitor.backfill.seed_answers`, the daemon's own merge, so a replay or a capture
backtest holds the same 60-day OI peak and 90-day high as the live run.

As the daemon runs event time up to its clock before it seeds a gap (so that the ticks through
the downtime do not overwrite the seeded hours), the seeder calls ``catch_up`` with the batch's
receive time before it seeds a gap batch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from monitor.backfill import Answer, Seedable, seed_answers
from monitor.capture import BackfillTag, CaptureLine
from monitor.venues import get_venue
from monitor.venues.base import VenueEndpoints

__all__ = ["BackfillSeeder"]

Parse = Callable[[bytes], list[tuple[int, float]]]
_NO_BASE = VenueEndpoints(ws="", rest="")


def _parser(venue: str, tag: BackfillTag) -> Parse | None:
    """The venue's parser for the request ``tag`` describes (matched by kind, unit and path)."""
    planner = get_venue(venue).backfill
    if planner is None:
        return None
    path = urlsplit(tag.path).path
    fallback: Parse | None = None
    for req in planner(_NO_BASE, [tag.symbol], now_ms=0):
        if req.kind != tag.kind or req.unit != tag.unit:
            continue
        if path.endswith(urlsplit(req.url).path):
            return req.parse
        fallback = fallback or req.parse
    return fallback


class BackfillSeeder:
    """Seeds processors from the backfill lines of a capture, one venue's batch at a time.

    Args:
        processors: the replay's processors; those named ``price`` and ``open_interest`` that
            accept history are seeded.
        catch_up: runs the replay's event time up to a time (before a gap batch is seeded).
    """

    def __init__(
        self, processors: Iterable[object], catch_up: Callable[[int], None] | None = None
    ) -> None:
        self.catch_up = catch_up
        self.targets: dict[str, Seedable] = {
            name: p
            for p in processors
            if (name := str(getattr(p, "name", ""))) in ("price", "open_interest")
            and isinstance(p, Seedable)
        }
        self.points = 0
        self._batches: dict[str, list[tuple[BackfillTag, str, int]]] = {}

    def add(self, line: CaptureLine) -> str | None:
        """Take one backfill line; seed its batch once complete. Returns why it was unusable
        (None when it was taken)."""
        tag = line.backfill
        if tag is None:
            return "not a backfill line"
        batch = self._batches.setdefault(line.venue, [])
        batch.append((tag, line.frame, line.ts_recv))
        if len(batch) >= tag.of:
            return self._seed(line.venue)
        return None

    def finish(self) -> None:
        """Seed the batches the capture ended in the middle of."""
        for venue in list(self._batches):
            self._seed(venue)

    def _seed(self, venue: str) -> str | None:
        batch = self._batches.pop(venue, [])
        answers: list[Answer] = []
        problem = None
        for tag, body, _ in batch:
            try:
                parse = _parser(venue, tag)
                if parse is None:
                    problem = f"no history parser for {venue} {tag.kind}"
                    continue
                points = parse(body.encode("utf-8"))
            except KeyError:
                problem = f"unknown venue {venue}"
                continue
            except (ValueError, TypeError) as e:
                problem = f"{tag.kind} {tag.symbol}: {type(e).__name__}"
                continue
            answers.append(Answer(tag.kind, tag.symbol, tag.asset, tag.unit, points))
        if answers:
            since = min(t.since_ns for t, _, _ in batch)
            if since > 0 and self.catch_up is not None:
                self.catch_up(max(ts for _, _, ts in batch))
            self.points += seed_answers(venue, answers, self.targets, since)
        return problem
