"""``riskmon demo``: a scenario over real websockets through the full daemon, and its live view."""

from __future__ import annotations

import io
import json
import subprocess
import sys

from rich.console import Console

from alerts.model import AlertNotice
from monitor.demo.run import run_demo
from monitor.demo.view import DemoState, DemoView, format_usd, sparkline
from monitor.simulator.scenarios import get_scenario
from streams.signals import Signal

NS = 1_000_000_000
T0 = 1_763_712_000 * NS  # 2025-11-21 08:00 UTC


async def test_demo_plays_a_multi_venue_scenario_over_websockets() -> None:
    """november-2025-morning at 120x: every venue subscribes, nothing is skipped, alerts fire."""
    out = io.StringIO()
    seen: list[int] = []
    result = await run_demo(
        "november-2025-morning",
        speed=120.0,
        out=out,
        on_signals=lambda sigs: seen.append(len(sigs)),
    )
    info = get_scenario("november-2025-morning").info
    assert result.venues_subscribed == sorted(info.symbols)
    assert result.frames_skipped == 0
    assert result.events_processed > 0.9 * result.events_published
    fired = {(n.rule, n.severity) for n in result.notices if n.status == "firing"}
    assert ("liquidations_1h", "critical") in fired
    assert ("price_fast_move_10m", "warning") in fired
    assert ("price_drawdown", "critical") in fired  # needs the backfilled 90-day high
    # the desk's JSON lines: what the alert path delivered (after grouping and inhibition)
    lines = [json.loads(x) for x in out.getvalue().splitlines()]
    assert len(lines) == len(result.delivered) > 0
    delivered = {(a["rule"], a["severity"]) for a in lines if a["status"] == "firing"}
    assert ("liquidations_1h", "critical") in delivered
    assert ("price_drawdown", "warning") not in delivered  # inhibited by its critical level
    assert delivered <= fired
    assert sum(seen) > 0
    for n in result.notices:  # event time stays in the scenario, never the wall clock
        assert info.start_ns <= n.starts_at <= info.end_ns + 3600 * NS


def test_cli_demo_prints_json_lines_when_not_a_terminal() -> None:
    """Without a TTY the demo prints plain alert JSON lines and a summary on stderr."""
    proc = subprocess.run(
        [sys.executable, "-m", "monitor.cli", "demo", "--scenario", "cascade", "--speed", "900"],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    alerts = [json.loads(x) for x in proc.stdout.splitlines()]
    assert any(a["rule"] == "liquidations_1h" for a in alerts)
    assert "first firing of each alert" in proc.stderr
    assert "riskmon demo: done in" in proc.stderr


def _notice(rule: str, severity: str, status: str = "firing", **labels: str) -> AlertNotice:
    return AlertNotice(
        status=status,  # type: ignore[arg-type]
        rule=rule,
        severity=severity,  # type: ignore[arg-type]
        labels={"alertname": rule, **labels},
        value=1.0,
        starts_at=T0,
        ends_at=None if status == "firing" else T0 + 60 * NS,
        fingerprint=f"{rule}-{severity}",
        summary=f"{rule} summary",
    )


def test_view_shows_prices_oi_liquidations_pegs_and_alerts() -> None:
    """The live view renders the latest figures, per-minute liquidations and firing alerts."""
    info = get_scenario("november-2025-morning").info
    console = Console(record=True, width=160, file=io.StringIO())
    view = DemoView(info, 600.0, console)
    sig = [
        Signal("price_ref", {"asset": "BTC"}, 81_750.0, T0),
        Signal("price_drawdown_pct", {"asset": "BTC"}, -35.2, T0),
        Signal("oi_usd", {"asset": "BTC", "venue": "all"}, 61.2e9, T0),
        Signal("oi_drawdown_pct", {"asset": "BTC"}, -34.9, T0),
        Signal("peg_median_deviation_bps", {"coin": "USDT"}, 2.0, T0),
        Signal("peg_deviation_bps", {"coin": "USDT", "venue": "kraken"}, 3.0, T0),
        Signal("liq_usd", {"asset": "all", "side": "long", "window": "1m"}, 36e6, T0),
        Signal("liq_usd", {"asset": "all", "side": "short", "window": "1m"}, 1e6, T0),
        Signal("liq_usd", {"asset": "all", "side": "all", "window": "1h"}, 900e6, T0),
        Signal("price_ref", {"asset": "BTC"}, 81_800.0, T0 + 61 * NS),
    ]
    with view:
        view.on_signals(sig)
        view.on_notices([_notice("deleveraging_event", "critical", asset="BTC")])
        view.on_notices([_notice("price_fast_move_10m", "warning", asset="BTC")])
        view.on_notices([_notice("price_fast_move_10m", "warning", status="resolved")])
    text = console.export_text()
    assert "81,800.00" in text
    assert "-34.9%" in text
    assert "$61.20B" in text
    assert "$900.0M" in text
    assert "kraken +3" in text
    assert "CRITICAL  deleveraging_event" in text  # printed as it fired
    assert "Firing alerts (1)" in text
    assert list(view.state.liq_minutes) == [(T0, 36e6, 1e6)]


def test_state_and_formatting_helpers() -> None:
    """USD amounts and sparklines format for a terminal."""
    assert format_usd(1.234e9) == "$1.23B"
    assert format_usd(45.6e6) == "$45.6M"
    assert format_usd(None) == "-"
    assert sparkline([0.0, 5.0, 10.0]) == " ▄█"
    st = DemoState()
    st.on_notices([_notice("a", "info")])
    assert "a-info" in st.firing
    st.on_notices([_notice("a", "info", status="resolved")])
    assert st.firing == {}
