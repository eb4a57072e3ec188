"""Issue 10 point 1: no task dies alone (real SQLite file made full, real HTTP receiver).

SQLite's ``max_page_count`` caps the store file at its current size, so every write that needs a
new page fails with "database or disk is full", exactly as on a full disk.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from alerts.dispatch import META_TASK_RULE
from alerts.model import AlertNotice
from alerts.route import Route
from alerts.service import AlertService
from alerts.settings import AlertsSettings, WebhookReceiver
from streams.backoff import Backoff
from streams.supervisor import TaskSupervisor
from tests.helpers import eventually

from .fakes import Receiver, firing, serve

T0 = 1_763_700_000 * 10**9


def alert(rule: str, severity: Any = "critical", asset: str = "BTC") -> AlertNotice:
    return firing(rule, severity, asset, at=T0, summary=f"{rule} {asset}")


def rules_of(rx: Receiver) -> list[str]:
    return [a["rule"] for r in rx.accepted for a in r["json"]["alerts"]]


def _fill_store(svc: AlertService) -> None:
    """Cap the store file at its current size and fill every page: the disk is full.

    Filler rows go into the outbox itself (receiver ``filler``, never delivered), so the pages a
    flush writes to have no room left either.
    """
    db: sqlite3.Connection = svc.store.sync._db
    pages = int(db.execute("PRAGMA page_count").fetchone()[0])
    db.execute(f"PRAGMA max_page_count={pages}")
    n = 0
    for size in (2000, 500, 100, 20, 1):
        try:
            while True:
                n += 1
                db.execute(
                    "INSERT INTO outbox (receiver, idempotency_key, group_key, priority, payload,"
                    " state, next_attempt_ns, created_ns) VALUES ('filler',?,'f',9,?,'dead',0,0)",
                    (f"filler-{n}", "x" * size),
                )
        except sqlite3.OperationalError as e:
            if "full" not in str(e):
                raise


def _free_store(svc: AlertService) -> None:
    """Space is back."""
    db: sqlite3.Connection = svc.store.sync._db
    db.execute("PRAGMA max_page_count=1073741823")


async def test_full_disk_does_not_end_the_dispatcher(tmp_path: Path) -> None:
    """A full store fails the dispatcher: restarted, reported, delivering once space is back."""
    registry = CollectorRegistry()
    sup = TaskSupervisor(registry, backoff=Backoff(0.02, 0.1), failing_after=2, healthy_after_s=0.3)
    rx = Receiver()
    async with serve(rx):
        svc = AlertService(
            AlertsSettings(
                db_path=tmp_path / "alerts.db",
                receivers=[WebhookReceiver(name="wh", url=SecretStr(rx.url + "/hook"))],
            ),
            registry=registry,
            supervisor=sup,
        )
        svc.dispatcher.routes = [Route("wh", group_wait_s=1.0, group_interval_s=0.0)]
        async with svc:
            await svc.submit([alert("oi_drawdown", "warning")])
            await eventually(lambda: rules_of(rx) == ["oi_drawdown"], what="first delivery")
            await svc.submit([alert("liquidations_1h", asset="ETH")])  # stored, not yet flushed
            await svc.store.call(lambda: _fill_store(svc))
            # the flush after group_wait cannot write its outbox row: the dispatcher fails,
            # is restarted with backoff, keeps failing, and is reported
            await eventually(lambda: "alerts-dispatcher" in sup.unhealthy(), what="failing")
            restarts = registry.get_sample_value(
                "riskmon_task_restarts_total", {"task": "alerts-dispatcher"}
            )
            assert restarts is not None
            assert restarts >= 1
            await eventually(lambda: META_TASK_RULE in rules_of(rx), what="task meta-alert")
            assert "liquidations_1h" not in rules_of(rx)

            await svc.store.call(lambda: _free_store(svc))
            await eventually(lambda: "liquidations_1h" in rules_of(rx), what="queued critical")
            await eventually(lambda: sup.unhealthy() == [], what="dispatcher healthy again")
            await svc.submit([alert("funding_extreme", asset="SOL")])
            await eventually(lambda: "funding_extreme" in rules_of(rx), what="next critical")
            # the recovery is announced too
            resolved = [
                a
                for r in rx.accepted
                for a in r["json"]["alerts"]
                if a["rule"] == META_TASK_RULE and a["status"] == "resolved"
            ]
            assert resolved
        assert rx.duplicates == 0


async def test_supervisor_restarts_with_backoff_and_reports_failing() -> None:
    """A factory that fails twice then runs is restarted twice; one-shot work ends for good."""
    registry = CollectorRegistry()
    events: list[tuple[str, bool]] = []
    sup = TaskSupervisor(
        registry,
        backoff=Backoff(0.01, 0.02),
        failing_after=2,
        healthy_after_s=0.05,
        on_failing=lambda name, failing, _err: events.append((name, failing)),
    )
    calls = 0
    running = asyncio.Event()

    async def flaky() -> None:
        nonlocal calls
        calls += 1
        if calls <= 2:
            raise RuntimeError(f"boom {calls}")
        running.set()
        await asyncio.Event().wait()

    sup.spawn(flaky, "flaky")
    await asyncio.wait_for(running.wait(), 5)
    assert sup.unhealthy() == ["flaky"]
    await eventually(lambda: sup.unhealthy() == [], what="recovered")
    assert events == [("flaky", True), ("flaky", False)]
    assert registry.get_sample_value("riskmon_task_restarts_total", {"task": "flaky"}) == 2

    async def once() -> None:
        raise ValueError("no")

    t = sup.spawn(once, "once", restart=False)
    await t
    assert "once" in sup.unhealthy()
    await sup.aclose()
    assert calls == 3
