"""The alert store's SQLite tables (created on open when missing).

- ``alerts``: the last state of each alert by fingerprint, with its annotations and the wall-clock
  times it was first seen and last updated;
- ``alert_events``: every state change, for ``riskmon alerts show``;
- ``outbox``: one row per notification and receiver, unique by idempotency key;
- ``nflog``: per receiver and group, the fingerprints last notified as firing, the sequence number
  and the send time (dedup and repeat, as Alertmanager's notification log);
- ``silences``: matchers and the time range they mute.
"""

from __future__ import annotations

__all__ = ["SCHEMA"]

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
