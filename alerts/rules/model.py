"""The runtime rule model: what the evaluator executes, after loading and level expansion.

A YAML rule with ``levels`` expands into one :class:`Rule` per level; they share the rule
``name`` (the alert name) and differ in threshold, severity and labels (``severity``, and
``tier: extreme`` for the extreme level), so each level is its own alert with its own fingerprint.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from alerts.matchers import Matcher, matches_all
from alerts.model import Severity

__all__ = [
    "LEVEL_SEVERITY",
    "AbsentSpec",
    "Comparison",
    "Condition",
    "InhibitRule",
    "Level",
    "Rule",
    "RuleSet",
    "fingerprint",
]

Comparison = Literal[">", ">=", "<", "<=", "==", "!="]
Level = Literal["watch", "info", "warning", "critical", "extreme"]

LEVEL_SEVERITY: dict[str, Severity] = {
    "watch": "info",
    "info": "info",
    "warning": "warning",
    "critical": "critical",
    "extreme": "critical",
}


def fingerprint(rule: str, labels: Mapping[str, str]) -> str:
    """Return the stable fingerprint of an alert: a hash of the rule name and sorted labels."""
    h = hashlib.sha256(rule.encode())
    for k, v in sorted(labels.items()):
        h.update(b"\x00")
        h.update(k.encode())
        h.update(b"\x01")
        h.update(v.encode())
    return h.hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Condition:
    """``signal{matchers} <op> threshold``, with an optional clear threshold (hysteresis).

    Once true, a condition with ``clear`` stays true until the value is back across ``clear``
    (for ``>``/``>=``: until ``value <= clear``; for ``<``/``<=``: until ``value >= clear``).

    With ``scale_by`` (the name of a label-less signal, e.g. ``liq_coverage_share``) the
    threshold and the clear level are multiplied by that signal's latest value: the evaluator
    steps the condition on ``value / scale`` (the same comparison for a positive scale).
    """

    id: str
    signal: str
    matchers: tuple[Matcher, ...]
    op: Comparison
    threshold: float
    clear: float | None = None
    scale_by: str | None = None

    def selects(self, labels: Mapping[str, str]) -> bool:
        """Return whether a series with these labels is selected by the matchers."""
        return matches_all(self.matchers, labels)

    def step(self, latched: bool, value: float) -> bool:
        """Return the new truth of the condition for a series, given its previous truth."""
        if math.isnan(value):
            return False
        op = self.op
        if latched and self.clear is not None:
            if op in (">", ">="):
                return value > self.clear
            if op in ("<", "<="):
                return value < self.clear
        t = self.threshold
        if op == ">":
            return value > t
        if op == ">=":
            return value >= t
        if op == "<":
            return value < t
        if op == "<=":
            return value <= t
        if op == "==":
            return value == t
        return value != t


@dataclass(frozen=True, slots=True)
class AbsentSpec:
    """Fire when a selected series has sent nothing for ``after_ns`` (or was never seen)."""

    signal: str
    matchers: tuple[Matcher, ...]
    after_ns: int

    def selects(self, labels: Mapping[str, str]) -> bool:
        """Return whether a series with these labels is selected by the matchers."""
        return matches_all(self.matchers, labels)


@dataclass(frozen=True, slots=True)
class Rule:
    """One executable alert rule (one level of a YAML rule).

    ``on`` is the tuple of join labels for composite rules (the alert's identity labels);
    ``None`` means one alert per selected series, identified by all the series' labels.
    """

    id: str
    name: str
    level: Level
    severity: Severity
    conditions: tuple[Condition, ...]
    mode: Literal["all", "any"]
    on: tuple[str, ...] | None
    for_ns: int
    keep_firing_for_ns: int
    labels: dict[str, str]
    annotations: dict[str, str]
    absent: AbsentSpec | None = None
    value_from: str | None = None
    source: str = ""
    description: str = ""


@dataclass(frozen=True, slots=True)
class InhibitRule:
    """While a ``source`` alert fires, mute ``target`` alerts that share the ``equal`` labels."""

    source: tuple[Matcher, ...]
    target: tuple[Matcher, ...]
    equal: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RuleSet:
    """The rules of one or more files, plus the inhibition rules they ship."""

    rules: tuple[Rule, ...]
    inhibit: tuple[InhibitRule, ...] = ()
    name: str = ""
    sources: tuple[str, ...] = ()
    _by_alert: dict[tuple[str, str, str], Rule] = field(
        default_factory=dict, compare=False, repr=False
    )

    def __post_init__(self) -> None:
        for r in self.rules:
            self._by_alert[(r.name, r.severity, r.labels.get("tier", ""))] = r

    def rule_for(self, rule: str, severity: str, labels: Mapping[str, str]) -> Rule | None:
        """Return the rule (level) that produced an alert, from its name, severity and labels."""
        return self._by_alert.get((rule, severity, labels.get("tier", "")))

    def __len__(self) -> int:
        return len(self.rules)
