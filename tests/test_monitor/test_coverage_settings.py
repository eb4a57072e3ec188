"""The covered share of a configuration: venue factors, overrides, a fixed share, the simulator."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from monitor.coverage import default_live_factors, liquidation_venues, settings_coverage
from monitor.settings import CoverageSettings, Settings, VenueSettings
from streams.coverage import LIQ_COVERAGE


def test_default_config_covers_the_venues_with_liquidation_feeds() -> None:
    """Hyperliquid publishes no liquidations: it is not a liquidation venue and adds nothing."""
    s = Settings()
    assert "hyperliquid" not in liquidation_venues(s)
    assert set(liquidation_venues(s)) == set(default_live_factors())
    assert settings_coverage(s) == pytest.approx(
        sum(LIQ_COVERAGE[v].factor for v in liquidation_venues(s))
    )
    assert settings_coverage(s) == pytest.approx(0.72)


def test_overrides_fixed_share_and_simulator() -> None:
    venues = {
        "binance-usdm": VenueSettings(symbols=["BTCUSDT"]),
        "bybit-linear": VenueSettings(channels=["trades"]),  # no liquidations: not counted
    }
    assert settings_coverage(Settings(venues=venues)) == pytest.approx(0.30)
    over = CoverageSettings(venues={"binance-usdm": 0.5})
    assert settings_coverage(Settings(venues=venues, liquidation_coverage=over)) == 0.5
    fixed = CoverageSettings(share=0.9)
    assert settings_coverage(Settings(venues=venues, liquidation_coverage=fixed)) == 0.9
    assert settings_coverage(Settings(venues=venues, simulator="http://127.0.0.1:1")) == 1.0


def test_a_bad_share_is_a_one_line_config_error(tmp_path: Path) -> None:
    """share outside (0, 1]: `riskmon config show` exits 2 with the field named, no traceback."""
    cfg = tmp_path / "riskmon.yaml"
    cfg.write_text("liquidation_coverage: {share: 1.5}\n")
    proc = subprocess.run(
        [sys.executable, "-m", "monitor.cli", "config", "show", "--config", str(cfg)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 2
    assert "liquidation_coverage.share" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_kafka_workers_run_at_the_configurations_coverage() -> None:
    """`riskmon worker` builds each partition's processors with the configuration's share, so
    its liq_coverage_share (and the alerter's scaled thresholds) match `riskmon run`'s."""
    from monitor.kafka.cli import partition_factory
    from streams.processors.liquidations import LiquidationProcessor

    fixed = CoverageSettings(share=0.6)
    part = partition_factory(Settings(liquidation_coverage=fixed))(4)
    assert part.partition == 4
    [liq] = [p for p in part.engine.processors if isinstance(p, LiquidationProcessor)]
    assert liq.config.coverage_share == 0.6
    t0 = 1_763_700_000 * 1_000_000_000
    signals = part.engine.advance(t0) + part.engine.advance(t0 + 1_000_000_000)  # one tick
    assert [s.value for s in signals if s.name == "liq_coverage_share"] == [0.6]
