"""A delivering process is SIGKILLed mid-burst; after restart every alert arrives exactly once."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

from aiohttp import web

from alerts.store import Store
from tests.helpers import eventually

from .fakes import Receiver, serve

WORKER = Path(__file__).with_name("burst_worker.py")
ROOT = Path(__file__).resolve().parents[2]
N = 40


class SlowReceiver(Receiver):
    """Answers after a short pause, so the burst takes a while to deliver."""

    async def handle(self, request: web.Request) -> web.Response:
        await asyncio.sleep(0.02)
        return await super().handle(request)


async def start_worker(db: Path, url: str) -> asyncio.subprocess.Process:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return await asyncio.create_subprocess_exec(
        sys.executable,
        str(WORKER),
        str(db),
        url,
        str(N),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )


def outbox_drained(db: Path) -> bool:
    store = Store.open(db)
    try:
        return all(r.state == "delivered" for r in store.outbox("wh"))
    finally:
        store.close()


def fingerprints(rx: Receiver) -> list[str]:
    return [a["fingerprint"] for r in rx.accepted for a in r["json"]["alerts"]]


async def test_sigkill_mid_burst_then_restart_delivers_each_alert_exactly_once(
    tmp_path: Path,
) -> None:
    """No alert is lost and none reaches the receiver under two different idempotency keys."""
    db = tmp_path / "alerts.db"
    rx = SlowReceiver(hmac_secret=b"k")
    async with serve(rx):
        url = rx.url + "/hook"
        p1 = await start_worker(db, url)
        await eventually(lambda: len(rx.accepted) >= N // 3, timeout_s=30, what="first third")
        p1.send_signal(signal.SIGKILL)
        await p1.wait()
        before = len(rx.accepted)
        assert before < N, "the burst finished before the kill; the test proves nothing"

        p2 = await start_worker(db, url)  # same alerts re-submitted, as a restarted evaluator would
        try:
            await eventually(lambda: len(rx.accepted) >= N, timeout_s=30, what="all alerts")
            await eventually(lambda: outbox_drained(db), timeout_s=30, what="outbox drained")
        finally:
            p2.terminate()
            await p2.wait()

    fps = fingerprints(rx)
    assert len(fps) == N
    assert len(set(fps)) == N
    assert rx.bad_signatures == 0
    keys = [r["headers"]["Idempotency-Key"] for r in rx.requests]
    assert len(set(keys)) == N  # re-deliveries, if any, reused their key
    store = Store.open(db)
    rows = store.outbox("wh")
    store.close()
    assert len(rows) == N
    assert {json.loads(r.payload)["alerts"][0]["fingerprint"] for r in rows} == set(fps)
