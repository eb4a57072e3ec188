"""`rules check` knows the signals: unknown signal, label, label value or template field is an
error located at FILE:LINE:COLUMN (from the signal catalogue docs/signals.md is generated from)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from alerts.rules import RuleError, available_packs, load_pack, load_rules_text

BAD = """\
rules:
  - name: liq_typo
    signal: liq_ussd
    level: warning
    threshold: 1
  - name: liq_window
    signal: liq_usd
    match: {asset: all, side: all, window: 2h}
    level: warning
    threshold: 750e6
    annotations: {summary: "Liquidations {valu_h} in 2 h"}
  - name: comp
    level: warning
    on: [asset]
    all_of:
      - {id: z, signal: liq_burst_z, op: ">=", threshold: 3.5}
      - {id: p, signal: peg_venues_deviating, match: {threshold: "=~50", colour: red},
         op: ">=", threshold: 3}
    annotations: {summary: "{asset} z {z:.1f} {x}"}
  - name: gone
    level: warning
    absent: {signal: price_ref, match: {venue: binance}, after: 5m}
"""


def test_every_catalogue_problem_is_located() -> None:
    with pytest.raises(RuleError) as ei:
        load_rules_text(BAD, "bad.yaml")
    got = [str(p) for p in ei.value.problems]
    assert got == [
        "bad.yaml:3:5: rules[0](liq_typo).signal: unknown signal 'liq_ussd' (did you mean one of:"
        " liq_usd, liq_count, liq_long_share, liq_burst_z, liq_saturated_seconds,"
        " liq_window_covered, liq_coverage_share?); see docs/signals.md",
        "bad.yaml:8:36: rules[1](liq_window).match.window: liq_usd has no window='2h'"
        " (values: 1m, 5m, 1h, 24h)",
        "bad.yaml:11:19: rules[1](liq_window).annotations.summary: unknown template field(s)"
        " {valu_h} (known: asset, severity, side, tier, window, value, threshold, peak and _h"
        " forms)",
        "bad.yaml:17:55: rules[2](comp).all_of[1].match.threshold: '50' matches no threshold of"
        " peg_venues_deviating (values: 30, 100, 300)",
        "bad.yaml:17:74: rules[2](comp).all_of[1].match.colour: peg_venues_deviating has no label"
        " 'colour' (labels: coin, threshold)",
        "bad.yaml:17:17: rules[2](comp).all_of[1].signal: peg_venues_deviating has no label asset"
        " to join on",
        "bad.yaml:19:19: rules[2](comp).annotations.summary: unknown template field(s) {x}"
        " (known: asset, p, severity, tier, z, value, threshold, peak and _h forms)",
        "bad.yaml:22:41: rules[3](gone).absent.match.venue: price_ref has no label 'venue'"
        " (labels: asset)",
    ]


def test_allowed_values_lists_and_regexes_pass() -> None:
    rs = load_rules_text(
        """\
rules:
  - name: liq
    signal: liq_usd
    match: {side: [long, short], window: "=~1h|24h", asset: "!=all"}
    level: warning
    threshold: 1e6
    annotations: {summary: "{asset} {side} {value_h} in {window} >= {threshold_h}"}
""",
        "ok.yaml",
    )
    assert len(rs) == 1


@pytest.mark.parametrize("pack", available_packs())
def test_packaged_packs_pass_the_catalogue(pack: str) -> None:
    assert len(load_pack(pack)) > 0


def test_rules_check_cli_exits_1_with_located_errors(tmp_path: Path) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text(BAD)
    proc = subprocess.run(
        [sys.executable, "-m", "monitor.cli", "rules", "check", str(f)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 1
    assert f"{f}:8:36: rules[1](liq_window).match.window: liq_usd has no window='2h'" in (
        proc.stderr
    )
    assert "Traceback" not in proc.stderr
