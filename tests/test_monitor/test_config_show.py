"""``riskmon config show`` as a user runs it: a process, a file, the environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from monitor.venues import VENUE_MODULES, get_venue

SECRET = "https://hooks.slack.com/services/T000/B000/do-not-print-me"


def _show(tmp_path: Path, config: str | None, **env: str) -> subprocess.CompletedProcess[str]:
    args = [sys.executable, "-m", "monitor.cli", "config", "show"]
    if config is not None:
        path = tmp_path / "riskmon.yaml"
        path.write_text(config, encoding="utf-8")
        args += ["--config", str(path)]
    environ = {k: v for k, v in os.environ.items() if not k.startswith("RISKMON_")}
    return subprocess.run(
        args, capture_output=True, text=True, timeout=60, env={**environ, **env}, check=False
    )


def _load(proc: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert proc.returncode == 0, proc.stderr
    data = yaml.safe_load(proc.stdout)
    assert isinstance(data, dict)
    return data


def test_defaults_list_every_venue_with_its_resolved_symbols_and_streams(tmp_path: Path) -> None:
    data = _load(_show(tmp_path, None))
    assert list(data["venues"]) == list(VENUE_MODULES)
    for vid, shown in data["venues"].items():
        spec = get_venue(vid)
        assert shown["symbols"] == list(spec.default_symbols)
        assert shown["symbols_source"] == "venue defaults"
        assert set(shown["streams"]) == set(spec.channels)
        whole_market = spec.all_market_channels | spec.listed_channels
        for channel, symbols in shown["streams"].items():
            if channel == "liquidations" and channel in whole_market:  # the default all_market
                assert symbols == ["*"], vid
            else:
                assert symbols == list(spec.default_symbols), (vid, channel)
        assert shown["endpoints"] == {"ws": spec.endpoints.ws, "rest": spec.endpoints.rest}
    assert data["venues"]["hyperliquid"]["not_published"] == ["liquidations"]
    assert data["alerting"]["pack"] == "november-2025"


def test_file_and_environment_are_merged_and_secrets_redacted(tmp_path: Path) -> None:
    config = f"""
simulator: http://127.0.0.1:8765
metrics: {{port: 9470}}
venues:
  kraken: {{enabled: false}}
  binance-usdm: {{symbols: [BTCUSDT], all_market: true}}
alerting:
  receivers:
    - {{type: slack, name: desk, url: "{SECRET}"}}
"""
    proc = _show(tmp_path, config, RISKMON_METRICS__PORT="9501", RISKMON_STORE="/data/x.db")
    data = _load(proc)
    assert SECRET not in proc.stdout
    assert "do-not-print-me" not in proc.stderr
    assert data["alerting"]["receivers"][0]["url"] == "**********"
    assert data["metrics"]["port"] == 9501  # the variable wins over the file
    assert data["store"] == "/data/x.db"
    assert data["alerting"]["db_path"] == "/data/x.db"
    assert data["venues"]["kraken"] == {"enabled": False}
    usdm = data["venues"]["binance-usdm"]
    assert usdm["symbols_source"] == "config"
    assert usdm["streams"]["liquidations"] == ["*"]
    assert usdm["streams"]["trades"] == ["BTCUSDT"]
    assert usdm["endpoints"]["ws"] == "ws://127.0.0.1:8765/binance-usdm"


def test_a_bad_config_is_one_line_and_exit_2(tmp_path: Path) -> None:
    proc = _show(tmp_path, "venues: {nowhere: {}}\n")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "nowhere" in proc.stderr
