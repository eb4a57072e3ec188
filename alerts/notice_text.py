"""The texts of an alert notice that do not come from its rule's templates.

:func:`rule_units` gives every numeric template field of a rule its signal's unit (from the
signal catalogue, streams/catalogue.py), so ``{value_h}`` reads ``$1.75B``, ``90%`` or ``9 h``;
:func:`resolved_summary` is what a resolution says: what the alert peaked at and when, and when it
cleared (never the firing text re-rendered with the cleared value).
"""

from __future__ import annotations

from alerts.format import clock_time, human_pair
from alerts.rules.model import Rule
from streams.catalogue import signal_spec
from streams.units import NS_PER_SECOND

__all__ = ["resolved_summary", "rule_units"]

_IDENTITY_SKIP = frozenset({"severity", "category", "tier"})


def rule_units(rule: Rule) -> dict[str, str]:
    """The unit of every numeric template field of a rule, from the signal catalogue."""
    units: dict[str, str] = {}
    for c in rule.conditions:
        spec = signal_spec(c.signal)
        if spec is not None:
            units[c.id] = spec.unit
    if rule.absent is not None:
        units["value"] = units["after"] = "seconds"
    elif rule.conditions:
        vf = rule.value_from or rule.conditions[0].id
        units["value"] = units.get(vf, "")
    for f in ("threshold", "peak"):
        if "value" in units:
            units[f] = units["value"]
    return units


def resolved_summary(
    rule: Rule, labels: dict[str, str], peak: float, peak_at: int, cleared_at: int
) -> str:
    """``liquidations_24h (asset=all, side=all, window=24h) resolved: peaked at $2.01B at 14:05
    UTC, cleared at 16:40 UTC``."""
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
    return (
        f"{head} resolved: peaked at {peak_h} at {clock_time(peak_at, cleared_at)},"
        f" cleared at {clock_time(cleared_at)}"
    )
