"""``riskmon rules export --format grafana``: Grafana-managed alert rules (file provisioning).

Each pack level becomes one Grafana rule in one group, querying the Prometheus datasource by its
fixed uid (``prometheus``, as ``grafana/provisioning/datasources`` provisions it):

- one condition: query ``A`` (the value in the pack's units), reduce ``B`` (last), and ``C`` the
  comparison, a math expression (``$B >= 750000000``) or, when the level has a ``clear``, a
  threshold with a recovery threshold (Grafana's own hysteresis: ``gt``/``lt`` only, so ``>=``
  becomes ``gt`` at the same number - listed);
- composites: one query/reduce/math triple per condition (``<id>``, ``<id>_last``,
  ``<id>_true``), the condition ``C`` joins them with ``&&`` (all_of) or ``||`` (any_of); the
  conditions' clear levels cannot be expressed (listed);
- absence: the Prometheus form of :mod:`alerts.export.promql`, firing when it returns a series.

Annotations are the pack's, translated to Grafana templates (``$values.<refId>.Value``). Labels,
``for`` and ``keepFiringFor`` are the pack's. Everything not carried over is listed in the
header comment.
"""

from __future__ import annotations

import hashlib
from typing import Any

import yaml

from alerts.export.promql import (
    annotation_template,
    duration,
    number,
    rule_expr,
    value_expr,
)
from alerts.rules.model import Condition, Rule, RuleSet

__all__ = ["DATASOURCE_UID", "FOLDER", "grafana_rules", "rule_uid"]

DATASOURCE_UID = "prometheus"
FOLDER = "riskmon"
_RANGE = {"from": 600, "to": 0}
_MATH_OP = {">": ">", ">=": ">=", "<": "<", "<=": "<=", "==": "==", "!=": "!="}


def rule_uid(rule: Rule) -> str:
    """A stable uid (<= 40 chars, ``[A-Za-z0-9_-]``) for one level of a rule."""
    key = f"{rule.name}|{rule.level}|{rule.labels.get('tier', '')}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:8]
    return f"{rule.name[:22]}-{rule.level[:7]}-{digest}".replace("_", "-")


def _query(ref: str, expr: str) -> dict[str, Any]:
    return {
        "refId": ref,
        "relativeTimeRange": dict(_RANGE),
        "datasourceUid": DATASOURCE_UID,
        "model": {"refId": ref, "expr": expr, "instant": True, "range": False},
    }


def _expr(ref: str, model: dict[str, Any]) -> dict[str, Any]:
    return {
        "refId": ref,
        "datasourceUid": "__expr__",
        "model": {"refId": ref, "datasource": {"type": "__expr__", "uid": "__expr__"}, **model},
    }


def _reduce(ref: str, of: str) -> dict[str, Any]:
    return _expr(
        ref, {"type": "reduce", "expression": of, "reducer": "last", "settings": {"mode": "dropNN"}}
    )


def _compare(ref: str, of: str, c: Condition, hysteresis: bool) -> tuple[dict[str, Any], list[str]]:
    notes: list[str] = []
    if c.scale_by is not None:
        notes.append(
            f"{c.id} threshold not scaled by {c.scale_by} (compared with the whole-market "
            "number); the summary's coverage/estimate are Prometheus queries"
        )
    if hysteresis and c.clear is not None and c.op in (">", ">=", "<", "<="):
        up = "gt" if c.op in (">", ">=") else "lt"
        down = "lt" if up == "gt" else "gt"
        if c.op in (">=", "<="):
            notes.append(f"{c.id} {c.op} {number(c.threshold)} is '{up}' (recovery threshold)")
        cond = {
            "evaluator": {"type": up, "params": [c.threshold]},
            "unloadEvaluator": {"type": down, "params": [c.clear]},
        }
        return _expr(ref, {"type": "threshold", "expression": of, "conditions": [cond]}), notes
    if c.clear is not None:
        notes.append(f"{c.id} clear {c.clear:g} not expressed (composite)")
    math = f"${of} {_MATH_OP[c.op]} {number(c.threshold)}"
    return _expr(ref, {"type": "math", "expression": math}), notes


def _data(rule: Rule) -> tuple[list[dict[str, Any]], str, dict[str, str], list[str]]:
    """Queries and expressions, the condition refId, annotation refs, notes."""
    if rule.absent is not None:
        data = [
            _query("A", rule_expr(rule)),
            _reduce("B", "A"),
            _expr("C", {"type": "math", "expression": "$B > 0"}),
        ]
        return data, "C", {"value": "$values.B.Value"}, ["absence: the Prometheus form"]
    conds = list(rule.conditions)
    if rule.value_from is not None:
        conds.sort(key=lambda c: c.id != rule.value_from)
    if len(conds) == 1 and rule.on is None:
        c = conds[0]
        cmp, notes = _compare("C", "B", c, hysteresis=True)
        data = [_query("A", value_expr(c.signal, c.matchers)), _reduce("B", "A"), cmp]
        return data, "C", {"value": "$values.B.Value", c.id: "$values.B.Value"}, notes
    on = ", ".join(rule.on or ())
    data = []
    refs: dict[str, str] = {}
    notes = []
    for c in conds:
        agg = "min" if c.op in ("<", "<=") else "max"
        data.append(_query(c.id, f"{agg} by ({on}) ({value_expr(c.signal, c.matchers)})"))
        data.append(_reduce(f"{c.id}_last", c.id))
        cmp, more = _compare(f"{c.id}_true", f"{c.id}_last", c, hysteresis=False)
        data.append(cmp)
        notes += more
        refs[c.id] = f"$values.{c.id}_last.Value"
    refs["value"] = refs[conds[0].id]
    join = " && " if rule.mode == "all" else " || "
    data.append(
        _expr("C", {"type": "math", "expression": join.join(f"${c.id}_true" for c in conds)})
    )
    return data, "C", refs, notes


def _rule(rule: Rule) -> tuple[dict[str, Any], list[str]]:
    data, condition, refs, notes = _data(rule)
    annotations = {k: annotation_template(v, rule, refs) for k, v in rule.annotations.items()}
    if rule.description:
        annotations.setdefault("description", rule.description)
    out: dict[str, Any] = {
        "uid": rule_uid(rule),
        "title": f"{rule.name} {rule.level}",
        "condition": condition,
        "data": data,
        "noDataState": "OK",
        "execErrState": "Error",
        "for": duration(rule.for_ns),
    }
    if rule.keep_firing_for_ns:
        out["keepFiringFor"] = duration(rule.keep_firing_for_ns)
    out["labels"] = dict(sorted(rule.labels.items()))
    out["annotations"] = annotations
    out["isPaused"] = False
    return out, [f"{rule.name}/{rule.level}: {n}" for n in notes]


def grafana_rules(ruleset: RuleSet, interval: str = "1m") -> str:
    """The Grafana alert-rule provisioning file text, with translation notes as a comment."""
    rules, notes = [], []
    for r in ruleset.rules:
        doc, more = _rule(r)
        rules.append(doc)
        notes += more
    group = {
        "orgId": 1,
        "name": f"riskmon-{ruleset.name or 'rules'}",
        "folder": FOLDER,
        "interval": interval,
        "rules": rules,
    }
    head = [
        "Grafana-managed alert rules exported from the riskmon rule pack "
        f"{ruleset.name or ', '.join(ruleset.sources)!r} by `riskmon rules export`.",
        "Do not edit: re-export from the pack. Datasource uid: prometheus. Translation notes "
        "(docs/alerting.md):",
        "",
        "- `for`/`keepFiringFor` run on Grafana's wall clock (the engine: event time); "
        "keepFiringFor needs a Grafana that knows the field (older ones ignore it).",
        "- noDataState OK: a series that leaves /metrics resolves its alert.",
        "- Inhibition rules of the pack are not Grafana rules: see the Prometheus export's "
        "Alertmanager block, or add them to a Grafana notification policy by hand.",
        *(f"- {n}" for n in notes),
    ]
    body = yaml.safe_dump(
        {"apiVersion": 1, "groups": [group]}, sort_keys=False, width=100_000, allow_unicode=True
    )
    return "".join(f"# {line}\n" if line else "#\n" for line in head) + body
