"""The texts of an alert notice that do not come from its rule's templates.

:func:`rule_units` gives every numeric template field of a rule its signal's unit (from the
signal catalogue, streams/catalogue.py), so ``{value_h}`` reads ``$1.75B``, ``90%`` or ``9 h``;
:func:`resolved_summary` is what a resolution says: what the alert peaked at and when, and when it
cleared (never the firing text re-rendered with the cleared value). :func:`scale_fields` gives a
rule with ``scale_by`` conditions its ``coverage`` and ``estimate`` fields.
"""

from __future__ import annotations

from alerts.format import clock_time, human_pair
from alerts.rules.model import Rule
from streams.catalogue import signal_spec
from streams.units import NS_PER_SECOND

__all__ = ["resolved_summary", "rule_units", "scale_fields"]

_IDENTITY_SKIP = frozenset({"severity", "category", "tier"})


def rule_units(rule: Rule) -> dict[str, str]:
    """The unit of every numeric template field of a rule, from the signal catalogue."""
    units: dict[str, str] = {}
    for c in rule.conditions:
        spec = signal_spec(c.signal)
        if spec is not None:
            units[c.id] = spec.unit
            if c.scale_by is not None:
                units[f"{c.id}_estimate"] = spec.unit
                units.setdefault("coverage", "ratio")
    if rule.absent is not None:
        units["value"] = units["after"] = "seconds"
    elif rule.conditions:
        vf = rule.value_from or rule.conditions[0].id
        units["value"] = units.get(vf, "")
    for f in ("threshold", "peak", "estimate"):
        if "value" in units:
            units[f] = units["value"]
    return units


def _value_condition_scaled(rule: Rule) -> bool:
    vf = rule.value_from or (rule.conditions[0].id if rule.conditions else "")
    return any(c.id == vf and c.scale_by is not None for c in rule.conditions)


def scale_fields(rule: Rule, fields: dict[str, float], scales: dict[str, float]) -> None:
    """Turn a scaled rule's fields (whole-market estimates) into the texts' fields, in place.

    The evaluator holds a ``scale_by`` condition at ``value / scale``; the texts get that as
    ``estimate`` (``<id>_estimate`` for a composite's condition), the value seen as ``value``
    (``<id>``) and the scale as ``coverage`` (of the first scaled condition).
    """
    vf = rule.value_from or (rule.conditions[0].id if rule.conditions else "")
    for c in rule.conditions:
        if c.scale_by is None:
            continue
        scale = scales.get(c.scale_by, 1.0)
        fields.setdefault("coverage", scale)
        if c.id in fields and c.id != "value":  # a signal rule's condition is ``value``
            fields[f"{c.id}_estimate"] = fields[c.id]
            fields[c.id] = fields[c.id] * scale
        if c.id == vf and "value" in fields:
            fields["estimate"] = fields["value"]
            fields["value"] = fields["value"] * scale


def resolved_summary(
    rule: Rule, labels: dict[str, str], peak: float, peak_at: int, cleared_at: int
) -> str:
    """``liquidations_24h (asset=all, side=all, window=24h) resolved: peaked at $2.01B at 14:05
    UTC, cleared at 16:40 UTC`` (``~$2.01B (estimate)`` when the value condition is scaled)."""
    ident = ", ".join(f"{k}={v}" for k, v in sorted(labels.items()) if k not in _IDENTITY_SKIP)
    head = f"{rule.name} ({ident})" if ident else rule.name
    unit = rule_units(rule).get("value", "")
    threshold = (
        rule.absent.after_ns / NS_PER_SECOND
        if rule.absent is not None
        else next(
            (c.threshold for c in rule.conditions if c.id == (rule.value_from or c.id)),
            peak,
        )
    )
    peak_h = human_pair(peak, threshold, unit)[0]
    if _value_condition_scaled(rule):
        peak_h = f"~{peak_h} (estimate)"
    return (
        f"{head} resolved: peaked at {peak_h} at {clock_time(peak_at, cleared_at)},"
        f" cleared at {clock_time(cleared_at)}"
    )
