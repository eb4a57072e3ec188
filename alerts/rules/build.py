"""Build runtime rules from a validated rule file, collecting every problem with its location.

A signal rule becomes one :class:`~alerts.rules.model.Rule` per level. A single-level rule
(``level`` + ``threshold`` + ``clear``) arrives as a one-element level list
(:meth:`~alerts.rules.spec.RuleSpec.signal_levels`), so both forms take the same path. A composite
(``all_of``/``any_of``) or absence rule becomes one rule at its ``level``. Signals, matchers,
``scale_by`` and annotation templates are checked against the signal catalogue here; each problem
is recorded with its document path and located by :class:`~alerts.rules.positions.Positions`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Literal

from alerts.matchers import Matcher, MatcherError, parse_matcher
from alerts.rules.model import (
    LEVEL_SEVERITY,
    AbsentSpec,
    Condition,
    InhibitRule,
    Level,
    Rule,
)
from alerts.rules.positions import DocPath, Positions, field_name
from alerts.rules.problems import RuleProblem
from alerts.rules.signals_check import check_match, check_signal, unknown_fields
from alerts.rules.spec import NAME_RE, ConditionSpec, InhibitSpec, LevelSpec, RuleSpec
from alerts.rules.template import TemplateError, check_template

__all__ = ["RuleBuilder"]


def _matchers(match: Mapping[str, str | list[str]]) -> tuple[Matcher, ...]:
    out: list[Matcher] = []
    for name, val in match.items():
        if not re.match(NAME_RE, name):
            raise MatcherError(f"bad label name {name!r}")
        if isinstance(val, list):
            out.append(Matcher.create(name, "=~", "|".join(re.escape(v) for v in val)))
        elif val.startswith(("=~", "!~", "!=")):
            out.append(Matcher.create(name, val[:2], val[2:]))  # type: ignore[arg-type]
        else:
            out.append(Matcher.create(name, "=", val))
    return tuple(out)


def _check_scale(op: str, scale_by: str | None) -> None:
    if scale_by is not None and op not in (">", ">=", "<", "<="):
        raise ValueError(f"'scale_by' needs <, <=, > or >= (a scaled '{op}' never holds)")


def _check_clear(op: str, threshold: float, clear: float | None) -> None:
    if clear is None:
        return
    if op in (">", ">=") and clear > threshold:
        raise ValueError(f"clear ({clear:g}) must be <= threshold ({threshold:g}) for '{op}'")
    if op in ("<", "<=") and clear < threshold:
        raise ValueError(f"clear ({clear:g}) must be >= threshold ({threshold:g}) for '{op}'")
    if op in ("==", "!="):
        raise ValueError(f"'clear' is only meaningful with <, <=, > or >= (not '{op}')")


def _level_labels(level: Level, labels: Mapping[str, str]) -> dict[str, str]:
    out = dict(labels)
    out["severity"] = LEVEL_SEVERITY[level]
    if level == "extreme":
        out.setdefault("tier", "extreme")
    return out


def _rule(
    spec: RuleSpec,
    level: Level,
    source: str,
    conditions: tuple[Condition, ...],
    *,
    mode: Literal["all", "any"] = "all",
    on: tuple[str, ...] | None = None,
    lv: LevelSpec | None = None,
    absent: AbsentSpec | None = None,
    value_from: str | None = None,
) -> Rule:
    """The rule of ``spec`` at ``level``; ``lv`` (a signal rule's level) overrides its timing,
    labels and annotations."""
    for_ns = spec.for_ if lv is None or lv.for_ is None else lv.for_
    keep_ns = spec.keep_firing_for
    if lv is not None and lv.keep_firing_for is not None:
        keep_ns = lv.keep_firing_for
    return Rule(
        id=f"{spec.name}:{level}",
        name=spec.name,
        level=level,
        severity=LEVEL_SEVERITY[level],
        source=source,
        description=spec.description,
        conditions=conditions,
        mode=mode,
        on=on,
        for_ns=for_ns,
        keep_firing_for_ns=keep_ns,
        labels=_level_labels(level, {**spec.labels, **(lv.labels if lv else {})}),
        annotations={**spec.annotations, **(lv.annotations if lv else {})},
        absent=absent,
        value_from=value_from,
    )


class RuleBuilder:
    """Turns the validated parts of one rule file into runtime rules; ``problems`` collects what
    is wrong (the caller raises them together)."""

    def __init__(self, file: str, pos: Positions, data: object) -> None:
        self.file = file
        self.pos = pos
        self.data = data
        self.problems: list[RuleProblem] = []

    def problem(self, path: DocPath, message: str) -> None:
        """Record a problem at a document path (located by line and column)."""
        line, col = self.pos.locate(path)
        self.problems.append(
            RuleProblem(self.file, line, col, field_name(path, self.data), message)
        )

    def catalogue(
        self, signal: str, match: Mapping[str, str | list[str]], path: DocPath
    ) -> set[str]:
        """Check a signal and its matchers against the catalogue; return its label names."""
        sig, problems = check_signal(signal, (*path, "signal"))
        if sig is not None:
            problems += check_match(sig, match, (*path, "match"))
        for where, msg in problems:
            self.problem(where, msg)
        return set() if sig is None else {lbl.name for lbl in sig.labels}

    def template_syntax(self, path: DocPath, annotations: Mapping[str, str]) -> None:
        """Report annotation templates that do not parse."""
        for key, text in annotations.items():
            try:
                check_template(text)
            except TemplateError as e:
                self.problem((*path, "annotations", key), f"bad template: {e}")

    def templates(self, path: DocPath, annotations: Mapping[str, str], known: set[str]) -> None:
        """Report template fields that no alert of this rule will ever have."""
        for key, text in annotations.items():
            bad = unknown_fields(text, known)
            if bad:
                self.problem(
                    (*path, "annotations", key),
                    f"unknown template field(s) {', '.join('{' + b + '}' for b in bad)}"
                    f" (known: {', '.join(sorted(known))}, value, threshold, peak and _h forms)",
                )

    def scale_fields(self, scale_by: str | None, cid: str, path: DocPath) -> set[str]:
        """Check a ``scale_by`` signal (catalogued, label-less); the template fields it adds."""
        if scale_by is None:
            return set()
        sig, problems = check_signal(scale_by, (*path, "scale_by"))
        if sig is not None and sig.labels:
            problems.append(((*path, "scale_by"), f"{scale_by} has labels; a scale has none"))
        for where, msg in problems:
            self.problem(where, msg)
        return {"coverage", "estimate" if cid == "value" else f"{cid}_estimate"}

    def rules(self, i: int, spec: RuleSpec) -> list[Rule]:
        """The runtime rules of ``rules[i]`` (none when it has a problem that stops building)."""
        base: DocPath = ("rules", i)
        self.template_syntax(base, spec.annotations)
        source = f"{self.file}:{self.pos.locate(base)[0]}"
        try:
            if spec.signal is not None:
                return self._signal_rules(spec, spec.signal, base, source)
            if spec.absent is not None:
                return [self._absent_rule(spec, base, source)]
            return [self._composite_rule(spec, base, source)]
        except MatcherError as e:
            self.problem((*base, "match"), str(e))
            return []

    def _signal_rules(self, spec: RuleSpec, signal: str, base: DocPath, source: str) -> list[Rule]:
        matchers = _matchers(spec.match)
        try:
            _check_scale(spec.op, spec.scale_by)
        except ValueError as e:
            self.problem((*base, "scale_by"), str(e))
            return []
        known = self.catalogue(signal, spec.match, base) | {"severity", "tier"}
        known |= set(spec.labels) | self.scale_fields(spec.scale_by, "value", base)
        self.templates(base, spec.annotations, known)
        out: list[Rule] = []
        seen_levels: set[str] = set()
        for sub, lv in spec.signal_levels():
            if lv.level in seen_levels:
                self.problem(base + sub + ("level",), f"level {lv.level!r} appears twice")
                continue
            seen_levels.add(lv.level)
            try:
                _check_clear(spec.op, lv.threshold, lv.clear)
            except ValueError as e:
                self.problem(base + sub + ("clear",), str(e))
                continue
            self.template_syntax(base + sub, lv.annotations)
            self.templates(base + sub, lv.annotations, known | set(lv.labels))
            cond = Condition(
                "value", signal, matchers, spec.op, lv.threshold, lv.clear, spec.scale_by
            )
            out.append(_rule(spec, lv.level, source, (cond,), lv=lv))
        return out

    def _absent_rule(self, spec: RuleSpec, base: DocPath, source: str) -> Rule:
        assert spec.level is not None
        assert spec.absent is not None
        a = spec.absent
        known = self.catalogue(a.signal, a.match, (*base, "absent"))
        known |= {"signal", "after", "severity", "tier", *spec.labels}
        self.templates(base, spec.annotations, known)
        absent = AbsentSpec(a.signal, _matchers(a.match), a.after)
        return _rule(spec, spec.level, source, (), absent=absent)

    def _composite_rule(self, spec: RuleSpec, base: DocPath, source: str) -> Rule:
        assert spec.level is not None
        key = "all_of" if spec.all_of is not None else "any_of"
        conds_spec = spec.all_of if spec.all_of is not None else spec.any_of
        assert conds_spec is not None
        conds: list[Condition] = []
        ids: set[str] = set()
        on = set(spec.on or ())
        scaled: set[str] = set()
        first_id = (conds_spec[0].id or "c0") if conds_spec else ""
        for j, c in enumerate(conds_spec):
            cid = c.id or f"c{j}"
            path: DocPath = (*base, key, j)
            names = self.catalogue(c.signal, c.match, path)
            if names and not on <= names:
                self.problem(
                    (*path, "signal"),
                    f"{c.signal} has no label {', '.join(sorted(on - names))} to join on",
                )
            if cid in ids:
                self.problem((*path, "id"), f"condition id {cid!r} appears twice")
            ids.add(cid)
            scaled |= self._condition_checks(c, cid, path)
            if c.scale_by is not None and cid == (spec.value_from or first_id):
                scaled.add("estimate")
            try:
                conds.append(
                    Condition(
                        cid, c.signal, _matchers(c.match), c.op, c.threshold, c.clear, c.scale_by
                    )
                )
            except MatcherError as e:
                self.problem((*path, "match"), str(e))
        if spec.value_from is not None and spec.value_from not in ids:
            self.problem(
                (*base, "value_from"),
                f"unknown condition id {spec.value_from!r} (known: {', '.join(sorted(ids))})",
            )
        if not conds_spec:
            self.problem((*base, key), "needs at least one condition")
        self.templates(
            base, spec.annotations, on | ids | scaled | {"severity", "tier", *spec.labels}
        )
        return _rule(
            spec,
            spec.level,
            source,
            tuple(conds),
            mode="all" if key == "all_of" else "any",
            on=tuple(spec.on or ()),
            value_from=spec.value_from,
        )

    def _condition_checks(self, c: ConditionSpec, cid: str, path: DocPath) -> set[str]:
        """A condition's ``clear`` and ``scale_by``; the template fields its scale adds."""
        try:
            _check_clear(c.op, c.threshold, c.clear)
        except ValueError as e:
            self.problem((*path, "clear"), str(e))
        try:
            _check_scale(c.op, c.scale_by)
        except ValueError as e:
            self.problem((*path, "scale_by"), str(e))
        return self.scale_fields(c.scale_by, cid, path)

    def inhibit(self, specs: Iterable[InhibitSpec]) -> list[InhibitRule]:
        """The inhibition rules of ``inhibit``, in matcher syntax."""
        out: list[InhibitRule] = []
        for i, ih in enumerate(specs):
            try:
                out.append(
                    InhibitRule(
                        tuple(parse_matcher(m) for m in ih.source),
                        tuple(parse_matcher(m) for m in ih.target),
                        tuple(ih.equal),
                    )
                )
            except MatcherError as e:
                self.problem(("inhibit", i), str(e))
        return out

    def check_unique(self, rules: Iterable[Rule]) -> None:
        """Report an alert (name, severity, tier) defined twice, at the second definition."""
        seen: dict[tuple[str, str, str], Rule] = {}
        for r in rules:
            key = (r.name, r.severity, r.labels.get("tier", ""))
            if key in seen:
                self.problems.append(
                    RuleProblem(
                        self.file,
                        int(r.source.rsplit(":", 1)[1]),
                        1,
                        f"rules({r.name})",
                        f"rule {r.name!r} with severity {r.severity} is defined twice "
                        f"(first at {seen[key].source})",
                    )
                )
            seen[key] = r
