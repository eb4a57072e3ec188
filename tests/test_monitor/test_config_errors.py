"""A bad config names the offending field by its full path, in every section, in one line; the
CLI prints that line and exits with status 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from monitor.settings import ConfigError, load_settings
from monitor.wiring import alert_settings

CASES = [
    # (config text, the field path and message expected in the one-line error)
    ("metrics: {port: 99999}\n", "metrics.port: Input should be less than or equal to 65535"),
    ("venues: {binance-usdm: {symbols: BTCUSDT}}\n", "venues.binance-usdm.symbols: Input should"),
    ("venues: {binance-usdm: {colour: red}}\n", "venues.binance-usdm.colour: unknown field"),
    ("bus: {kind: kafka, brokers: []}\n", "bus.brokers: "),
    ("log_level: loud\n", "log_level: Input should be"),
    ("snapshot_interval_s: -1\n", "snapshot_interval_s: Input should be greater than 0"),
]

ALERTING_CASES = [
    (
        "alerting:\n  receivers:\n    - {type: pager, name: p}\n",
        "alerting.receivers[0]: Input tag 'pager' found using 'type' does not match",
    ),
    (
        "alerting:\n  receivers:\n    - {type: email, name: m, sender: a@b.c, to: [x@y.z]}\n",
        "alerting.receivers[0].host: Field required",
    ),
    (
        "alerting:\n  receivers:\n    - {type: console}\n"
        "    - {type: slack, name: s, url: 'http://x', url_file: /run/secrets/s}\n",
        "alerting.receivers[1]: give either url or url_file, not both",
    ),
    (
        "alerting:\n  routes:\n    - {receiver: console, group_wait_s: soon}\n",
        "alerting.routes[0].group_wait_s: Input should be a valid number",
    ),
    (
        "alerting:\n  routes:\n    - {receiver: nobody}\n",
        "alerting: route to unknown receiver 'nobody'",
    ),
    ("alerting: {outbox_retention_days: 0}\n", "alerting.outbox_retention_days: Input should be"),
    ("alerting: {recievers: []}\n", "alerting.recievers: unknown field"),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_settings_errors_name_the_field(tmp_path: Path, text: str, expected: str) -> None:
    cfg = tmp_path / "riskmon.yaml"
    cfg.write_text(text)
    with pytest.raises(ConfigError) as e:
        load_settings(cfg)
    msg = str(e.value)
    assert "\n" not in msg
    assert msg.startswith(f"{cfg}: ")
    assert expected in msg, msg


@pytest.mark.parametrize(("text", "expected"), ALERTING_CASES)
def test_alerting_errors_name_the_field(tmp_path: Path, text: str, expected: str) -> None:
    cfg = tmp_path / "riskmon.yaml"
    cfg.write_text(text)
    settings = load_settings(cfg)
    with pytest.raises(ConfigError) as e:
        alert_settings(settings)
    msg = str(e.value)
    assert "\n" not in msg
    assert "validation error" not in msg
    assert expected in msg, msg


def test_cli_prints_one_line_and_exits_2(tmp_path: Path) -> None:
    cfg = tmp_path / "riskmon.yaml"
    cfg.write_text(
        f"store: {tmp_path / 'r.db'}\nstate_dir: {tmp_path / 'state'}\n"
        "metrics: {enabled: false}\n"
        "alerting:\n  receivers:\n    - {type: slack, name: desk, timeout: 3}\n"
    )
    proc = subprocess.run(
        [sys.executable, "-m", "monitor.cli", "run", "--config", str(cfg)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0] == (f"riskmon: error: {cfg}: alerting.receivers[0].timeout: unknown field"), (
        lines[0]
    )


def test_readme_configuration_example_is_valid(tmp_path: Path) -> None:
    """The README's configuration section (receivers, routes, secret files) loads as written."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Configuration", 1)[1]
    example = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    cfg = tmp_path / "riskmon.yaml"
    cfg.write_text(example)
    alerting = alert_settings(load_settings(cfg))
    assert [r.type for r in alerting.receivers] == ["slack", "email"]
    assert [r.receiver for r in alerting.routes] == ["desk-slack", "desk-mail"]
    assert alerting.runbook_base_url.startswith("https://")
