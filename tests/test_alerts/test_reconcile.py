"""Start-up reconciliation (alerts/reconcile.py) through AlertService.start on a real SQLite store.

The process-level cases (SIGKILL, rule removed, damaged snapshots, broken receiver) are in
tests/test_monitor/test_restart_truth.py; these are the two cases a process test cannot stage
reliably: a snapshot older than the store's resolution, and a firing the store never recorded.
"""

from __future__ import annotations

from pathlib import Path

from prometheus_client import CollectorRegistry

from alerts.evaluator import AlertEvaluator
from alerts.rules import load_rules
from alerts.service import AlertService
from alerts.settings import AlertsSettings
from streams.signals import Signal

from .conftest import FakeClock, RecordingNotifier

T0 = 1_763_700_000 * 10**9
RULES = (
    "rules:\n"
    "  - name: oi_low\n"
    "    signal: oi_usd\n"
    "    match: {asset: BTC, venue: all}\n"
    "    op: '<'\n"
    "    level: warning\n"
    "    threshold: 10\n"
)


def fired_evaluator(tmp_path: Path) -> AlertEvaluator:
    path = tmp_path / "rules.yaml"
    path.write_text(RULES)
    ev = AlertEvaluator(load_rules(path))
    notices = ev.on_signals([Signal("oi_usd", {"asset": "BTC", "venue": "all"}, 5.0, T0)])
    assert [n.status for n in notices] == ["firing"]
    return ev


def service(tmp_path: Path, rec: RecordingNotifier) -> AlertService:
    return AlertService(
        AlertsSettings(db_path=tmp_path / "a.db", pack=None),
        ruleset=load_rules(tmp_path / "rules.yaml"),
        notifiers={"rec": rec},
        registry=CollectorRegistry(),
        clock=FakeClock(),
    )


async def test_held_alert_the_store_never_recorded_is_announced(tmp_path: Path) -> None:
    ev = fired_evaluator(tmp_path)  # its notice never reached the store
    svc = service(tmp_path, RecordingNotifier("rec"))
    await svc.start(ev)
    try:
        firing = await svc.store.call(lambda: svc.store.sync.alerts(status="firing"))
        assert [a.fingerprint for a in firing] == [a.fingerprint for a in ev.active()]
    finally:
        await svc.aclose()


async def test_store_resolution_newer_than_the_snapshot_makes_the_evaluator_forget(
    tmp_path: Path,
) -> None:
    ev = fired_evaluator(tmp_path)
    snapshot = ev.snapshot()  # taken while firing
    svc = service(tmp_path, RecordingNotifier("rec"))
    await svc.start(ev)
    resolved = ev.on_signals([Signal("oi_usd", {"asset": "BTC", "venue": "all"}, 50.0, T0 + 10**9)])
    assert [n.status for n in resolved] == ["resolved"]
    await svc.submit(resolved)
    await svc.aclose()

    restored = AlertEvaluator(ev.rules)
    restored.restore(snapshot)  # the snapshot still says firing
    assert len(restored.active()) == 1
    svc = service(tmp_path, RecordingNotifier("rec"))
    await svc.start(restored)
    try:
        assert restored.active() == []
        firing = await svc.store.call(lambda: svc.store.sync.alerts(status="firing"))
        assert firing == []
        # the condition still false: nothing fires; true again: it fires again, and is stored
        assert (
            restored.on_signals(
                [Signal("oi_usd", {"asset": "BTC", "venue": "all"}, 50.0, T0 + 2 * 10**9)]
            )
            == []
        )
        again = restored.on_signals(
            [Signal("oi_usd", {"asset": "BTC", "venue": "all"}, 1.0, T0 + 3 * 10**9)]
        )
        assert [n.status for n in again] == ["firing"]
    finally:
        await svc.aclose()


async def test_meta_alert_of_a_receiver_no_longer_configured_is_resolved(tmp_path: Path) -> None:
    (tmp_path / "rules.yaml").write_text(RULES)
    svc = service(tmp_path, RecordingNotifier("rec"))
    await svc.start()
    gone = svc.dispatcher.meta_notice("gone", True, "HTTP 404")
    kept = svc.dispatcher.meta_notice("rec", True, "HTTP 400")
    await svc.submit([gone, kept])
    await svc.aclose()

    svc = service(tmp_path, RecordingNotifier("rec"))
    await svc.start(AlertEvaluator(load_rules(tmp_path / "rules.yaml")))
    try:
        firing = await svc.store.call(lambda: svc.store.sync.alerts(status="firing"))
        assert [a.fingerprint for a in firing] == [kept.fingerprint]  # until "rec" delivers
        assert svc.deliverers["rec"].broken
    finally:
        await svc.aclose()
