"""``riskmon rules export --format prometheus``: a Prometheus alerting-rule file from a rule pack.

One Prometheus rule per pack level, same alert name, threshold, ``for``, ``keep_firing_for``,
labels (``severity``, ``tier``, the pack's own) and annotations (summary with the value, runbook,
description). What Prometheus cannot express the same way is translated to the nearest faithful
form (:mod:`alerts.export.promql`) and *listed* in the header comment of the file: hysteresis,
composites, absence, event time vs wall time, and the pack's inhibition rules, which belong in
Alertmanager and are written out there as an ``inhibit_rules`` block to paste.
"""

from __future__ import annotations

from typing import Any

import yaml

from alerts.export.promql import annotation_template, duration, rule_expr
from alerts.rules.model import InhibitRule, Rule, RuleSet

__all__ = ["approximations", "inhibit_rules", "prometheus_rules", "rule_document"]

GENERAL_NOTES = (
    "`for` and `keep_firing_for` run on Prometheus' wall clock; the engine runs them in event "
    "time (the same in live operation, not in a replay or backtest).",
    "Values are read from the exported metrics (base units) and converted back to the pack's "
    "units in each expression, so thresholds and $value are the pack's numbers.",
    "A series leaves /metrics when its venue/asset/coin is quiet for 600 s (exporter "
    "staleness); its alert then resolves in Prometheus, while the engine keeps the last value.",
    'Hysteresis (a `clear` level) latches on the rule\'s own ALERTS{alertstate="firing"} '
    "series: the engine latches as soon as the condition is true, Prometheus once the alert "
    "fires, so a pending alert is not held by the clear level.",
    "Composites reduce each condition to the join labels (max for >, min for <: the extreme "
    "of its series, as the engine does) and join them with and/or on(...); the other "
    "conditions' values in a summary are queried when the notification is rendered.",
    "Absence: `changes(v[after]) == 0` on series that existed `after` ago (the engine: no new "
    "sample, which processors send on change); $value is the window, not the exact silence; "
    "a series never seen does not fire.",
)


def approximations(rule: Rule) -> list[str]:
    """What differs between the engine and the exported Prometheus rule, for one level."""
    notes: list[str] = []
    clears = [c for c in rule.conditions if c.clear is not None]
    if clears:
        notes.append("hysteresis (clear " + ", ".join(f"{c.id} {c.clear:g}" for c in clears) + ")")
    if len(rule.conditions) > 1 or rule.on is not None:
        notes.append(f"composite on ({', '.join(rule.on or ())})")
    if rule.absent is not None:
        notes.append(f"absence after {duration(rule.absent.after_ns)}")
    scaled = [c for c in rule.conditions if c.scale_by is not None]
    if scaled:
        notes.append(
            "threshold × "
            + ", ".join(f"{c.id} {c.scale_by}" for c in scaled)
            + " (scalar of the exported series; the engine uses 1.0 until it arrives)"
        )
    return [f"{rule.name}/{rule.level}: " + "; ".join(notes)] if notes else []


def inhibit_rules(rules: tuple[InhibitRule, ...]) -> list[dict[str, Any]]:
    """The pack's inhibition rules in Alertmanager's ``inhibit_rules`` form."""
    return [
        {
            "source_matchers": [str(m) for m in r.source],
            "target_matchers": [str(m) for m in r.target],
            "equal": list(r.equal),
        }
        for r in rules
    ]


def _rule(rule: Rule) -> dict[str, Any]:
    out: dict[str, Any] = {"alert": rule.name, "expr": rule_expr(rule)}
    out["for"] = duration(rule.for_ns)
    if rule.keep_firing_for_ns:
        out["keep_firing_for"] = duration(rule.keep_firing_for_ns)
    out["labels"] = dict(sorted(rule.labels.items()))
    annotations = {k: annotation_template(v, rule) for k, v in rule.annotations.items()}
    if rule.description:
        annotations.setdefault("description", rule.description)
    out["annotations"] = annotations
    return out


def rule_document(ruleset: RuleSet, group_interval: str | None = None) -> dict[str, Any]:
    """The rule file as data: one group named after the pack."""
    group: dict[str, Any] = {"name": f"riskmon-{ruleset.name or 'rules'}"}
    if group_interval:
        group["interval"] = group_interval
    group["rules"] = [_rule(r) for r in ruleset.rules]
    return {"groups": [group]}


def _comment(lines: list[str]) -> str:
    return "".join(f"# {line}\n" if line else "#\n" for line in lines)


def prometheus_rules(ruleset: RuleSet, group_interval: str | None = None) -> str:
    """The Prometheus rule file text, with the translation notes as a header comment."""
    head = [
        f"Prometheus alerting rules exported from the riskmon rule pack "
        f"{ruleset.name or ', '.join(ruleset.sources)!r} by `riskmon rules export`.",
        "Do not edit: re-export from the pack. Translation notes (docs/alerting.md):",
        "",
        *(f"- {n}" for n in GENERAL_NOTES),
        *(f"- {n}" for r in ruleset.rules for n in approximations(r)),
    ]
    if ruleset.inhibit:
        head += [
            "",
            "Inhibition is not a Prometheus rule: paste this into alertmanager.yml:",
            "",
            *yaml.safe_dump(
                {"inhibit_rules": inhibit_rules(ruleset.inhibit)}, sort_keys=False, width=100_000
            ).splitlines(),
        ]
    body = yaml.safe_dump(
        rule_document(ruleset, group_interval), sort_keys=False, width=100_000, allow_unicode=True
    )
    return _comment(head) + body
