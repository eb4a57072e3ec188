"""Issue 10 point 3: start-up tells the truth, with real processes.

`riskmon run` against the simulator delivers to a webhook on 127.0.0.1; it is stopped cleanly or
SIGKILLed about a second after an alert fired, and restarted with the same rules, with the rule
removed, or with its snapshot deleted, truncated, null or of an older version. After the restart
the store's firing alerts equal the evaluator's, and the receiver heard exactly one resolution
for an alert that no longer fires (and none for one that still does).
A broken receiver's meta-alert resolves after a restart once the receiver works.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from alerts.rules import fingerprint
from alerts.store import Store
from monitor.simulator.server import ExchangeSimulator
from monitor.simulator.venues.binance_usdm import BinanceUsdmSim
from tests.helpers import eventually
from tests.test_alerts.fakes import Receiver, serve

from .daemon_proc import (
    DaemonProc,
    evaluator_firing,
    publish_long_liquidations,
    store_firing,
    subscribed,
)

RULE = (
    "  - name: long_liquidations_1h\n"
    "    signal: liq_usd\n"
    "    match: {asset: all, side: long, window: 1h}\n"
    "    op: '>='\n"
    "    level: critical\n"
    "    threshold: 1e6\n"
    "    annotations: {summary: 'Longs liquidated {value_h} USD in 1 h'}\n"
)
OTHER = (
    "  - name: short_liquidations_1h\n"
    "    signal: liq_usd\n"
    "    match: {asset: all, side: short, window: 1h}\n"
    "    op: '>='\n"
    "    level: critical\n"
    "    threshold: 1e6\n"
)
LONG = "long_liquidations_1h"
META = "riskmon_notifier_broken"


def write_config(tmp: Path, sim_url: str, rules: Path, receivers: str, routes: str) -> Path:
    cfg = tmp / "riskmon.yaml"
    cfg.write_text(
        f"venues:\n  binance-usdm: {{symbols: [BTCUSDT], channels: [trades, liquidations]}}\n"
        f"simulator: {sim_url}\nstate_dir: {tmp / 'state'}\nstore: {tmp / 'riskmon.db'}\n"
        f"rules: {rules}\nmetrics: {{enabled: false}}\nsnapshot_interval_s: 3600\n"
        f"alerting:\n  receivers:\n{receivers}  routes:\n{routes}"
    )
    return cfg


def statuses(rx: Receiver, rule: str) -> list[str]:
    """The status of ``rule``'s alert in every notification the receiver accepted, in order."""
    return [a["status"] for r in rx.accepted for a in r["json"]["alerts"] if a["rule"] == rule]


def damage(state: Path, how: str) -> None:
    if how == "deleted":
        state.unlink()
    elif how == "truncated":
        state.write_bytes(state.read_bytes()[: len(state.read_bytes()) // 2])
    elif how == "null":
        state.write_text("null")
    elif how == "old_version":  # a snapshot from before snapshot_version existed
        state.write_text('{"engine": {}, "rules": null, "last_rule_tick": 0}')


@pytest.mark.parametrize(
    "restart", ["clean", "same", "rule_removed", "deleted", "truncated", "null", "old_version"]
)
async def test_sigkill_after_a_fire_then_restart_agrees(tmp_path: Path, restart: str) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n" + RULE + OTHER)
    state = tmp_path / "state" / "pipeline.json"
    rx = Receiver()
    async with serve(rx), ExchangeSimulator([BinanceUsdmSim()]) as sim:
        cfg = write_config(
            tmp_path,
            sim.url,
            rules,
            f"    - {{type: webhook, name: desk, url: '{rx.url}/hook'}}\n",
            "    - {receiver: desk, group_wait_s: 0.1, group_by: [alertname]}\n",
        )
        first = await DaemonProc(cfg, tmp_path / "run1.log").start()
        try:
            await eventually(lambda: subscribed(sim), timeout_s=30, what="daemon subscribed")
            publish_long_liquidations(sim, 2e6)
            await eventually(lambda: statuses(rx, LONG) == ["firing"], timeout_s=30, what="fire")
            await asyncio.sleep(1.0)  # the point of the test: SIGKILL a second after the fire
        finally:
            if restart == "clean":
                assert await first.stop() == 0
            else:
                await first.kill()
        fired = store_firing(tmp_path / "riskmon.db")
        assert len(fired) == 1

        if restart == "rule_removed":
            rules.write_text("rules:\n" + OTHER)
        elif restart not in ("same", "clean"):
            damage(state, restart)
        second = await DaemonProc(cfg, tmp_path / "run2.log").start()
        try:
            await eventually(
                lambda: second.logged("daemon.started"), timeout_s=30, what="restarted"
            )
            if restart not in ("same", "clean"):
                await eventually(
                    lambda: statuses(rx, LONG) == ["firing", "resolved"],
                    timeout_s=30,
                    what="the resolution",
                )
            else:  # the fire is remembered: nothing resolves, nothing is announced again
                await eventually(lambda: second.logged("alerts.reconciled"), timeout_s=30)
        finally:
            assert await second.stop() == 0
    reconciled = next(e for e in second.logs() if e["event"] == "alerts.reconciled")
    store_set = store_firing(tmp_path / "riskmon.db")
    assert store_set == evaluator_firing(state, str(rules))
    if restart in ("same", "clean"):
        assert store_set == fired
        assert statuses(rx, LONG) == ["firing"]
        assert reconciled["resolved"] == 0
        assert reconciled["announced"] == 0
    else:
        assert store_set == set()
        assert statuses(rx, LONG) == ["firing", "resolved"]  # told once
        assert reconciled["resolved"] == 1
    assert rx.duplicates == 0


async def test_broken_receiver_meta_alert_resolves_after_restart(tmp_path: Path) -> None:
    """A receiver answering 400 raises the meta-alert; fixed, a restart delivers and resolves it."""
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n" + RULE)
    desk = Receiver(script=[(400, {}, "bad channel")] * 100)
    ops = Receiver()
    meta = fingerprint(META, {"receiver": "desk", "severity": "critical", "category": "meta"})
    async with serve(desk), serve(ops), ExchangeSimulator([BinanceUsdmSim()]) as sim:
        cfg = write_config(
            tmp_path,
            sim.url,
            rules,
            f"    - {{type: webhook, name: desk, url: '{desk.url}/hook'}}\n"
            f"    - {{type: webhook, name: ops, url: '{ops.url}/hook'}}\n",
            # group_interval short: after the restart the ops group's first flush finds the
            # firing already notified (no message), and the resolution, which may land just
            # after that flush, then waits group_interval, as Alertmanager's would (default 5 min)
            "    - {receiver: desk, group_wait_s: 0.1, group_interval_s: 0.5, continue: true}\n"
            "    - {receiver: ops, group_wait_s: 0.1, group_interval_s: 0.5}\n",
        )
        first = await DaemonProc(cfg, tmp_path / "run1.log").start()
        try:
            await eventually(lambda: subscribed(sim), timeout_s=30, what="daemon subscribed")
            publish_long_liquidations(sim, 2e6)
            await eventually(lambda: statuses(ops, META) == ["firing"], timeout_s=30)
        finally:
            await first.kill()
        assert meta in store_firing(tmp_path / "riskmon.db")
        assert desk.accepted == []
        desk.script.clear()  # the receiver is fixed

        second = await DaemonProc(cfg, tmp_path / "run2.log").start()
        try:
            await eventually(
                lambda: statuses(ops, META) == ["firing", "resolved"],
                timeout_s=30,
                what="the meta-alert resolved",
            )
            await eventually(lambda: statuses(desk, LONG) == ["firing"], timeout_s=30)
        finally:
            assert await second.stop() == 0
    assert meta not in store_firing(tmp_path / "riskmon.db")
    store = Store.open(tmp_path / "riskmon.db")
    try:
        assert [r.state for r in store.outbox("desk")].count("pending") == 0
    finally:
        store.close()
