"""``riskmon backtest``: JSON and HTML output, determinism, captures, CLI errors."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from alerts.model import encode_alert
from monitor.backtest.run import backtest_capture, backtest_scenario
from monitor.backtest.summary import alert_table, format_table, summary
from monitor.capture import CaptureWriter
from monitor.cli import main
from monitor.simulator.scenarios import get_scenario
from monitor.simulator.venues.binance_usdm import BinanceUsdmSim

SHORT = "november-2025-morning"
RISKMON = [sys.executable, "-m", "monitor.cli"]


@pytest.fixture(scope="module", name="cli_run")
def _cli_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, object], Path]:
    """``riskmon backtest --scenario november-2025-morning --json --report`` run once."""
    out = tmp_path_factory.mktemp("bt") / "report.html"
    proc = subprocess.run(
        [*RISKMON, "backtest", "--scenario", SHORT, "--seed", "7", "--json", "--report", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "riskmon backtest: november-2025-morning" in proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 1
    return json.loads(lines[0]), out


def test_json_has_the_scenario_alerts_and_counts(cli_run: tuple[dict[str, object], Path]) -> None:
    """--json prints one object with scenario, alerts (alert JSON) and counts by severity."""
    data, _ = cli_run
    assert data["scenario"] == SHORT
    alerts = data["alerts"]
    assert isinstance(alerts, list)
    assert alerts
    assert set(alerts[0]) == {
        "status",
        "rule",
        "severity",
        "labels",
        "value",
        "starts_at",
        "ends_at",
        "fingerprint",
        "summary",
    }
    counts = data["counts"]
    assert isinstance(counts, dict)
    assert set(counts) == {"info", "warning", "critical"}
    firing = [a for a in alerts if a["status"] == "firing"]
    assert sum(counts.values()) == len(firing)
    rules = {(a["rule"], a["severity"]) for a in firing}
    assert ("liquidations_1h", "critical") in rules
    assert ("price_fast_move_10m", "warning") in rules


def test_same_seed_gives_identical_json(cli_run: tuple[dict[str, object], Path]) -> None:
    """A second run of the same scenario and seed gives byte-identical JSON; alerts as encoded."""
    data, _ = cli_run
    result = backtest_scenario(SHORT, seed=7)
    again = summary(result)
    assert json.dumps(again, sort_keys=True) == json.dumps(data, sort_keys=True)
    assert again["alerts"] == [json.loads(encode_alert(n)) for n in result.notices]
    rows = alert_table(result)
    assert rows
    assert rows == sorted(rows, key=lambda r: r.first_fire_ns)
    first = next(r for r in rows if r.rule == "liquidations_1h" and r.severity == "critical")
    assert first.lead_s is not None
    assert first.duration_s > 0
    assert "liquidations_1h" in format_table(result)


def test_another_seed_gives_another_stream() -> None:
    """Seeds change the generated stream (noise, sizes, timing)."""
    a = list(zip(range(500), get_scenario(SHORT, 7).events(), strict=False))
    b = list(zip(range(500), get_scenario(SHORT, 8).events(), strict=False))
    assert [e for _, e in a] != [e for _, e in b]


def test_html_report_is_self_contained_with_five_charts(
    cli_run: tuple[dict[str, object], Path],
) -> None:
    """--report writes one HTML file with the alert table, per-day table and embedded PNGs."""
    _, path = cli_run
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!doctype html>")
    assert "liquidations_1h" in text
    assert "Alerts per day by severity" in text
    pngs = re.findall(r'src="data:image/png;base64,([^"]+)"', text)
    assert len(pngs) == 5
    for p in pngs:
        assert base64.b64decode(p).startswith(b"\x89PNG")
    for title in (
        "Price with alert markers",
        "Open interest vs its 60-day peak",
        "Liquidations per minute, long vs short",
        "Stablecoin peg deviation by venue",
        "Funding, OI-weighted, per 8 h",
    ):
        assert title in text
    assert not re.search(r'(src|href)="(https?:)?//', text)


def test_capture_file_backtest(tmp_path: Path) -> None:
    """A capture file (Binance frames of the cascade) backtests like a scenario."""
    path = tmp_path / "cascade.jsonl"
    sim = BinanceUsdmSim()
    w = CaptureWriter(path)
    for ev in get_scenario("cascade").events():
        for topic, frame in sim.encode(ev):
            if not topic.startswith("!"):
                w.write("binance-usdm", frame, ev.ts_event + 5_000_000)
    w.close()
    result = backtest_capture(path)
    assert result.source == "capture"
    assert result.stats.skipped == {}
    assert result.fired("liquidations_1h", "critical")
    assert result.worst_ns is not None
    assert result.start_ns < result.worst_ns <= result.end_ns
    assert summary(result)["scenario"] == "cascade.jsonl"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["backtest"], "give either a capture FILE or --scenario NAME"),
        (["backtest", "--scenario", "mtgox-2014"], "unknown scenario 'mtgox-2014'"),
        (["backtest", "/no/such/file.jsonl"], "cannot read /no/such/file.jsonl"),
        (["backtest", "--scenario", SHORT, "--tick", "0"], "--tick must be positive"),
    ],
)
def test_cli_errors_are_one_line(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Bad input exits 2 with one error line, no traceback."""
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
