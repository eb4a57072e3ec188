"""The backtest report as a person reads it: in headless Chromium at 1400 px, and its alert table.

The report is rendered from a short capture (the cascade scenario as Binance frames), so the test
stays fast; the layout checks do not depend on the episode.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from alerts.model import AlertNotice
from monitor.backtest.charts import PRICE_CHART, alert_markers
from monitor.backtest.report import write_report
from monitor.backtest.result import BacktestResult
from monitor.backtest.run import backtest_capture
from monitor.backtest.summary import WARMUP_NS, alert_table, format_table, summary
from streams.units import NS_PER_MINUTE, NS_PER_SECOND
from tests.test_deploy.tools import tool
from tests.test_monitor.test_replay import write_cascade_capture

WIDTH = 1400
_MEASURE = (
    "<script>window.addEventListener('load', () => document.body.setAttribute("
    "'data-scroll-width', document.documentElement.scrollWidth))</script>"
)


@pytest.fixture(scope="module", name="report")
def _report(tmp_path_factory: pytest.TempPathFactory) -> tuple[BacktestResult, str]:
    tmp = tmp_path_factory.mktemp("report")
    result = backtest_capture(write_cascade_capture(tmp / "cascade.jsonl"))
    path = tmp / "report.html"
    write_report(result, path)
    return result, path.read_text(encoding="utf-8")


def _scroll_width(page: str, tmp_path: Path) -> int:
    """``document.documentElement.scrollWidth`` of ``page`` in headless Chromium, WIDTH px wide."""
    probe = tmp_path / "probe.html"
    probe.write_text(page.replace("</body>", _MEASURE + "</body>"), encoding="utf-8")
    proc = subprocess.run(
        [
            tool("chromium"),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            f"--window-size={WIDTH},900",
            "--virtual-time-budget=10000",
            "--dump-dom",
            probe.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    found = re.search(r'data-scroll-width="(\d+)"', proc.stdout)
    assert found, proc.stdout[:2000]
    return int(found.group(1))


def test_the_report_does_not_scroll_sideways_at_1400_px(
    report: tuple[BacktestResult, str], tmp_path: Path
) -> None:
    _, page = report
    assert _scroll_width(page, tmp_path) <= WIDTH


def test_the_measurement_sees_a_page_that_does_scroll_sideways(tmp_path: Path) -> None:
    """The probe itself: a 2000 px wide element is measured as wider than the window."""
    page = "<html><body><div style='width:2000px'>wide</div></body></html>"
    assert _scroll_width(page, tmp_path) > WIDTH


def test_long_summaries_wrap_instead_of_widening_the_table(
    report: tuple[BacktestResult, str], tmp_path: Path
) -> None:
    result, _ = report
    long = "a summary that goes on " * 40
    result.notices.append(
        AlertNotice(
            status="firing",
            rule="a_rule_with_a_long_summary",
            severity="warning",
            labels={"asset": "BTC", "venue": "binance-usdm", "window": "1h"},
            value=1.0,
            starts_at=result.end_ns,
            ends_at=None,
            fingerprint="long-summary",
            summary=long,
        )
    )
    try:
        path = tmp_path / "long.html"
        write_report(result, path)
        page = path.read_text(encoding="utf-8")
    finally:
        result.notices.pop()
    assert long.strip() in page
    assert _scroll_width(page, tmp_path) <= WIDTH


def test_every_marker_on_the_price_chart_is_listed(report: tuple[BacktestResult, str]) -> None:
    result, page = report
    markers = alert_markers(result)
    assert markers
    assert [m.number for m in markers] == list(range(1, len(markers) + 1))
    marked = [r for m in markers for r in m.rows]
    assert marked == [r for r in alert_table(result) if r.severity != "info"]
    assert f'<img alt="{PRICE_CHART}"' in page
    legend = page[page.index("<table class='markers'>") :]
    legend = legend[: legend.index("</table>")]
    for m in markers:
        assert f"<span class='dot {m.severity}'>{m.number}</span>" in legend
        for r in m.rows:
            assert r.rule in legend


def _notice(rule: str, severity: str, starts_at: int) -> AlertNotice:
    return AlertNotice(
        status="firing",
        rule=rule,
        severity=severity,  # type: ignore[arg-type]
        labels={"asset": "BTC"},
        value=1.0,
        starts_at=starts_at,
        ends_at=None,
        fingerprint=f"{rule}-{severity}",
        summary=f"{rule} fired",
    )


def test_lead_time_only_for_alerts_that_began_inside_the_streamed_window() -> None:
    """An alert whose condition held at the start (fired one `for` later) has no lead time."""
    start = 1_763_700_000 * NS_PER_SECOND
    worst = start + 60 * NS_PER_MINUTE
    result = BacktestResult(
        scenario="unit",
        source="scenario",
        rules="november-2025",
        seed=7,
        description="",
        start_ns=start,
        end_ns=start + 120 * NS_PER_MINUTE,
        worst_ns=worst,
        rule_for_ns={("drawdown", "critical"): 5 * NS_PER_MINUTE, ("burst", "warning"): 0},
    )
    result.notices += [
        _notice("drawdown", "critical", start + 5 * NS_PER_MINUTE + 2 * NS_PER_SECOND),
        _notice("burst", "warning", start + WARMUP_NS + 30 * NS_PER_MINUTE),
    ]
    rows = {r.rule: r for r in alert_table(result)}
    assert rows["drawdown"].began_before_start
    assert rows["drawdown"].lead_s is None
    assert not rows["burst"].began_before_start
    assert rows["burst"].lead_s == (worst - (start + WARMUP_NS + 30 * NS_PER_MINUTE)) / 1e9
    table = {t["rule"]: t for t in summary(result)["table"]}
    assert table["drawdown"]["began_before_start"] is True
    assert table["drawdown"]["lead_s"] is None
    assert "at start" in format_table(result)
