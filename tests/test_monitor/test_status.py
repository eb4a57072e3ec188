"""`riskmon status` against a real `riskmon run` process fed by the simulator."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path
from typing import Any, Literal

from monitor.simulator.server import ExchangeSimulator
from monitor.simulator.venues.binance_usdm import BinanceUsdmSim
from streams.events import Funding, Liquidation, Trade
from tests.helpers import eventually
from tests.test_monitor.test_run_daemon import free_port, spawn_run

V = "binance-usdm"
T = 1_763_714_000_000_000_000
S = 1_000_000_000


async def _riskmon(*args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "monitor.cli",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def _publish(sim: ExchangeSimulator) -> None:
    common: dict[str, Any] = {"venue": V, "symbol": "BTCUSDT", "instrument": "BTC-USDT-PERP"}
    for i in range(20):
        ts = T + i * S
        sim.publish(
            Trade(
                **common,
                asset="BTC",
                ts_event=ts,
                ts_recv=0,
                price=85_000.0,
                size=1.0,
                notional_usd=85_000.0,
                side="sell",
            )
        )
        sim.publish(
            Funding(
                **common,
                asset="BTC",
                ts_event=ts,
                ts_recv=0,
                rate=-0.0002,
                interval_h=8.0,
                rate_8h=-0.0002,
                mark_price=85_000.0,
                next_funding_ts=None,
            )
        )
    sides: tuple[Literal["long", "short"], ...] = ("long", "long", "long", "short")
    for i, side in enumerate(sides):
        sim.publish(
            Liquidation(**common, asset="BTC", ts_event=T + (5 + i) * S, ts_recv=0,
                        price=85_000.0, size=10.0, notional_usd=850_000.0, side=side)
        )  # fmt: skip


async def test_status_shows_feeds_signals_and_firing_alerts(tmp_path: Path) -> None:
    port = free_port()
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "rules:\n"
        "  - name: long_liquidations_1h\n"
        "    signal: liq_usd\n"
        "    match: {asset: all, side: long, window: 1h}\n"
        "    op: '>='\n"
        "    level: critical\n"
        "    threshold: 1e6\n"
        "    annotations: {summary: 'Longs liquidated {value_h} USD in 1 h'}\n"
    )
    async with ExchangeSimulator([BinanceUsdmSim()]) as sim:
        cfg = tmp_path / "riskmon.yaml"
        cfg.write_text(
            f"venues:\n  binance-usdm: {{symbols: [BTCUSDT], channels: [trades, liquidations, "
            f"funding]}}\nsimulator: {sim.url}\nstate_dir: {tmp_path / 'state'}\n"
            f"store: {tmp_path / 'riskmon.db'}\nrules: {rules}\n"
            f"metrics: {{host: 127.0.0.1, port: {port}}}\n"
        )
        proc = await spawn_run(cfg)
        try:
            await eventually(
                lambda: any(s.subscriptions for s in sim.sessions(V)),
                timeout_s=30,
                what="daemon subscribed",
            )
            _publish(sim)
            body: dict[str, Any] = {}
            for _ in range(100):
                rc, out, err = await _riskmon("status", "--config", str(cfg), "--json")
                assert rc == 0, err
                body = json.loads(out)
                liq = body["assets"].get("BTC", {}).get("liq_usd_1h")
                if body["alerts"] and liq == 3_400_000.0:
                    break
                await asyncio.sleep(0.1)
            table = await _riskmon("status", "--url", f"http://127.0.0.1:{port}")
            watched = await _watch_json(f"http://127.0.0.1:{port}", lines=2)
        finally:
            proc.send_signal(signal.SIGTERM)
            await asyncio.wait_for(proc.communicate(), 30)

    feed = body["feeds"][V]
    assert feed["state"] == "subscribed"
    assert set(feed["connections"].values()) == {"subscribed"}
    assert feed["age_s"] is not None
    assert {"trades", "funding"} <= set(feed["channels"])
    btc = body["assets"]["BTC"]
    assert btc["liq_usd_1h"] == 3_400_000.0
    assert btc["liq_usd_24h"] == 3_400_000.0
    assert btc["liq_long_share_1h"] == 0.75
    assert btc["funding_rate_8h"] == -0.0002
    assert btc["price_ref"] == 85_000.0
    assert btc["deleveraging_score"] is not None
    assert "oi_drawdown_pct" in btc
    assert "price_drawdown_pct" in btc
    [alert] = body["alerts"]
    assert alert["rule"] == "long_liquidations_1h"
    assert alert["severity"] == "critical"
    assert alert["labels"]["asset"] == "all"
    assert alert["starts_at"] >= T + 5 * S
    assert alert["age_s"] >= 0
    assert "Longs liquidated" in alert["summary"]
    assert body["events"] > 40

    first, second = watched
    assert first["feeds"][V]["state"] == second["feeds"][V]["state"] == "subscribed"
    assert second["now_ns"] > first["now_ns"]

    rc, out, err = table
    assert rc == 0, err
    for text in ("feeds", V, "subscribed", "assets", "BTC", "$3.4M", "75%", "firing alerts",
                 "long_liquidations_1h", "critical"):  # fmt: skip
        assert text in out, out


async def _watch_json(url: str, lines: int) -> list[dict[str, Any]]:
    """The first ``lines`` JSON lines of ``riskmon status --json --watch 0.2``, then SIGTERM."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "monitor.cli",
        "status",
        "--url",
        url,
        "--json",
        "--watch",
        "0.2",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    try:
        return [
            json.loads(await asyncio.wait_for(proc.stdout.readline(), 30)) for _ in range(lines)
        ]
    finally:
        proc.terminate()
        await proc.wait()


async def test_status_of_no_daemon_is_one_line_exit_2() -> None:
    port = free_port()
    rc, out, err = await _riskmon("status", "--url", f"http://127.0.0.1:{port}")
    assert rc == 2
    assert out == ""
    assert err.splitlines() == [
        f"riskmon: error: cannot reach the daemon at http://127.0.0.1:{port}/status: "
        "Connection refused"
    ]
