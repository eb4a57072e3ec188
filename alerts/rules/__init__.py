"""Alert rules: the runtime model, the YAML loader and annotation templates."""

from __future__ import annotations

from alerts.rules.loader import (
    RuleError,
    RuleProblem,
    available_packs,
    is_rule_path,
    load_pack,
    load_rules,
    load_rules_text,
    load_ruleset,
    merge_rulesets,
    parse_duration_ns,
)
from alerts.rules.model import (
    AbsentSpec,
    Condition,
    InhibitRule,
    Rule,
    RuleSet,
    fingerprint,
)

__all__ = [
    "AbsentSpec",
    "Condition",
    "InhibitRule",
    "Rule",
    "RuleError",
    "RuleProblem",
    "RuleSet",
    "available_packs",
    "fingerprint",
    "is_rule_path",
    "load_pack",
    "load_rules",
    "load_rules_text",
    "load_ruleset",
    "merge_rulesets",
    "parse_duration_ns",
]
