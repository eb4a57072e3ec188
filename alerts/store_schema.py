"""The alert store's SQLite tables (created on open when missing).

- ``alerts``: the last state of each alert by fingerprint, with its annotations and the wall-clock
  times it was first seen and last updated;
- ``alert_events``: every state change, for ``riskmon alerts show``;
- ``outbox``: one row per notification and receiver, unique by idempotency key;
- ``nflog``: per receiver and group, the fingerprints last notified as firing, the sequence number
  and the send time (dedup and repeat, as Alertmanager's notification log);
- ``silences``: matchers and the time range they mute;
- ``schema_version``: one row, the version the file was migrated to.

Upgrades: :data:`MIGRATIONS` ``[n]`` turns a version-``n`` file into version ``n + 1``; version 1
is the schema of the first release (no ``schema_version`` table; :data:`SCHEMA` below). On open,
:func:`migrate` creates a new file at version 1 and applies every missing migration, each in its
own transaction with the version bump. A file from a *newer* release is refused.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

__all__ = ["MIGRATIONS", "SCHEMA", "SCHEMA_VERSION", "migrate", "where"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS alerts (
    fingerprint TEXT PRIMARY KEY,
    rule TEXT NOT NULL,
    severity TEXT NOT NULL,
    labels TEXT NOT NULL,
    annotations TEXT NOT NULL,
    status TEXT NOT NULL,
    value REAL NOT NULL,
    summary TEXT NOT NULL,
    starts_at INTEGER NOT NULL,
    ends_at INTEGER,
    first_seen_ns INTEGER NOT NULL,
    updated_ns INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS alerts_status ON alerts(status, updated_ns);
CREATE TABLE IF NOT EXISTS alert_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    fingerprint TEXT NOT NULL,
    status TEXT NOT NULL,
    value REAL NOT NULL,
    summary TEXT NOT NULL,
    starts_at INTEGER NOT NULL,
    ends_at INTEGER,
    recorded_ns INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS alert_events_fp ON alert_events(fingerprint, id);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    receiver TEXT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    group_key TEXT NOT NULL,
    priority INTEGER NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_ns INTEGER NOT NULL,
    created_ns INTEGER NOT NULL,
    delivered_ns INTEGER,
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox(receiver, state, priority, next_attempt_ns, id);
CREATE TABLE IF NOT EXISTS nflog (
    receiver TEXT NOT NULL,
    group_key TEXT NOT NULL,
    firing TEXT NOT NULL,
    seq INTEGER NOT NULL,
    sent_ns INTEGER NOT NULL,
    PRIMARY KEY (receiver, group_key)
);
CREATE TABLE IF NOT EXISTS silences (
    id TEXT PRIMARY KEY,
    matchers TEXT NOT NULL,
    starts_ns INTEGER NOT NULL,
    ends_ns INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    comment TEXT NOT NULL,
    created_ns INTEGER NOT NULL
);
"""

#: version n -> n + 1 (index 0 upgrades version 1)
MIGRATIONS: tuple[str, ...] = (
    # 2: retention deletes by age; outbox rows may be 'superseded' (no DDL needed for that)
    """
    CREATE INDEX IF NOT EXISTS alert_events_recorded ON alert_events(recorded_ns);
    CREATE INDEX IF NOT EXISTS silences_ends ON silences(ends_ns);
    CREATE INDEX IF NOT EXISTS outbox_group ON outbox(receiver, group_key, state);
    """,
)
SCHEMA_VERSION = 1 + len(MIGRATIONS)


def file_version(conn: sqlite3.Connection) -> int:
    """The version of an opened store file: 0 when empty, 1 before the version table existed."""
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if "schema_version" in tables:
        row = conn.execute("SELECT version FROM schema_version").fetchone()
        return int(row[0]) if row is not None else 1
    return 1 if "alerts" in tables else 0


def migrate(conn: sqlite3.Connection) -> tuple[int, int]:
    """Bring an opened store (autocommit connection) to :data:`SCHEMA_VERSION`.

    Returns (version found, version now). Raises :class:`sqlite3.DatabaseError` for a file
    written by a newer release.
    """
    found = file_version(conn)
    if found > SCHEMA_VERSION:
        raise sqlite3.DatabaseError(
            f"store schema version {found} is newer than this release ({SCHEMA_VERSION})"
        )
    if found == 0:
        conn.executescript(SCHEMA)
    version = max(found, 1)
    conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    if conn.execute("SELECT COUNT(*) FROM schema_version").fetchone()[0] == 0:
        conn.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))
    while version < SCHEMA_VERSION:
        script = MIGRATIONS[version - 1]
        conn.executescript(
            f"BEGIN IMMEDIATE;\n{script}\nUPDATE schema_version SET version={version + 1};\nCOMMIT;"
        )
        version += 1
    return found, version


def where(conditions: Sequence[tuple[str, object | None]]) -> tuple[str, list[object]]:
    """A ``WHERE`` clause (or ``""``) and its arguments from ``(sql, value)`` pairs, each
    ``sql`` with one ``?``; a pair whose value is None is left out."""
    used = [(sql, value) for sql, value in conditions if value is not None]
    if not used:
        return "", []
    return " WHERE " + " AND ".join(sql for sql, _ in used), [value for _, value in used]
