"""``scale_by``: thresholds times a scale signal (liquidation USD against a whole-market ladder
times the covered share), validated by the loader, kept across a snapshot."""

from __future__ import annotations

import pytest

from alerts.evaluator import AlertEvaluator
from alerts.rules import RuleError, load_pack, load_rules_text
from streams.signals import Signal

S = 1_000_000_000
T0 = 1_763_700_000 * S

RULES = """\
rules:
  - name: liq
    signal: liq_usd
    match: {asset: all, window: 1h}
    op: ">="
    scale_by: liq_coverage_share
    annotations:
      summary: "~{estimate_h} >= {threshold_h}: an estimate at {coverage:.0%} ({value_h} seen)"
    levels:
      - {level: warning, threshold: 100e6, clear: 50e6}
  - name: burst
    level: info
    on: [asset]
    annotations: {summary: "{asset} ~{usd_estimate_h} ({coverage:.0%})"}
    all_of:
      - {id: z, signal: liq_burst_z, op: ">=", threshold: 3}
      - {id: usd, signal: liq_usd, op: ">=", threshold: 10e6, scale_by: liq_coverage_share}
"""


def liq(v: float, t: int) -> Signal:
    return Signal("liq_usd", {"asset": "all", "window": "1h"}, v, t)


def cov(v: float, t: int) -> Signal:
    return Signal("liq_coverage_share", {}, v, t)


def test_threshold_and_clear_scale_with_the_coverage() -> None:
    """At 40% coverage: fires at 40M seen (100M × 0.4), holds above 20M, resolves below; the
    alert's value and peak are the whole-market estimate (seen / coverage)."""
    ev = AlertEvaluator(load_rules_text(RULES))
    assert ev.on_signals([cov(0.4, T0), liq(39e6, T0)]) == []
    (n,) = ev.on_signals([liq(41e6, T0 + S)])
    assert (n.rule, n.status) == ("liq", "firing")
    assert n.value == n.peak == pytest.approx(41e6 / 0.4)
    assert n.summary == "~$102M >= $100M: an estimate at 40% ($41M seen)"
    assert ev.on_signals([liq(21e6, T0 + 2 * S)]) == []  # above clear × 0.4 = 20M
    (r,) = ev.on_signals([liq(19e6, T0 + 3 * S)])
    assert r.status == "resolved"


def test_without_a_scale_signal_the_threshold_is_the_packs_number() -> None:
    """Before any liq_coverage_share sample the scale is 1.0."""
    ev = AlertEvaluator(load_rules_text(RULES))
    assert ev.on_signals([liq(99e6, T0)]) == []
    (n,) = ev.on_signals([liq(100e6, T0 + S)])
    assert "an estimate at 100% ($100M seen)" in n.summary


def test_composite_condition_scales_and_names_its_estimate() -> None:
    """Only the scaled condition moves; {usd_estimate} is value / coverage."""
    ev = AlertEvaluator(load_rules_text(RULES))
    z = Signal("liq_burst_z", {"asset": "BTC"}, 4.0, T0)
    usd = Signal("liq_usd", {"asset": "BTC", "window": "5m"}, 5e6, T0)
    notices = ev.on_signals([cov(0.5, T0), z, usd])
    (n,) = [x for x in notices if x.rule == "burst"]
    assert n.summary == "BTC ~$10M (50%)"


def test_scale_survives_a_snapshot() -> None:
    """A restored evaluator keeps the last scale (the processor does not re-send it)."""
    ev = AlertEvaluator(load_rules_text(RULES))
    ev.on_signals([cov(0.5, T0)])
    again = AlertEvaluator(load_rules_text(RULES))
    again.restore(ev.snapshot())
    (n,) = again.on_signals([liq(50e6, T0 + S)])
    assert n.status == "firing"


def test_zero_coverage_never_fires() -> None:
    """No covered venue: nothing to estimate from, the condition is false."""
    ev = AlertEvaluator(load_rules_text(RULES))
    assert ev.on_signals([cov(0.0, T0), liq(1e12, T0)]) == []


@pytest.mark.parametrize(
    ("rule", "field", "message"),
    [
        (
            "  - {name: a, level: info, signal: s, op: '==', threshold: 1, scale_by: c}\n",
            "rules[0](a).scale_by",
            "needs <, <=, > or >=",
        ),
        (
            "  - {name: a, level: info, signal: s, threshold: 1, scale_by: 'bad name'}\n",
            "rules[0](a).scale_by",
            "pattern",
        ),
        (
            "  - {name: a, level: info, signal: liq_usd, threshold: 1, scale_by: liq_cov}\n",
            "rules[0](a).scale_by",
            "unknown signal 'liq_cov'",
        ),
        (
            "  - {name: a, level: info, signal: liq_usd, threshold: 1, scale_by: liq_count}\n",
            "rules[0](a).scale_by",
            "liq_count has labels; a scale has none",
        ),
        (
            "  - {name: a, level: info, signal: liq_usd, threshold: 1,\n"
            "     annotations: {summary: '~{estimate_h}'}}\n",
            "rules[0](a).annotations.summary",
            "unknown template field(s) {estimate_h}",
        ),
        (
            "  - {name: a, level: info, on: [x], scale_by: c,\n"
            "     all_of: [{signal: s, threshold: 1}]}\n",
            "rules[0](a)",
            "'scale_by' belongs in the conditions",
        ),
    ],
)
def test_loader_rejects_bad_scale_by(rule: str, field: str, message: str) -> None:
    with pytest.raises(RuleError) as ei:
        load_rules_text("rules:\n" + rule, "f.yaml")
    (p,) = ei.value.problems
    assert p.field == field
    assert message in p.message


def test_pack_scales_every_liquidation_usd_threshold() -> None:
    """Every liq_usd condition of the shipped pack is scaled by liq_coverage_share."""
    conds = [c for r in load_pack("november-2025").rules for c in r.conditions]
    usd = [c for c in conds if c.signal == "liq_usd"]
    assert usd
    assert {c.scale_by for c in usd} == {"liq_coverage_share"}
    assert {c.scale_by for c in conds if c.signal != "liq_usd"} == {None}
