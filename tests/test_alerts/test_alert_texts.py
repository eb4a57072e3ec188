"""Alert texts are written for people and never contradict their rule: values in their unit,
value and threshold never the same number, composites quoted at the value that made them true,
peaks kept, and a resolution that says what the alert peaked at and when it cleared."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from alerts.evaluator import AlertEvaluator
from alerts.rules import load_pack, load_rules_text
from streams.signals import Signal

ROOT = Path(__file__).resolve().parents[2]
S = 1_000_000_000
T0 = 1_763_700_000 * S  # 2025-11-21 04:40:00 UTC
MIN = 60 * S


def _liq24(v: float, t: int) -> Signal:
    return Signal("liq_usd", {"asset": "all", "side": "all", "window": "24h"}, v, t)


def _pack(*names: str) -> AlertEvaluator:
    rs = load_pack("november-2025")
    return AlertEvaluator([r for r in rs.rules if r.name in names])


def test_value_and_threshold_never_render_as_the_same_number() -> None:
    ev = _pack("liquidations_24h")
    out = ev.on_signals([_liq24(750.4e6, T0)])
    assert [n.summary for n in out] == [
        "Liquidations ~$750.4M in 24 h (all assets; an estimate at 100% coverage; $750.4M seen),"
        " at or above $750M"
    ]


def test_scaled_liquidations_read_as_an_estimate_at_the_coverage() -> None:
    """At 72% coverage $864M seen is ~$1.2B whole-market: the $1B ladder step fires, its text
    gives estimate, coverage and the USD seen; value and peak are the estimate."""
    ev = _pack("liquidations_24h")
    cov = Signal("liq_coverage_share", {}, 0.72, T0)
    assert [n.severity for n in ev.on_signals([cov, _liq24(700e6, T0)])] == ["info"]  # ~$972M
    out = ev.on_signals([_liq24(864e6, T0 + MIN)])
    [warn] = [n for n in out if n.severity == "warning"]
    assert warn.summary == (
        "Liquidations ~$1.2B in 24 h (all assets; an estimate at 72% coverage; $864M seen),"
        " at or above $1B"
    )
    assert warn.value == pytest.approx(1.2e9)
    assert warn.peak == pytest.approx(1.2e9)
    assert warn.unit == "usd"
    ev.on_signals([_liq24(500e6, T0 + 2 * MIN)])  # ~$694M: below the warning's clear ($800M)
    out = ev.on_tick(T0 + 2 * MIN + 60 * MIN)
    [res] = [n for n in out if n.severity == "warning"]
    assert res.summary == (
        "liquidations_24h (asset=all, side=all, window=24h) resolved:"
        " peaked at ~$1.2B (estimate) at 04:41 UTC, cleared at 05:42 UTC"
    )


def test_long_share_reads_as_a_percentage_and_runbook_is_linked() -> None:
    ev = _pack("liquidation_long_share")
    share = Signal("liq_long_share", {"asset": "all", "window": "24h"}, 0.900099, T0)
    out = ev.on_signals([share, _liq24(1.91e9, T0)])
    crit = next(n for n in out if n.severity == "critical")
    assert crit.summary == (
        "Longs are 90% of ~$1.91B liquidated in 24 h (all; an estimate at 100% coverage;"
        " $1.91B seen)"
    )
    rule = load_pack("november-2025").rule_for(crit.rule, crit.severity, crit.labels)
    assert rule is not None
    assert rule.annotations["runbook_url"] == "docs/runbooks.md#liquidations"


def test_burst_text_quotes_the_z_that_made_the_condition_true() -> None:
    """z latches at 4.2 and falls to 3.2 (above its clear 2.0) before the USD floor is crossed:
    the alert fires on the latched z and must not read "z 3.2" for a rule that needs 3.5."""
    ev = _pack("liquidation_burst")
    usd1h = {"asset": "BTC", "side": "all", "window": "1h"}
    assert ev.on_signals([Signal("liq_burst_z", {"asset": "BTC"}, 4.2, T0)]) == []
    assert ev.on_signals([Signal("liq_burst_z", {"asset": "BTC"}, 3.2, T0 + MIN)]) == []
    out = ev.on_signals([Signal("liq_usd", usd1h, 120e6, T0 + 2 * MIN)])
    assert [n.summary for n in out] == [
        "BTC: liquidation burst, robust z 4.2, ~$120M in 1 h (an estimate at 100% coverage;"
        " $120M seen)"
    ]


def test_resolution_says_peak_and_clear_time_not_the_cleared_value() -> None:
    ev = _pack("liquidations_24h")
    ev.on_signals([_liq24(800e6, T0)])
    ev.on_signals([_liq24(2.01e9, T0 + 60 * MIN)])  # 05:40: the peak
    ev.on_signals([_liq24(286e6, T0 + 180 * MIN)])  # 07:40: below every clear level
    out = ev.on_tick(T0 + 240 * S * 60)  # keep_firing_for 1 h elapsed: 08:40
    resolved = {n.labels["severity"] + n.labels.get("tier", ""): n for n in out}
    assert {n.status for n in out} == {"resolved"}
    crit = resolved["critical"]
    assert crit.summary == (
        "liquidations_24h (asset=all, side=all, window=24h) resolved:"
        " peaked at ~$2.01B (estimate) at 05:40 UTC, cleared at 08:40 UTC"
    )
    assert "286" not in crit.summary
    assert crit.peak == 2.01e9
    assert crit.peak_at == T0 + 60 * MIN
    assert crit.value == 286e6
    assert crit.unit == "usd"


def test_peak_survives_a_snapshot() -> None:
    ev = _pack("liquidations_24h")
    ev.on_signals([_liq24(2.01e9, T0), _liq24(1.9e9, T0 + MIN)])
    again = _pack("liquidations_24h")
    again.restore(ev.snapshot())
    [crit] = [n for n in again.active() if n.severity == "critical" and "tier" not in n.labels]
    assert (crit.peak, crit.peak_at) == (2.01e9, T0)


def test_absence_and_funding_texts_use_time_and_rate_units() -> None:
    rs = load_rules_text(
        """\
rules:
  - name: silent
    level: warning
    absent: {signal: price_ref, after: 5m}
    annotations: {summary: "No reference price for {asset} for {value_h}"}
  - name: funding
    signal: funding_rate_8h
    match: {venue: oi_weighted}
    op: ">"
    level: warning
    threshold: 0.001
    annotations: {summary: "{asset} funding {value_h} per 8 h (over {threshold_h})"}
"""
    )
    ev = AlertEvaluator(rs)
    ev.on_signals([Signal("price_ref", {"asset": "BTC"}, 80_000.0, T0)])
    out = ev.on_tick(T0 + 9 * 3600 * S)
    assert [n.summary for n in out] == ["No reference price for BTC for 9 h"]
    out = ev.on_signals(
        [Signal("funding_rate_8h", {"asset": "BTC", "venue": "oi_weighted"}, 0.0012, T0)]
    )
    assert [n.summary for n in out] == ["BTC funding 0.120% per 8 h (over 0.100%)"]


def _anchors(markdown: str) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes."""
    out = set()
    for line in markdown.splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            out.add(re.sub(r"[^a-z0-9 _-]", "", title).replace(" ", "-"))
    return out


def test_every_packaged_rule_links_a_runbook_section_that_exists() -> None:
    anchors = _anchors((ROOT / "docs" / "runbooks.md").read_text(encoding="utf-8"))
    for rule in load_pack("november-2025").rules:
        url = rule.annotations.get("runbook_url", "")
        path, _, anchor = url.partition("#")
        assert path == "docs/runbooks.md", (rule.id, url)
        assert anchor in anchors, (rule.id, url)
        assert "§" not in rule.annotations.get("runbook", ""), rule.id
