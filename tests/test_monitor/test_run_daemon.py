"""`riskmon run` as a real process against the simulator: metrics, signals, clean SIGTERM."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import sys
from pathlib import Path

import aiohttp

from monitor.simulator.server import ExchangeSimulator
from monitor.simulator.venues.binance_usdm import BinanceUsdmSim
from streams.events import Liquidation, Trade
from tests.helpers import btc_funding, eventually

V = "binance-usdm"
T = 1_763_714_000_000_000_000


async def spawn_run(cfg: Path) -> asyncio.subprocess.Process:
    """Start `riskmon run --config cfg` as a real process with piped output."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "monitor.cli",
        "run",
        "--config",
        str(cfg),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def test_run_serves_metrics_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    """The daemon connects, exports signals on /metrics, logs JSON, and saves state on SIGTERM."""
    port = free_port()
    async with ExchangeSimulator([BinanceUsdmSim()]) as sim:
        cfg = tmp_path / "riskmon.yaml"
        cfg.write_text(
            f"venues:\n  binance-usdm: {{symbols: [BTCUSDT], channels: [trades, liquidations, "
            f"funding]}}\nsimulator: {sim.url}\nstate_dir: {tmp_path / 'state'}\n"
            f"store: {tmp_path / 'riskmon.db'}\nmetrics: {{host: 127.0.0.1, port: {port}}}\n"
        )
        proc = await spawn_run(cfg)
        try:
            await eventually(
                lambda: any(s.subscriptions for s in sim.sessions(V)),
                timeout_s=30,
                what="daemon subscribed",
            )
            for i in range(30):
                ts = T + i * 1_000_000_000
                sim.publish(
                    Trade(
                        venue=V,
                        symbol="BTCUSDT",
                        instrument="BTC-USDT-PERP",
                        asset="BTC",
                        ts_event=ts,
                        ts_recv=0,
                        price=85_000.0,
                        size=1.0,
                        notional_usd=85_000.0,
                        side="sell",
                    )
                )
                sim.publish(btc_funding(ts, 85_000.0))
            sim.publish(
                Liquidation(
                    venue=V,
                    symbol="BTCUSDT",
                    instrument="BTC-USDT-PERP",
                    asset="BTC",
                    ts_event=T + 10_000_000_000,
                    ts_recv=0,
                    price=85_000.0,
                    size=2.0,
                    notional_usd=170_000.0,
                    side="long",
                )
            )
            text = ""
            async with aiohttp.ClientSession() as http:
                for _ in range(300):
                    async with http.get(f"http://127.0.0.1:{port}/metrics") as r:
                        text = await r.text()
                    if 'riskmon_liq_usd{asset="BTC",side="long",window="1h"} 170000.0' in text:
                        break
                    await asyncio.sleep(0.05)
                async with http.get(f"http://127.0.0.1:{port}/healthz") as r:
                    health = await r.json()
            assert 'riskmon_liq_usd{asset="BTC",side="long",window="1h"} 170000.0' in text
            assert 'riskmon_feed_events_total{type="trade",venue="binance-usdm"} 30.0' in text
            assert health["status"] == "ok"
            assert health["events"] >= 61
        finally:
            proc.send_signal(signal.SIGTERM)
            _, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0
    logs = [json.loads(line) for line in err.decode().splitlines() if line.strip()]
    events = [entry["event"] for entry in logs]
    assert "daemon.started" in events
    assert "daemon.stopped" in events
    assert all("level" in entry and "timestamp" in entry for entry in logs)
    state = json.loads((tmp_path / "state" / "pipeline.json").read_text())
    assert state["engine"]["watermark_ns"] >= T + 29_000_000_000


async def test_run_delivers_to_slack_and_keeps_history(tmp_path: Path) -> None:
    """A liquidation burst through `riskmon run` reaches a Slack webhook and the alert store."""
    from aiohttp import web

    received: list[dict[str, object]] = []

    async def slack(request: web.Request) -> web.Response:
        received.append(await request.json())
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hook", slack)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    slack_port = free_port()
    await web.TCPSite(runner, "127.0.0.1", slack_port).start()
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "rules:\n"
        "  - name: long_liquidations_1h\n"
        "    signal: liq_usd\n"
        "    match: {asset: all, side: long, window: 1h}\n"
        "    op: '>='\n"
        "    level: critical\n"
        "    threshold: 1e6\n"
        "    annotations: {summary: 'Longs liquidated {value_h} in 1 h'}\n"
    )
    db = tmp_path / "riskmon.db"
    async with ExchangeSimulator([BinanceUsdmSim()]) as sim:
        cfg = tmp_path / "riskmon.yaml"
        cfg.write_text(
            f"venues:\n  binance-usdm: {{symbols: [BTCUSDT], channels: [trades, liquidations]}}\n"
            f"simulator: {sim.url}\nstate_dir: {tmp_path / 'state'}\nstore: {db}\n"
            f"rules: {rules}\nmetrics: {{enabled: false}}\n"
            "alerting:\n"
            "  receivers:\n"
            f"    - {{type: slack, name: desk, url: 'http://127.0.0.1:{slack_port}/hook'}}\n"
            "  routes:\n"
            "    - {receiver: desk, group_wait_s: 0.2, group_by: [alertname]}\n"
        )
        proc = await spawn_run(cfg)
        try:
            await eventually(
                lambda: any(s.subscriptions for s in sim.sessions(V)),
                timeout_s=30,
                what="daemon subscribed",
            )
            for i in range(5):
                sim.publish(
                    Liquidation(
                        venue=V,
                        symbol="BTCUSDT",
                        instrument="BTC-USDT-PERP",
                        asset="BTC",
                        ts_event=T + i * 1_000_000_000,
                        ts_recv=0,
                        price=80_000.0,
                        size=5.0,
                        notional_usd=400_000.0,
                        side="long",
                    )
                )
            sim.publish(
                Trade(
                    venue=V,
                    symbol="BTCUSDT",
                    instrument="BTC-USDT-PERP",
                    asset="BTC",
                    ts_event=T + 7_000_000_000,
                    ts_recv=0,
                    price=80_000.0,
                    size=1.0,
                    notional_usd=80_000.0,
                    side="sell",
                )
            )
            await eventually(lambda: bool(received), timeout_s=30, what="a Slack message")
        finally:
            proc.send_signal(signal.SIGTERM)
            await asyncio.wait_for(proc.communicate(), 30)
            await runner.cleanup()
    assert proc.returncode == 0
    text = json.dumps(received[0])
    assert "long_liquidations_1h" in text
    assert "blocks" in received[0]
    assert "text" in received[0]
    hist = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "monitor.cli",
        "alerts",
        "list",
        "--json",
        "--db",
        str(db),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, _ = await hist.communicate()
    rows = [json.loads(x) for x in out.decode().splitlines()]
    assert [r["rule"] for r in rows] == ["long_liquidations_1h"]
    assert rows[0]["severity"] == "critical"
