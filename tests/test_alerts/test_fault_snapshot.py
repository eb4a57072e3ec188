"""Issue 10 point 3 (part): snapshots are atomic, unusable ones start fresh, no save after a
failed submit. Real files and a real SQLite store made read-only underneath the service."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from structlog.testing import capture_logs

from alerts.model import AlertNotice
from alerts.rules import fingerprint
from alerts.service import AlertService
from alerts.settings import AlertsSettings, ConsoleReceiver
from monitor.daemon import SNAPSHOT_VERSION, Daemon
from monitor.settings import MetricsSettings, Settings
from streams.durable_file import write_atomic

T0 = 1_763_700_000 * 10**9


def make_daemon(tmp_path: Path, service: AlertService | None = None) -> Daemon:
    settings = Settings(
        venues={},
        state_dir=tmp_path / "state",
        store=tmp_path / "riskmon.db",
        metrics=MetricsSettings(enabled=False),
    )
    return Daemon(settings, alert_service=service, registry=CollectorRegistry())


def test_snapshot_round_trips_and_leaves_no_temp_file(tmp_path: Path) -> None:
    d = make_daemon(tmp_path)
    d._save_state()
    path = tmp_path / "state" / "pipeline.json"
    assert json.loads(path.read_text())["snapshot_version"] == SNAPSHOT_VERSION
    assert [p.name for p in path.parent.iterdir()] == ["pipeline.json"]
    assert make_daemon(tmp_path)._restore_state()


@pytest.mark.parametrize(
    ("content", "event"),
    [
        (None, "daemon.state_missing"),
        (b"", "daemon.state_unreadable"),
        (b'{"engine": {"watermark_ns": 12', "daemon.state_unreadable"),  # truncated
        (b"null", "daemon.state_unusable"),
        (b"[]", "daemon.state_unusable"),
        (b'{"engine": {}, "rules": null, "last_rule_tick": 0}', "daemon.state_unusable"),  # v0
        (b'{"snapshot_version": 99}', "daemon.state_unusable"),
    ],
)
def test_unusable_snapshot_is_logged_and_started_fresh(
    tmp_path: Path, content: bytes | None, event: str
) -> None:
    if content is not None:
        write_atomic(tmp_path / "state" / "pipeline.json", content)
    d = make_daemon(tmp_path)
    with capture_logs() as logs:
        assert d._restore_state() is False
    assert [e["event"] for e in logs] == [event]
    assert (
        d.pipeline.engine.watermark_ns == make_daemon(tmp_path / "x").pipeline.engine.watermark_ns
    )


def test_write_atomic_keeps_the_old_file_when_the_write_fails(tmp_path: Path) -> None:
    path = tmp_path / "state" / "pipeline.json"
    write_atomic(path, b"old")
    (tmp_path / "state" / "blocker").mkdir()
    with pytest.raises(OSError):
        write_atomic(tmp_path / "state" / "blocker", b"new")  # a directory cannot be replaced
    assert path.read_bytes() == b"old"
    assert sorted(p.name for p in path.parent.iterdir()) == ["blocker", "pipeline.json"]


async def test_no_snapshot_after_a_failed_submit(tmp_path: Path) -> None:
    """The store refuses writes: the notice is kept, no state is saved; once it works, both."""
    svc = AlertService(
        AlertsSettings(db_path=tmp_path / "alerts.db", receivers=[ConsoleReceiver(name="console")]),
        registry=CollectorRegistry(),
    )
    d = make_daemon(tmp_path, svc)
    labels = {"asset": "BTC", "severity": "critical"}
    n = AlertNotice(
        status="firing",
        rule="liquidations_1h",
        severity="critical",
        labels=labels,
        value=1.0,
        starts_at=T0,
        ends_at=None,
        fingerprint=fingerprint("liquidations_1h", labels),
        summary="x",
    )
    path = tmp_path / "state" / "pipeline.json"
    async with svc:
        await svc.store.call(lambda: svc.store.sync._db.execute("PRAGMA query_only=1"))
        with capture_logs() as logs:
            await d._emit([n])  # does not raise: the pipeline goes on
            d._save_state()
        events = [e["event"] for e in logs]
        assert "alerts.submit_failed" in events
        assert "daemon.snapshot_skipped" in events
        assert not path.exists()
        await svc.store.call(lambda: svc.store.sync._db.execute("PRAGMA query_only=0"))
        await d._emit([])  # the kept notice goes first
        d._save_state()
        assert path.exists()
        stored = await svc.store.call(lambda: svc.store.sync.alerts(status="firing"))
        assert [a.fingerprint for a in stored] == [n.fingerprint]
