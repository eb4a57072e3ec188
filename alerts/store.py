"""The durable alert store (SQLite, WAL): alert history, the notification outbox, silences, nflog.

An alert state change is written here before anything is sent. Every notification is an outbox
row with a unique idempotency key, inserted in the same transaction as the notification-log entry
that records it, so a crash either keeps both (the row is delivered after restart, with the same
key) or neither (the group is flushed again after restart and produces the same key).

Alerts are stored and returned as :class:`~alerts.model.AlertNotice` (annotations included); the
table's bookkeeping columns (``first_seen_ns``, ``updated_ns``, wall clock) order and filter the
queries but are not part of the shape.

The store is synchronous and not thread-safe; the dispatcher confines it to one worker thread
(:class:`AsyncStore`), and the CLI uses it directly.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

from alerts.model import AlertNotice
from alerts.store_history import AlertHistoryRow, HistoryQueries
from alerts.store_schema import migrate, where
from alerts.store_silences import Silence, SilenceQueries

__all__ = [
    "AlertHistoryRow",
    "AsyncStore",
    "NflogEntry",
    "OutboxRow",
    "Silence",
    "Store",
    "StoreError",
]

T = TypeVar("T")
OutboxState = Literal["pending", "delivered", "dead"]


class StoreError(RuntimeError):
    """The store cannot be opened or used (message names the path, never a secret)."""


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """One notification waiting for (or done with) delivery to one receiver."""

    id: int
    receiver: str
    idempotency_key: str
    group_key: str
    priority: int
    payload: str
    state: OutboxState
    attempts: int
    next_attempt_ns: int
    created_ns: int
    delivered_ns: int | None
    last_error: str | None


@dataclass(frozen=True, slots=True)
class NflogEntry:
    """What was last notified for one group of one receiver."""

    firing: frozenset[str]
    seq: int
    sent_ns: int


class Store(HistoryQueries, SilenceQueries):
    """SQLite-backed alert store. Open with :meth:`open`; close with :meth:`close`.

    History reads are in :mod:`alerts.store_history`, silences in :mod:`alerts.store_silences`.
    """

    def __init__(self, conn: sqlite3.Connection, path: str) -> None:
        self._db = conn
        self.path = path

    @classmethod
    def open(cls, path: str | Path, check_same_thread: bool = True) -> Store:
        """Open (creating if needed) the store at ``path`` in WAL mode.

        Raises:
            StoreError: the file cannot be opened or is not a riskmon store.
        """
        p = str(path)
        try:
            if p != ":memory:":
                Path(p).parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(p, isolation_level=None, check_same_thread=check_same_thread)
            conn.execute("PRAGMA busy_timeout=5000")
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            migrate(conn)
        except (sqlite3.Error, OSError) as e:
            raise StoreError(f"cannot open alert store {p}: {e}") from None
        return cls(conn, p)

    def close(self) -> None:
        """Close the database connection."""
        self._db.close()

    def _tx(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            out = fn(db)
        except BaseException:
            if db.in_transaction:  # SQLite already rolled back on e.g. "database or disk is full"
                db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        return out

    # --- alerts ------------------------------------------------------------------------------

    def record_notices(
        self,
        notices: Sequence[AlertNotice],
        now_ns: int,
    ) -> list[bool]:
        """Store alert state changes; return, per notice, whether it changed the stored state.

        A "firing" notice for an alert already stored as firing with the same ``starts_at``
        (e.g. re-emitted after a restart) is not a change.
        """

        def run(db: sqlite3.Connection) -> list[bool]:
            changed: list[bool] = []
            for n in notices:
                row = db.execute(
                    "SELECT status, starts_at FROM alerts WHERE fingerprint=?", (n.fingerprint,)
                ).fetchone()
                if (
                    row is not None
                    and row[0] == n.status
                    and (n.status == "resolved" or row[1] == n.starts_at)
                ):
                    changed.append(False)
                    continue
                if row is not None and n.status == "firing" and row[0] == "firing":
                    changed.append(False)  # same alert re-fired by a restarted evaluator
                    continue
                changed.append(True)
                db.execute(
                    "INSERT INTO alerts (fingerprint, rule, severity, labels, annotations,"
                    " status, value, summary, starts_at, ends_at, first_seen_ns, updated_ns)"
                    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"
                    " ON CONFLICT(fingerprint) DO UPDATE SET severity=excluded.severity,"
                    " labels=excluded.labels, annotations=excluded.annotations,"
                    " status=excluded.status, value=excluded.value, summary=excluded.summary,"
                    " starts_at=CASE WHEN excluded.status='firing' THEN excluded.starts_at"
                    " ELSE alerts.starts_at END,"
                    " ends_at=excluded.ends_at, updated_ns=excluded.updated_ns",
                    (
                        n.fingerprint,
                        n.rule,
                        n.severity,
                        json.dumps(n.labels, sort_keys=True),
                        json.dumps(n.annotations, sort_keys=True),
                        n.status,
                        n.value,
                        n.summary,
                        n.starts_at,
                        n.ends_at,
                        now_ns,
                        now_ns,
                    ),
                )
                db.execute(
                    "INSERT INTO alert_events (fingerprint, status, value, summary, starts_at,"
                    " ends_at, recorded_ns) VALUES (?,?,?,?,?,?,?)",
                    (n.fingerprint, n.status, n.value, n.summary, n.starts_at, n.ends_at, now_ns),
                )
            return changed

        return self._tx(run)

    # --- outbox + nflog ----------------------------------------------------------------------

    def enqueue_notification(
        self,
        receiver: str,
        group_key: str,
        idempotency_key: str,
        priority: int,
        payload: str,
        firing: frozenset[str],
        seq: int,
        now_ns: int,
    ) -> tuple[bool, int]:
        """Insert an outbox row and the nflog entry atomically.

        Returns whether the row was inserted (False if the key already exists) and how many
        pending rows of the same receiver and group it superseded: a group has at most one
        pending notification, the newest, so a backlog sends each group's current state and
        never an older state after a newer one. The caller carries resolutions over.
        """

        def run(db: sqlite3.Connection) -> tuple[bool, int]:
            sup = db.execute(
                "UPDATE outbox SET state='superseded' WHERE receiver=? AND group_key=?"
                " AND state='pending' AND idempotency_key<>?",
                (receiver, group_key, idempotency_key),
            ).rowcount
            cur = db.execute(
                "INSERT OR IGNORE INTO outbox (receiver, idempotency_key, group_key, priority,"
                " payload, next_attempt_ns, created_ns) VALUES (?,?,?,?,?,?,?)",
                (receiver, idempotency_key, group_key, priority, payload, now_ns, now_ns),
            )
            db.execute(
                "INSERT INTO nflog (receiver, group_key, firing, seq, sent_ns) VALUES (?,?,?,?,?)"
                " ON CONFLICT(receiver, group_key) DO UPDATE SET firing=excluded.firing,"
                " seq=excluded.seq, sent_ns=excluded.sent_ns",
                (receiver, group_key, json.dumps(sorted(firing)), seq, now_ns),
            )
            return cur.rowcount == 1, sup

        return self._tx(run)

    def pending_payloads(self, receiver: str, group_key: str) -> list[str]:
        """Payloads of the pending notifications of one receiver's group, oldest first."""
        rows = self._db.execute(
            "SELECT payload FROM outbox WHERE receiver=? AND group_key=? AND state='pending'"
            " ORDER BY id",
            (receiver, group_key),
        ).fetchall()
        return [r[0] for r in rows]

    def update_nflog(self, receiver: str, group_key: str, firing: frozenset[str], seq: int) -> None:
        """Change the notified firing set of a group without sending anything."""
        self._db.execute(
            "UPDATE nflog SET firing=?, seq=? WHERE receiver=? AND group_key=?",
            (json.dumps(sorted(firing)), seq, receiver, group_key),
        )

    def nflog(self, receiver: str, group_key: str) -> NflogEntry | None:
        """Return what was last notified for a group, if anything."""
        row = self._db.execute(
            "SELECT firing, seq, sent_ns FROM nflog WHERE receiver=? AND group_key=?",
            (receiver, group_key),
        ).fetchone()
        if row is None:
            return None
        return NflogEntry(frozenset(json.loads(row[0])), row[1], row[2])

    @staticmethod
    def _outbox(r: Sequence[Any]) -> OutboxRow:
        return OutboxRow(*r)

    _OUTBOX_COLS = (
        "id, receiver, idempotency_key, group_key, priority, payload, state, attempts,"
        " next_attempt_ns, created_ns, delivered_ns, last_error"
    )

    def next_due(self, receiver: str, now_ns: int) -> OutboxRow | None:
        """Return the most urgent pending row due for a receiver (priority first, then age)."""
        row = self._db.execute(
            f"SELECT {self._OUTBOX_COLS} FROM outbox WHERE receiver=? AND state='pending'"  # noqa: S608
            " AND next_attempt_ns<=? ORDER BY priority, id LIMIT 1",
            (receiver, now_ns),
        ).fetchone()
        return None if row is None else self._outbox(row)

    def next_attempt_ns(self, receiver: str) -> int | None:
        """Return when the next pending row of a receiver becomes due, if any is pending."""
        row = self._db.execute(
            "SELECT MIN(next_attempt_ns) FROM outbox WHERE receiver=? AND state='pending'",
            (receiver,),
        ).fetchone()
        return None if row is None or row[0] is None else int(row[0])

    def mark_delivered(self, row_id: int, now_ns: int) -> None:
        """Mark an outbox row delivered."""
        self._db.execute(
            "UPDATE outbox SET state='delivered', delivered_ns=?, attempts=attempts+1,"
            " last_error=NULL WHERE id=?",
            (now_ns, row_id),
        )

    def prune_delivered(self, before_ns: int) -> int:
        """Delete outbox rows delivered before ``before_ns``; return how many.

        Pending and dead rows are kept, and so is the nflog, so keys stay unique: a pruned
        notification is never re-sent.
        """
        cur = self._db.execute(
            "DELETE FROM outbox WHERE state='delivered' AND delivered_ns < ?", (before_ns,)
        )
        return cur.rowcount

    def prune_history(self, before_ns: int) -> tuple[int, int, int]:
        """Delete alert events recorded, alerts resolved and silences ended before ``before_ns``.

        Firing alerts and unexpired silences are kept whatever their age. Returns the number of
        (events, alerts, silences) deleted.
        """

        def run(db: sqlite3.Connection) -> tuple[int, int, int]:
            ev = db.execute("DELETE FROM alert_events WHERE recorded_ns < ?", (before_ns,))
            al = db.execute(
                "DELETE FROM alerts WHERE status='resolved' AND updated_ns < ?", (before_ns,)
            )
            si = db.execute("DELETE FROM silences WHERE ends_ns < ?", (before_ns,))
            return ev.rowcount, al.rowcount, si.rowcount

        return self._tx(run)

    def mark_failed(self, row_id: int, next_attempt_ns: int, error: str, dead: bool) -> None:
        """Record a failed attempt; schedule the next one, or give up (``dead``)."""
        self._db.execute(
            "UPDATE outbox SET attempts=attempts+1, next_attempt_ns=?, last_error=?,"
            " state=CASE WHEN ? AND state='pending' THEN 'dead' ELSE state END WHERE id=?",
            (next_attempt_ns, error[:500], dead, row_id),
        )

    def defer_receiver(self, receiver: str, until_ns: int) -> None:
        """Push every pending row of a receiver to ``until_ns`` at the earliest."""
        self._db.execute(
            "UPDATE outbox SET next_attempt_ns=MAX(next_attempt_ns, ?)"
            " WHERE receiver=? AND state='pending'",
            (until_ns, receiver),
        )

    def retry_now(self, receiver: str, now_ns: int) -> int:
        """Make every pending row of a receiver due at ``now_ns``; return how many."""
        cur = self._db.execute(
            "UPDATE outbox SET next_attempt_ns=MIN(next_attempt_ns, ?)"
            " WHERE receiver=? AND state='pending'",
            (now_ns, receiver),
        )
        return cur.rowcount

    def outbox(self, receiver: str | None = None, state: str | None = None) -> list[OutboxRow]:
        """Return outbox rows (oldest first), optionally filtered."""
        cond, args = where([("receiver=?", receiver), ("state=?", state)])
        q = f"SELECT {self._OUTBOX_COLS} FROM outbox{cond} ORDER BY id"  # noqa: S608
        return [self._outbox(r) for r in self._db.execute(q, args).fetchall()]

    def notifications_for(self, fingerprint: str) -> list[OutboxRow]:
        """Return the outbox rows whose payload mentions an alert fingerprint."""
        rows = self._db.execute(
            f"SELECT {self._OUTBOX_COLS} FROM outbox WHERE payload LIKE ? ORDER BY id",  # noqa: S608
            (f'%"fingerprint":"{fingerprint}"%',),
        ).fetchall()
        return [self._outbox(r) for r in rows]


class AsyncStore:
    """Run :class:`Store` calls on one dedicated thread, so coroutines never block on SQLite."""

    def __init__(self, path: str | Path) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="alert-store")
        self._path = path
        self._store: Store | None = None

    async def open(self) -> None:
        """Open the underlying store on the worker thread."""
        self._store = await self.call(lambda: Store.open(self._path, check_same_thread=False))

    @property
    def sync(self) -> Store:
        """The underlying store (only to be used from the store thread or after close)."""
        assert self._store is not None, "store not opened"
        return self._store

    async def call(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on the store thread and return its result."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, fn)

    async def close(self) -> None:
        """Close the store and stop the worker thread."""
        if self._store is not None:
            store = self._store
            await self.call(store.close)
            self._store = None
        self._executor.shutdown(wait=True)
