"""Backfill answers in a capture: seed a replay's processors as the daemon seeded its own.

The daemon writes a venue's backfill batch (REST klines and open-interest history, tagged with
:class:`~monitor.capture.BackfillTag`) as consecutive capture lines when it seeds its
processors. :class:`BackfillSeeder` collects a batch's lines, parses each body with the venue's
own history parser (the one its backfill planner names for that request) and seeds through
:func:`monitor.backfill.seed_answers`, the daemon's own merge, so a replay or a capture
backtest holds the same 60-day OI peak and 90-day high as the live run.

As the daemon seeds a gap once its event time has passed it (so that the ticks through the
downtime do not overwrite the seeded hours; :func:`monitor.backfill.gap_seed_time`), the seeder
holds a gap batch until the replay's event time (``watermark``) has passed it too:
:meth:`BackfillSeeder.ready` is asked on every line read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from monitor.backfill import Answer, Seedable, gap_seed_time, seed_answers
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
        watermark: the replay's event time (a gap batch waits for it to pass the gap).
    """

    def __init__(
        self, processors: Iterable[object], watermark: Callable[[], int] | None = None
    ) -> None:
        self.watermark = watermark
        #: gap batches waiting for event time: (seed at, venue, answers, since)
        self._waiting: list[tuple[int, str, list[Answer], int]] = []
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

    def ready(self) -> None:
        """Seed the gap batches whose time the replay's event time has reached."""
        if not self._waiting or self.watermark is None:
            return
        now = self.watermark()
        due = [w for w in self._waiting if w[0] <= now]
        if due:
            self._waiting = [w for w in self._waiting if w[0] > now]
            for _, venue, answers, since in due:
                self.points += seed_answers(venue, answers, self.targets, since)

    def finish(self) -> None:
        """Seed the batches the capture ended in the middle of, and those still waiting."""
        for venue in list(self._batches):
            self._seed(venue)
        for _, venue, answers, since in self._waiting:
            self.points += seed_answers(venue, answers, self.targets, since)
        self._waiting = []

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
            if since > 0 and self.watermark is not None:
                until = max(t.until_ns or ts for t, _, ts in batch)
                at = gap_seed_time(answers, since, until)
                if self.watermark() < at:
                    self._waiting.append((at, venue, answers, since))
                    return problem
            self.points += seed_answers(venue, answers, self.targets, since)
        return problem
