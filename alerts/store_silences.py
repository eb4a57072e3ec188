"""Silences in the alert store: create, list, expire (part of :class:`alerts.store.Store`).

A silence mutes every alert matched by all its label matchers between ``starts_ns`` and
``ends_ns`` (wall-clock times). The daemon re-reads them (:class:`alerts.mute.Silencer`), so a
silence added by ``riskmon silence add`` in another process takes effect within seconds.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from alerts.matchers import Matcher, parse_matcher

__all__ = ["Silence", "SilenceQueries"]


@dataclass(frozen=True, slots=True)
class Silence:
    """Mute every alert matching all ``matchers`` between ``starts_ns`` and ``ends_ns``."""

    id: str
    matchers: tuple[Matcher, ...]
    starts_ns: int
    ends_ns: int
    created_by: str
    comment: str
    created_ns: int

    def active(self, now_ns: int) -> bool:
        """Return whether the silence is in force at ``now_ns``."""
        return self.starts_ns <= now_ns < self.ends_ns


class SilenceQueries:
    """The silence statements of the store (mixed into :class:`alerts.store.Store`)."""

    _db: sqlite3.Connection

    def add_silence(
        self,
        matchers: Sequence[Matcher],
        starts_ns: int,
        ends_ns: int,
        created_by: str,
        comment: str,
        now_ns: int,
    ) -> Silence:
        """Create a silence and return it."""
        s = Silence(
            id=uuid.uuid4().hex[:12],
            matchers=tuple(matchers),
            starts_ns=starts_ns,
            ends_ns=ends_ns,
            created_by=created_by,
            comment=comment,
            created_ns=now_ns,
        )
        self._db.execute(
            "INSERT INTO silences (id, matchers, starts_ns, ends_ns, created_by, comment,"
            " created_ns) VALUES (?,?,?,?,?,?,?)",
            (
                s.id,
                json.dumps([str(m) for m in s.matchers]),
                starts_ns,
                ends_ns,
                created_by,
                comment,
                now_ns,
            ),
        )
        return s

    def silences(self, include_expired: bool = False, now_ns: int = 0) -> list[Silence]:
        """Return silences (by default only those not yet expired at ``now_ns``)."""
        q = "SELECT id, matchers, starts_ns, ends_ns, created_by, comment, created_ns FROM silences"
        args: list[Any] = []
        if not include_expired:
            q += " WHERE ends_ns>?"
            args.append(now_ns)
        rows = self._db.execute(q + " ORDER BY created_ns, id", args).fetchall()
        return [
            Silence(
                r[0],
                tuple(parse_matcher(m) for m in json.loads(r[1])),
                r[2],
                r[3],
                r[4],
                r[5],
                r[6],
            )
            for r in rows
        ]

    def expire_silence(self, silence_id: str, now_ns: int) -> bool:
        """End a silence now; return False if no unexpired silence has that id (or prefix)."""
        cur = self._db.execute(
            "UPDATE silences SET ends_ns=? WHERE (id=? OR id LIKE ?) AND ends_ns>?",
            (now_ns, silence_id, silence_id.replace("%", "") + "%", now_ns),
        )
        return cur.rowcount >= 1
