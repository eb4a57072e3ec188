"""The rule file's schema (pydantic): what a rule file may say, before rules are built.

These models validate the YAML data shape-by-shape (field types, durations, which fields go
together); :mod:`alerts.rules.build` turns a validated :class:`PackSpec` into runtime
:class:`~alerts.rules.model.Rule` objects, and :mod:`alerts.rules.loader` reports the problems of
both steps with their line and column.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from alerts.rules.model import Comparison, Level
from alerts.rules.positions import DocPath
from streams.units import NS_PER_DAY, NS_PER_HOUR, NS_PER_MINUTE, NS_PER_SECOND

__all__ = [
    "NAME_RE",
    "AbsenceSpec",
    "ConditionSpec",
    "InhibitSpec",
    "LevelSpec",
    "PackSpec",
    "RuleSpec",
    "parse_duration_ns",
]

_DURATION_RE = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
_UNIT_NS = {
    "ms": 1_000_000,
    "s": NS_PER_SECOND,
    "m": NS_PER_MINUTE,
    "h": NS_PER_HOUR,
    "d": NS_PER_DAY,
}
NAME_RE = r"^[A-Za-z_][A-Za-z0-9_]*$"


def parse_duration_ns(value: object) -> int:
    """Parse a duration (seconds as a number, or ``1h30m``-style text) into integer nanoseconds.

    Raises:
        ValueError: the value is not a duration.
    """
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 30s, 5m, 1h")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        return round(float(value) * NS_PER_SECOND)
    if isinstance(value, str):
        text = value.strip()
        if text in ("0", ""):
            return 0
        pos = 0
        total = 0
        for m in _DURATION_RE.finditer(text):
            if m.start() != pos:
                break
            total += round(float(m.group(1)) * _UNIT_NS[m.group(2)])
            pos = m.end()
        if pos == len(text) and pos > 0:
            return total
    raise ValueError(f"expected a duration such as 30s, 5m, 1h (got {value!r})")


def _to_duration(v: object) -> int:
    return parse_duration_ns(v)


def _scalar_to_str(v: object) -> object:
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, int | float):
        return str(v)
    return v


def _match_values(v: object) -> object:
    if isinstance(v, Mapping):
        return {
            k: ([_scalar_to_str(x) for x in val] if isinstance(val, list) else _scalar_to_str(val))
            for k, val in v.items()
        }
    return v


def _str_dict(v: object) -> object:
    if isinstance(v, Mapping):
        return {k: _scalar_to_str(val) for k, val in v.items()}
    return v


DurationNs = Annotated[int, BeforeValidator(_to_duration)]
MatchMap = Annotated[dict[str, str | list[str]], BeforeValidator(_match_values)]
StrMap = Annotated[dict[str, str], BeforeValidator(_str_dict)]
LabelName = Annotated[str, Field(pattern=NAME_RE)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ConditionSpec(_Model):
    """One condition of a composite rule (``all_of``/``any_of``)."""

    id: Annotated[str, Field(pattern=NAME_RE)] | None = None
    signal: str = Field(min_length=1)
    match: MatchMap = {}
    op: Comparison = ">="
    threshold: float
    clear: float | None = None
    scale_by: Annotated[str, Field(pattern=NAME_RE)] | None = None


class LevelSpec(_Model):
    """One level of a signal rule: its threshold, and what it overrides of the rule."""

    level: Level
    threshold: float
    clear: float | None = None
    for_: DurationNs | None = Field(default=None, alias="for")
    keep_firing_for: DurationNs | None = None
    labels: StrMap = {}
    annotations: StrMap = {}


class AbsenceSpec(_Model):
    """An absence rule's series and how long it may stay silent."""

    signal: str = Field(min_length=1)
    match: MatchMap = {}
    after: DurationNs


class RuleSpec(_Model):
    """One entry of ``rules``: a signal rule (levels), a composite rule or an absence rule."""

    name: Annotated[str, Field(pattern=NAME_RE)]
    description: str = ""
    level: Level | None = None
    signal: str | None = None
    match: MatchMap = {}
    op: Comparison = ">="
    threshold: float | None = None
    clear: float | None = None
    levels: list[LevelSpec] | None = None
    all_of: list[ConditionSpec] | None = None
    any_of: list[ConditionSpec] | None = None
    on: list[LabelName] | None = None
    absent: AbsenceSpec | None = None
    value_from: str | None = None
    scale_by: Annotated[str, Field(pattern=NAME_RE)] | None = None
    for_: DurationNs = Field(default=0, alias="for")
    keep_firing_for: DurationNs = 0
    labels: StrMap = {}
    annotations: StrMap = {}

    @model_validator(mode="after")
    def _shape(self) -> RuleSpec:
        kinds = [
            k
            for k, present in (
                ("signal", self.signal is not None),
                ("all_of", self.all_of is not None),
                ("any_of", self.any_of is not None),
                ("absent", self.absent is not None),
            )
            if present
        ]
        if len(kinds) != 1:
            raise ValueError(
                "a rule needs exactly one of 'signal', 'all_of', 'any_of' or 'absent'"
                + (f" (found {', '.join(kinds)})" if kinds else "")
            )
        if self.levels is not None:
            if self.signal is None:
                raise ValueError("'levels' is only allowed on a rule with 'signal'")
            if self.level is not None or self.threshold is not None:
                raise ValueError("use either 'levels' or 'level' + 'threshold', not both")
            if not self.levels:
                raise ValueError("'levels' must not be empty")
        else:
            if self.level is None:
                raise ValueError("missing 'level' (watch, info, warning, critical, extreme)")
            if self.signal is not None and self.threshold is None:
                raise ValueError("missing 'threshold'")
        if self.signal is None and (self.threshold is not None or self.clear is not None):
            raise ValueError("'threshold'/'clear' belong in the conditions of this rule")
        if self.signal is None and self.scale_by is not None:
            raise ValueError("'scale_by' belongs in the conditions of this rule")
        if (self.all_of is not None or self.any_of is not None) and not self.on:
            raise ValueError("a composite rule needs 'on' (the labels its conditions share)")
        return self

    def signal_levels(self) -> list[tuple[DocPath, LevelSpec]]:
        """A signal rule's levels with their document paths (relative to the rule).

        A single-level rule (``level`` + ``threshold`` + ``clear``) is one level at the rule's own
        path, so the builder handles both forms alike. Empty for other kinds of rules.
        """
        if self.signal is None:
            return []
        if self.levels is not None:
            return [(("levels", j), lv) for j, lv in enumerate(self.levels)]
        assert self.level is not None  # checked by _shape
        assert self.threshold is not None
        return [((), LevelSpec(level=self.level, threshold=self.threshold, clear=self.clear))]


class PackSpec(_Model):
    """A whole rule file."""

    pack: str | None = None
    description: str = ""
    inhibit: list[InhibitSpec] = []
    rules: list[RuleSpec] = []


class InhibitSpec(_Model):
    """One entry of ``inhibit``."""

    source: list[str]
    target: list[str]
    equal: list[LabelName] = []


PackSpec.model_rebuild()
