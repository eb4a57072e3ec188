"""Coverage-aware thresholds: an episode as the live default configuration sees it fires the
same liquidation ladder as the simulator's whole-market version.

``--coverage live`` renders only the liquidations the default live feeds show (each venue's
factor of the whole market, Hyperliquid none) and runs the pipeline at their covered share
(``liq_coverage_share`` 0.72), so USD thresholds are compared with ``threshold × 0.72``.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from monitor.backtest.recorder import series_key
from monitor.backtest.result import BacktestResult
from monitor.backtest.run import backtest_scenario
from monitor.coverage import default_live_factors
from streams.coverage import covered_share

SHORT = "november-2025-morning"
#: The two runs draw different liquidation events (each venue's expected USD differs, so the
#: seeded sizes and seconds differ): a crossing can move by a minute or two. Here the burst rules
#: (robust z of the last 60 s, and the deleveraging composite that reads it) move by up to ~1.5
#: min; on the full november-2025 the largest shift is 132 s (a 24-hour sum crossing its
#: threshold at a shallow slope, docs/coverage.md).
TOLERANCE_S = 120.0

LIQ_RULES = {
    "liquidations_1h",
    "liquidations_24h",
    "liquidation_burst",
    "liquidation_long_share",
    "deleveraging_event",
}


@pytest.fixture(scope="module", name="runs")
def _runs() -> tuple[BacktestResult, BacktestResult]:
    return backtest_scenario(SHORT), backtest_scenario(SHORT, coverage="live")


def _first_fires(result: BacktestResult) -> dict[tuple[str, str, tuple[tuple[str, str], ...]], int]:
    out: dict[tuple[str, str, tuple[tuple[str, str], ...]], int] = {}
    for n in result.notices:
        if n.status != "firing":
            continue
        key = (n.rule, n.severity, tuple(sorted(n.labels.items())))
        out.setdefault(key, n.starts_at)
    return out


def test_live_coverage_fires_the_whole_market_ladder(
    runs: tuple[BacktestResult, BacktestResult],
) -> None:
    """Same alerts (rule, severity, labels), each first fire within TOLERANCE_S."""
    whole, live = runs
    w, v = _first_fires(whole), _first_fires(live)
    assert {k for k in w if k[0] in LIQ_RULES} == {k for k in v if k[0] in LIQ_RULES}
    assert set(w) == set(v)
    assert whole.counts() == live.counts()
    assert ("liquidations_1h", "critical") in {(k[0], k[1]) for k in v}
    for key, ts in w.items():
        assert abs(v[key] - ts) / 1e9 <= TOLERANCE_S, key


def test_live_run_sees_only_the_covered_share(
    runs: tuple[BacktestResult, BacktestResult],
) -> None:
    """The live run's liquidated USD is ~72% of the whole market's; the signal says 0.72."""
    whole, live = runs
    share = covered_share(default_live_factors())
    assert share == pytest.approx(0.72)
    key = series_key("liq_usd", asset="all", side="all", window="24h")
    w_last = whole.recorder.series(key)[1][-1]
    v_last = live.recorder.series(key)[1][-1]
    assert v_last / w_last == pytest.approx(share, rel=0.1)
    _, cov = live.recorder.series(series_key("liq_coverage_share"))
    assert cov
    assert cov == [pytest.approx(share)] * len(cov)
    _, cov_whole = whole.recorder.series(series_key("liq_coverage_share"))
    assert set(cov_whole) == {1.0}
    # the text says it is an estimate, at which coverage
    (n,) = live.fired("liquidations_1h", "critical")
    assert "an estimate at 72% coverage" in n.summary
    assert live.scenario == f"{SHORT} (coverage live)"


def test_cli_refuses_coverage_without_an_episode() -> None:
    """--coverage live needs an episode scenario: a one-line error, exit 2."""
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "monitor.cli",
            "backtest",
            "--scenario",
            "cascade",
            "--coverage",
            "live",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 2
    assert "has no coverage variant" in proc.stderr
    assert "Traceback" not in proc.stderr
