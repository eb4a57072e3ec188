"""Issue 10 point 10: a silence added by `riskmon silence add` (its own process, finding the
store from the daemon's --config) mutes the running `riskmon run` within seconds."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from monitor.simulator.server import ExchangeSimulator
from monitor.simulator.venues.binance_usdm import BinanceUsdmSim
from tests.helpers import eventually
from tests.test_alerts.fakes import Receiver, serve

from .daemon_proc import DaemonProc, T, cli, publish_long_liquidations, subscribed

RULES = (
    "rules:\n"
    "  - name: long_liquidations_1h\n"
    "    signal: liq_usd\n"
    "    match: {asset: [BTC, ETH], side: long, window: 1h}\n"
    "    op: '>='\n"
    "    level: critical\n"
    "    threshold: 1e6\n"
)


def firing_assets(request: dict[str, Any]) -> list[str]:
    alerts = request["json"]["alerts"]
    return sorted(a["labels"]["asset"] for a in alerts if a["status"] == "firing")


async def test_a_silence_from_the_cli_mutes_the_running_daemon(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)
    rx = Receiver()
    async with serve(rx), ExchangeSimulator([BinanceUsdmSim()]) as sim:
        cfg = tmp_path / "riskmon.yaml"
        cfg.write_text(
            "venues:\n  binance-usdm: {symbols: [BTCUSDT, ETHUSDT], channels: [trades,"
            f" liquidations]}}\nsimulator: {sim.url}\nstate_dir: {tmp_path / 'state'}\n"
            f"store: {tmp_path / 'data' / 'riskmon.db'}\nrules: {rules}\n"
            "metrics: {enabled: false}\n"
            "alerting:\n  receivers:\n"
            f"    - {{type: webhook, name: desk, url: '{rx.url}/hook'}}\n"
            "  routes:\n    - {receiver: desk, group_by: [alertname], group_wait_s: 0.1,"
            " group_interval_s: 0.5, repeat_interval_s: 1}\n"
        )
        daemon = await DaemonProc(cfg, tmp_path / "run.log").start()
        try:
            await eventually(lambda: subscribed(sim), timeout_s=30, what="daemon subscribed")
            publish_long_liquidations(sim, 2e6, T, "BTC")
            publish_long_liquidations(sim, 2e6, T, "ETH")
            await eventually(
                lambda: len([r for r in rx.accepted if firing_assets(r) == ["BTC", "ETH"]]) >= 2,
                timeout_s=30,
                what="both alerts notified and repeated",
            )
            code, out, err = await cli(
                "silence", "add", "asset=BTC", "-d", "1h", "-c", "test", "--config", str(cfg)
            )
            assert code == 0, err
            assert len(out.strip()) == 12  # the silence id
            added = time.monotonic()
            seen = len(rx.accepted)
            await eventually(
                lambda: any(firing_assets(r) == ["ETH"] for r in rx.accepted[seen:]),
                timeout_s=30,
                what="a notification without the silenced alert",
            )
            muted_after_s = time.monotonic() - added
            first_muted = next(
                i for i, r in enumerate(rx.accepted) if i >= seen and firing_assets(r) == ["ETH"]
            )
        finally:
            assert await daemon.stop() == 0
    print(f"silence.muted_after_s={muted_after_s:.2f}")
    assert muted_after_s < 10.0  # the daemon re-reads silences every 5 s
    # once muted, BTC is never notified again while the silence lasts
    assert all(firing_assets(r) == ["ETH"] for r in rx.accepted[first_muted:])
