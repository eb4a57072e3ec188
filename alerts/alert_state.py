"""The evaluator's state: per rule, its alerts, each alert's phase, peak and the last value of
every series it selects; and that state as JSON-safe data for snapshots.

:mod:`alerts.evaluator` walks the state machine over these records; this module only holds them,
creates them and encodes them (:meth:`RuleState.encode`, :meth:`RuleState.decode`). Nothing here
does I/O or reads a clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from alerts.rules.model import Rule, fingerprint

__all__ = [
    "FIRING",
    "INACTIVE",
    "PENDING",
    "AlertState",
    "LabelKey",
    "RuleState",
    "Series",
    "more_extreme",
]

INACTIVE, PENDING, FIRING = 0, 1, 2

LabelKey = tuple[tuple[str, str], ...]


def more_extreme(op: str, a: float, b: float) -> float:
    """The value further into the condition's firing side (``>``: the larger)."""
    if op in (">", ">="):
        return max(a, b)
    if op in ("<", "<="):
        return min(a, b)
    return b


@dataclass(slots=True)
class Series:
    """The last sample of one series selected by a condition."""

    value: float
    ts: int
    latched: bool
    extreme: float = float("nan")  # most extreme value since the condition latched


@dataclass(slots=True)
class AlertState:
    """One alert of a rule: its phase, timers, value and peak, and its conditions' series."""

    labels: dict[str, str]
    conds: list[dict[LabelKey, Series]]
    phase: int = INACTIVE
    pending_since: int = 0
    fired_at: int = 0
    inactive_since: int | None = None
    value: float = 0.0
    fingerprint: str = ""
    peak: float | None = None  # most extreme value since the alert went pending
    peak_at: int = 0
    texts: dict[str, float] = field(default_factory=dict)  # condition values for the texts

    def waits(self) -> bool:
        """Whether a timer runs: pending (``for``), or firing while false (``keep_firing_for``)."""
        return self.phase == PENDING or (self.phase == FIRING and self.inactive_since is not None)


def _key(pairs: Any) -> LabelKey:
    return tuple((str(k), str(v)) for k, v in pairs)


@dataclass(slots=True)
class RuleState:
    """A rule's alerts by identity, and the identities whose timers run."""

    rule: Rule
    alerts: dict[LabelKey, AlertState] = field(default_factory=dict)
    timers: set[LabelKey] = field(default_factory=set)

    def new_alert(self, key: LabelKey, extra: dict[str, str] | None = None) -> AlertState:
        """Add the alert identified by ``key``: labelled by its key, ``extra`` and the rule."""
        labels = dict(key)
        labels.update(self.rule.labels)
        for k, v in (extra or {}).items():
            labels.setdefault(k, v)
        n = 1 if self.rule.absent is not None else len(self.rule.conditions)
        a = AlertState(labels=labels, conds=[{} for _ in range(n)])
        a.fingerprint = fingerprint(self.rule.name, labels)
        self.alerts[key] = a
        return a

    def encode(self) -> list[dict[str, Any]]:
        """The alerts as JSON-safe data (see :meth:`decode`)."""
        return [
            {
                "key": [list(kv) for kv in key],
                "labels": a.labels,
                "phase": a.phase,
                "pending_since": a.pending_since,
                "fired_at": a.fired_at,
                "inactive_since": a.inactive_since,
                "value": a.value,
                "peak": a.peak,
                "peak_at": a.peak_at,
                "conds": [
                    [
                        [[list(kv) for kv in sk], s.value, s.ts, s.latched, s.extreme]
                        for sk, s in c.items()
                    ]
                    for c in a.conds
                ],
            }
            for key, a in self.alerts.items()
        ]

    def decode(self, items: list[dict[str, Any]]) -> None:
        """Replace the alerts (and timers) with those of :meth:`encode`'s data."""
        self.alerts.clear()
        self.timers.clear()
        ncond = max(1, len(self.rule.conditions))
        for item in items:
            conds: list[dict[LabelKey, Series]] = [{} for _ in range(ncond)]
            for j, c in enumerate(item["conds"][:ncond]):
                for sk, value, ts, latched, *rest in c:
                    extreme = float(rest[0]) if rest and rest[0] is not None else float(value)
                    conds[j][_key(sk)] = Series(float(value), int(ts), bool(latched), extreme)
            labels = {str(k): str(v) for k, v in item["labels"].items()}
            inactive_since = item["inactive_since"]
            a = AlertState(
                labels=labels,
                conds=conds,
                phase=int(item["phase"]),
                pending_since=int(item["pending_since"]),
                fired_at=int(item["fired_at"]),
                inactive_since=None if inactive_since is None else int(inactive_since),
                value=float(item["value"]),
                fingerprint=fingerprint(self.rule.name, labels),
                peak=None if item.get("peak") is None else float(item["peak"]),
                peak_at=int(item.get("peak_at") or 0),
            )
            key = _key(item["key"])
            self.alerts[key] = a
            if a.waits():
                self.timers.add(key)
