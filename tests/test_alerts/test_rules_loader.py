"""Tests for the rule YAML loader and its error reporting."""

from __future__ import annotations

from pathlib import Path

import pytest

from alerts.rules import RuleError, available_packs, load_pack, load_rules, load_rules_text
from alerts.rules.loader import parse_duration_ns

S = 1_000_000_000

GOOD = """\
rules:
  - name: liq_1h
    signal: liq_usd
    match: {asset: all, window: 1h, side: [long, all]}
    op: ">="
    for: 1m30s
    keep_firing_for: 5m
    annotations: {summary: "liq {value_h}"}
    levels:
      - {level: warning, threshold: 250e6, clear: 150e6}
      - {level: extreme, threshold: 3e9}
  - name: combo
    level: critical
    on: [asset]
    all_of:
      - {id: a, signal: liq_burst_z, threshold: 1}
      - {id: b, signal: oi_drawdown_pct, op: "<", threshold: -5, clear: -2}
"""


def test_levels_expand_into_one_rule_per_level() -> None:
    """A rule with levels becomes one rule per level with severity and tier labels."""
    rs = load_rules_text(GOOD, "good.yaml")
    ids = [r.id for r in rs.rules]
    assert ids == ["liq_1h:warning", "liq_1h:extreme", "combo:critical"]
    extreme = rs.rules[1]
    assert extreme.severity == "critical"
    assert extreme.labels == {"severity": "critical", "tier": "extreme"}
    assert extreme.for_ns == 90 * S
    assert extreme.keep_firing_for_ns == 300 * S
    assert rs.rules[2].on == ("asset",)
    assert rs.rules[2].conditions[1].clear == -2


def test_on_is_a_string_key_not_a_yaml_boolean() -> None:
    """The key ``on`` is read as a string (YAML 1.2 booleans only)."""
    rs = load_rules_text(GOOD)
    assert rs.rules[2].on == ("asset",)


def test_error_names_file_line_and_field() -> None:
    """A wrong type is reported with the file, the line and the dotted field path."""
    text = GOOD.replace("threshold: 250e6", "threshold: lots")
    with pytest.raises(RuleError) as ei:
        load_rules_text(text, "pack.yaml")
    msg = str(ei.value)
    assert msg.startswith("pack.yaml:10:")
    assert "rules[0](liq_1h).levels[0].threshold" in msg


def test_unknown_field_and_missing_level_are_reported_together() -> None:
    """Every problem of a file is listed, each with its own line."""
    text = """\
rules:
  - name: a
    signal: s
    threshold: 1
    treshold: 2
  - name: b
    level: warning
    signal: s
"""
    with pytest.raises(RuleError) as ei:
        load_rules_text(text, "f.yaml")
    problems = ei.value.problems
    assert [(p.line, p.field) for p in problems] == [
        (5, "rules[0](a).treshold"),
        (6, "rules[1](b)"),
    ]
    assert problems[0].message == "unknown field"
    assert "missing 'threshold'" in problems[1].message


def test_yaml_syntax_error_has_a_line() -> None:
    """Broken YAML is reported with its position, not a traceback."""
    with pytest.raises(RuleError) as ei:
        load_rules_text("rules:\n  - name: [unclosed\n", "bad.yaml")
    assert str(ei.value).startswith("bad.yaml:3:")


def test_bad_clear_direction_and_bad_regex_are_rejected() -> None:
    """A clear threshold on the wrong side and an invalid regex are errors."""
    text = """\
rules:
  - name: a
    level: warning
    signal: s
    match: {venue: "=~(["}
    threshold: 1
  - name: b
    level: warning
    signal: s
    op: ">"
    threshold: 10
    clear: 20
"""
    with pytest.raises(RuleError) as ei:
        load_rules_text(text, "f.yaml")
    lines = {p.line: p.message for p in ei.value.problems}
    assert "bad regular expression" in lines[5]
    assert "must be <= threshold" in lines[12]


def test_duplicate_alert_definition_is_rejected() -> None:
    """The same alert name with the same severity and tier cannot be defined twice."""
    text = """\
rules:
  - {name: a, level: warning, signal: s, threshold: 1}
  - {name: a, level: warning, signal: t, threshold: 2}
"""
    with pytest.raises(RuleError, match="defined twice"):
        load_rules_text(text, "f.yaml")


def test_duplicate_yaml_key_is_rejected() -> None:
    """A key given twice in a mapping is an error rather than silently overwritten."""
    text = "rules:\n  - name: a\n    name: b\n    level: info\n    signal: s\n    threshold: 1\n"
    with pytest.raises(RuleError, match="duplicate key") as ei:
        load_rules_text(text, "f.yaml")
    assert ei.value.problems[0].line == 3


def test_bad_template_is_rejected() -> None:
    """An annotation that is not a valid format string is an error."""
    text = (
        "rules:\n"
        "  - {name: a, level: info, signal: s, threshold: 1, annotations: {summary: '{x'}}\n"
    )
    with pytest.raises(RuleError, match="bad template"):
        load_rules_text(text, "f.yaml")


def test_load_rules_reads_files_and_reports_missing_ones(tmp_path: Path) -> None:
    """load_rules reads a file; a missing file is a RuleError naming it."""
    f = tmp_path / "r.yaml"
    f.write_text(GOOD)
    assert len(load_rules(f)) == 3
    with pytest.raises(RuleError, match="cannot read"):
        load_rules(tmp_path / "nope.yaml")


def test_default_pack_loads_and_covers_the_ladder() -> None:
    """The shipped november-2025 pack is valid and has every ladder family."""
    assert "november-2025" in available_packs()
    rs = load_pack("november-2025")
    names = {r.name for r in rs.rules}
    for expected in (
        "liquidations_1h",
        "liquidations_24h",
        "liquidation_long_share",
        "liquidation_burst",
        "oi_drawdown",
        "oi_drop_24h",
        "price_drawdown",
        "price_fast_move_10m",
        "funding_negative",
        "stablecoin_depeg",
        "stablecoin_venue_dislocation",
        "feed_stale",
        "deleveraging_event",
    ):
        assert expected in names
    extreme = [r for r in rs.rules if r.labels.get("tier") == "extreme"]
    assert extreme
    assert all(r.severity == "critical" for r in extreme)
    assert rs.inhibit


def test_unknown_pack_lists_known_ones() -> None:
    """Asking for a pack that does not exist names the packs that do."""
    with pytest.raises(RuleError, match="november-2025"):
        load_pack("december-2099")


@pytest.mark.parametrize(
    ("text", "ns"),
    [("30s", 30 * S), ("5m", 300 * S), ("1h30m", 5400 * S), (90, 90 * S), ("250ms", S // 4)],
)
def test_parse_duration(text: str | int, ns: int) -> None:
    """Durations accept unit strings and plain seconds."""
    assert parse_duration_ns(text) == ns


def test_parse_duration_rejects_garbage() -> None:
    """A malformed duration raises ValueError."""
    with pytest.raises(ValueError, match="duration"):
        parse_duration_ns("5 minutes")
