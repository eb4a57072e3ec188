"""Issue 10 point 9: the store has a schema version and migrations, and does not grow forever.

``data/store-v1-main-f325f72.db`` was written by the release before the version table (main at
f325f72: ``Store.open``, ``record_notices`` of two firings and a resolution, one pending outbox
row, one silence). Tests copy it, so the fixture itself never changes.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from alerts.matchers import parse_matcher
from alerts.store import Store, StoreError
from alerts.store_schema import SCHEMA_VERSION, file_version

DATA = Path(__file__).parent / "data" / "store-v1-main-f325f72.db"
T0 = 1_763_700_000 * 10**9
DAY = 86_400 * 10**9


def copy_v1(tmp_path: Path) -> Path:
    p = tmp_path / "alerts.db"
    shutil.copy(DATA, p)
    return p


def test_previous_release_store_opens_migrates_and_keeps_its_data(tmp_path: Path) -> None:
    p = copy_v1(tmp_path)
    with sqlite3.connect(p) as db:
        assert file_version(db) == 1
    s = Store.open(p)
    try:
        assert [a.rule for a in s.alerts(status="firing")] == ["liquidations_1h"]
        assert [a.rule for a in s.alerts(status="resolved")] == ["oi_drawdown"]
        [row] = s.outbox("slack", state="pending")
        assert row.idempotency_key == "k-pending"
        assert s.next_due("slack", T0) is not None
        assert [str(m) for m in s.silences(now_ns=T0)[0].matchers] == ["asset=SOL"]
        indexes = {r[0] for r in s._db.execute("SELECT name FROM sqlite_master WHERE type='index'")}
        assert {"alert_events_recorded", "silences_ends", "outbox_group"} <= indexes
    finally:
        s.close()
    with sqlite3.connect(p) as db:
        assert file_version(db) == SCHEMA_VERSION
    Store.open(p).close()  # opening again is a no-op


def test_new_store_starts_at_the_current_version(tmp_path: Path) -> None:
    Store.open(tmp_path / "new.db").close()
    with sqlite3.connect(tmp_path / "new.db") as db:
        assert file_version(db) == SCHEMA_VERSION


def test_store_from_a_newer_release_is_refused(tmp_path: Path) -> None:
    p = copy_v1(tmp_path)
    Store.open(p).close()
    with sqlite3.connect(p) as db:
        db.execute("UPDATE schema_version SET version=?", (SCHEMA_VERSION + 1,))
    with pytest.raises(StoreError, match="newer than this release"):
        Store.open(p)


def test_history_and_expired_silences_are_pruned_but_firing_alerts_kept(tmp_path: Path) -> None:
    s = Store.open(copy_v1(tmp_path))
    try:
        s.add_silence([parse_matcher('asset="ETH"')], T0, T0 + 400 * DAY, "ops", "long", T0)
        events, alerts, silences = s.prune_history(T0 + 90 * DAY)
        assert (events, alerts, silences) == (3, 1, 1)
        assert [a.rule for a in s.alerts(limit=10)] == ["liquidations_1h"]  # still firing
        assert [c.comment for c in s.silences(include_expired=True)] == ["long"]
        assert s.prune_history(T0 + 90 * DAY) == (0, 0, 0)
    finally:
        s.close()
