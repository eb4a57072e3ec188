"""Load and validate rule files (YAML), with errors that name the file, line and field.

A rule file::

    pack: november-2025          # optional name
    inhibit:                     # optional inhibition rules (used by the dispatcher)
      - source: ['alertname=deleveraging_event', 'severity=critical']
        target: ['severity=~warning|info']
        equal: [asset]
    rules:
      - name: liquidations_1h            # the alert name
        signal: liq_usd
        match: {asset: all, side: all, window: 1h}   # value, '!=v', '=~re', '!~re' or a list
        op: ">="
        for: 1m
        keep_firing_for: 5m
        annotations: {summary: "Liquidations {value_h} USD in 1 h", runbook: "..."}
        levels:                          # or: level + threshold (+ clear) for a single level
          - {level: warning, threshold: 250e6, clear: 150e6}
          - {level: critical, threshold: 750e6, clear: 500e6}
      - name: deleveraging_event         # composite: conditions joined on shared labels
        level: critical
        on: [asset]
        all_of:
          - {id: liq, signal: liq_usd, match: {side: long, window: 1h}, op: ">=", threshold: 5e8}
          - {id: oi, signal: oi_drawdown_pct, op: "<=", threshold: -25}
      - name: feed_silent                # absence: a series sent nothing for `after`
        level: warning
        absent: {signal: feed_age_seconds, after: 5m}

Durations are numbers of seconds or strings such as ``90s``, ``5m``, ``1h30m``, ``2d``.

The schema is :mod:`alerts.rules.spec`; line and column tracking is :mod:`alerts.rules.positions`.
This module builds runtime rules from a validated file (a single-level rule is built as a rule
with one level) and collects every problem with its location before raising :class:`RuleError`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from alerts.matchers import Matcher, MatcherError, parse_matcher
from alerts.rules.model import (
    LEVEL_SEVERITY,
    AbsentSpec,
    Condition,
    InhibitRule,
    Level,
    Rule,
    RuleSet,
)
from alerts.rules.positions import DocPath, Positions, clean_loc, compose, field_name
from alerts.rules.signals_check import check_match, check_signal, unknown_fields
from alerts.rules.spec import NAME_RE, PackSpec, RuleSpec, parse_duration_ns
from alerts.rules.template import TemplateError, check_template

__all__ = [
    "RuleError",
    "RuleProblem",
    "available_packs",
    "is_rule_path",
    "load_pack",
    "load_rules",
    "load_rules_text",
    "load_ruleset",
    "merge_rulesets",
    "parse_duration_ns",
]


@dataclass(frozen=True, slots=True)
class RuleProblem:
    """One validation problem, located in its file."""

    file: str
    line: int
    column: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}" if self.line else self.file
        fld = f" {self.field}:" if self.field else ""
        return f"{where}:{fld} {self.message}"


class RuleError(ValueError):
    """A rule file is invalid; ``problems`` lists every problem found, each with file and line."""

    def __init__(self, problems: Sequence[RuleProblem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


# --- building runtime rules ------------------------------------------------------------------


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


class _Builder:
    def __init__(self, file: str, pos: Positions, data: object) -> None:
        self.file = file
        self.pos = pos
        self.data = data
        self.problems: list[RuleProblem] = []

    def problem(self, path: DocPath, message: str) -> None:
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

    def level_labels(self, level: Level, labels: Mapping[str, str]) -> dict[str, str]:
        out = dict(labels)
        out["severity"] = LEVEL_SEVERITY[level]
        if level == "extreme":
            out.setdefault("tier", "extreme")
        return out

    def rules(self, i: int, spec: RuleSpec) -> list[Rule]:
        base: DocPath = ("rules", i)
        out: list[Rule] = []
        for key, text in spec.annotations.items():
            try:
                check_template(text)
            except TemplateError as e:
                self.problem((*base, "annotations", key), f"bad template: {e}")
        source = f"{self.file}:{self.pos.locate(base)[0]}"
        try:
            if spec.signal is not None:
                matchers = _matchers(spec.match)
                try:
                    _check_scale(spec.op, spec.scale_by)
                except ValueError as e:
                    self.problem((*base, "scale_by"), str(e))
                    return []
                known = self.catalogue(spec.signal, spec.match, base) | {"severity", "tier"}
                known |= set(spec.labels) | self.scale_fields(spec.scale_by, "value", base)
                self.templates(base, spec.annotations, known)
                seen_levels: set[str] = set()
                for sub, lv in spec.signal_levels():
                    level, thr, clr = lv.level, lv.threshold, lv.clear
                    if level in seen_levels:
                        self.problem(base + sub + ("level",), f"level {level!r} appears twice")
                        continue
                    seen_levels.add(level)
                    try:
                        _check_clear(spec.op, thr, clr)
                    except ValueError as e:
                        self.problem(base + sub + ("clear",), str(e))
                        continue
                    for key, text in lv.annotations.items():
                        try:
                            check_template(text)
                        except TemplateError as e:
                            self.problem(base + sub + ("annotations", key), f"bad template: {e}")
                    self.templates(base + sub, lv.annotations, known | set(lv.labels))
                    cond = Condition(
                        "value", spec.signal, matchers, spec.op, thr, clr, spec.scale_by
                    )
                    out.append(
                        _rule(
                            spec,
                            level,
                            source,
                            conditions=(cond,),
                            mode="all",
                            on=None,
                            for_ns=spec.for_ if lv.for_ is None else lv.for_,
                            keep_firing_for_ns=(
                                spec.keep_firing_for
                                if lv.keep_firing_for is None
                                else lv.keep_firing_for
                            ),
                            labels=self.level_labels(level, {**spec.labels, **lv.labels}),
                            annotations={**spec.annotations, **lv.annotations},
                        )
                    )
            elif spec.absent is not None:
                assert spec.level is not None
                a = spec.absent
                known = self.catalogue(a.signal, a.match, (*base, "absent"))
                known |= {"signal", "after", "severity", "tier", *spec.labels}
                self.templates(base, spec.annotations, known)
                out.append(
                    _rule(
                        spec,
                        spec.level,
                        source,
                        conditions=(),
                        mode="all",
                        on=None,
                        for_ns=spec.for_,
                        keep_firing_for_ns=spec.keep_firing_for,
                        labels=self.level_labels(spec.level, spec.labels),
                        annotations=dict(spec.annotations),
                        absent=AbsentSpec(a.signal, _matchers(a.match), a.after),
                    )
                )
            else:
                assert spec.level is not None
                conds_spec = spec.all_of if spec.all_of is not None else spec.any_of
                key = "all_of" if spec.all_of is not None else "any_of"
                assert conds_spec is not None
                conds: list[Condition] = []
                ids: set[str] = set()
                on = set(spec.on or ())
                scaled: set[str] = set()
                first_id = (conds_spec[0].id or "c0") if conds_spec else ""
                for j, c in enumerate(conds_spec):
                    cid = c.id or f"c{j}"
                    names = self.catalogue(c.signal, c.match, (*base, key, j))
                    if names and not on <= names:
                        self.problem(
                            (*base, key, j, "signal"),
                            f"{c.signal} has no label {', '.join(sorted(on - names))} to join on",
                        )
                    if cid in ids:
                        self.problem((*base, key, j, "id"), f"condition id {cid!r} appears twice")
                    ids.add(cid)
                    try:
                        _check_clear(c.op, c.threshold, c.clear)
                    except ValueError as e:
                        self.problem((*base, key, j, "clear"), str(e))
                    try:
                        _check_scale(c.op, c.scale_by)
                    except ValueError as e:
                        self.problem((*base, key, j, "scale_by"), str(e))
                    scaled |= self.scale_fields(c.scale_by, cid, (*base, key, j))
                    if c.scale_by is not None and cid == (spec.value_from or first_id):
                        scaled.add("estimate")
                    try:
                        conds.append(
                            Condition(
                                cid,
                                c.signal,
                                _matchers(c.match),
                                c.op,
                                c.threshold,
                                c.clear,
                                c.scale_by,
                            )
                        )
                    except MatcherError as e:
                        self.problem((*base, key, j, "match"), str(e))
                if spec.value_from is not None and spec.value_from not in ids:
                    self.problem(
                        (*base, "value_from"),
                        f"unknown condition id {spec.value_from!r}"
                        f" (known: {', '.join(sorted(ids))})",
                    )
                if not conds_spec:
                    self.problem((*base, key), "needs at least one condition")
                known = on | ids | scaled | {"severity", "tier", *spec.labels}
                self.templates(base, spec.annotations, known)
                out.append(
                    _rule(
                        spec,
                        spec.level,
                        source,
                        conditions=tuple(conds),
                        mode="all" if key == "all_of" else "any",
                        on=tuple(spec.on or ()),
                        for_ns=spec.for_,
                        keep_firing_for_ns=spec.keep_firing_for,
                        labels=self.level_labels(spec.level, spec.labels),
                        annotations=dict(spec.annotations),
                        value_from=spec.value_from,
                    )
                )
        except MatcherError as e:
            self.problem((*base, "match"), str(e))
            return []
        return out


def _rule(spec: RuleSpec, level: Level, source: str, **fields: Any) -> Rule:
    """The rule of ``spec`` at ``level``: its id, name, severity and origin, then ``fields``."""
    return Rule(
        id=f"{spec.name}:{level}",
        name=spec.name,
        level=level,
        severity=LEVEL_SEVERITY[level],
        source=source,
        description=spec.description,
        **fields,
    )


def _parse_document(text: str, file: str) -> tuple[object, Positions]:
    try:
        return compose(text)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (0, 0)
        raise RuleError(
            [RuleProblem(file, line, col, "", f"YAML syntax error: {e.problem or e}")]
        ) from None
    except yaml.YAMLError as e:
        raise RuleError([RuleProblem(file, 0, 0, "", f"YAML error: {e}")]) from None


def _build(text: str, file: str) -> RuleSet:
    data, pos = _parse_document(text, file)
    problems: list[RuleProblem] = []
    for path, (line, col) in pos.duplicates:
        problems.append(RuleProblem(file, line, col, field_name(path, data), "duplicate key"))
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise RuleError([RuleProblem(file, 1, 1, "", "expected a mapping with a 'rules' list")])
    try:
        spec = PackSpec.model_validate(data)
    except ValidationError as e:
        for err in e.errors():
            path = clean_loc(err["loc"], data)
            line, col = pos.locate(path)
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown field"
            problems.append(RuleProblem(file, line, col, field_name(path, data), msg))
        raise RuleError(problems) from None
    b = _Builder(file, pos, data)
    b.problems.extend(problems)
    rules: list[Rule] = []
    for i, rs in enumerate(spec.rules):
        rules.extend(b.rules(i, rs))
    inhibit: list[InhibitRule] = []
    for i, ih in enumerate(spec.inhibit):
        try:
            inhibit.append(
                InhibitRule(
                    tuple(parse_matcher(m) for m in ih.source),
                    tuple(parse_matcher(m) for m in ih.target),
                    tuple(ih.equal),
                )
            )
        except MatcherError as e:
            b.problem(("inhibit", i), str(e))
    _check_unique(rules, b)
    if b.problems:
        raise RuleError(b.problems)
    return RuleSet(tuple(rules), tuple(inhibit), spec.pack or Path(file).stem, (file,))


def _check_unique(rules: Iterable[Rule], b: _Builder) -> None:
    seen: dict[tuple[str, str, str], Rule] = {}
    for r in rules:
        key = (r.name, r.severity, r.labels.get("tier", ""))
        if key in seen:
            b.problems.append(
                RuleProblem(
                    b.file,
                    int(r.source.rsplit(":", 1)[1]),
                    1,
                    f"rules({r.name})",
                    f"rule {r.name!r} with severity {r.severity} is defined twice "
                    f"(first at {seen[key].source})",
                )
            )
        seen[key] = r


def load_rules_text(text: str, file: str = "<string>") -> RuleSet:
    """Load rules from YAML text; ``file`` names the source in errors.

    Raises:
        RuleError: the text is invalid; every problem names file, line and field.
    """
    return _build(text, file)


def load_rules(path: str | Path) -> RuleSet:
    """Load a rule file, or every ``*.yaml``/``*.yml`` file of a directory.

    Raises:
        RuleError: a file is missing or invalid.
    """
    p = Path(path)
    files = sorted([*p.glob("*.yaml"), *p.glob("*.yml")]) if p.is_dir() else [p]
    sets: list[RuleSet] = []
    for f in files:
        try:
            text = f.read_text(encoding="utf-8")
        except OSError as e:
            raise RuleError([RuleProblem(str(f), 0, 0, "", f"cannot read: {e.strerror}")]) from None
        sets.append(_build(text, str(f)))
    return merge_rulesets(sets, name=p.stem)


def merge_rulesets(sets: Sequence[RuleSet], name: str = "") -> RuleSet:
    """Combine rule sets into one (rules and inhibition rules concatenated).

    Raises:
        RuleError: the same alert (name, severity, tier) is defined in two sets.
    """
    if len(sets) == 1:
        return sets[0]
    rules = tuple(r for s in sets for r in s.rules)
    b = _Builder(name, Positions(), None)
    _check_unique(rules, b)
    if b.problems:
        raise RuleError(b.problems)
    return RuleSet(
        rules,
        tuple(i for s in sets for i in s.inhibit),
        name,
        tuple(f for s in sets for f in s.sources),
    )


def available_packs() -> list[str]:
    """Return the names of the rule packs shipped with riskmon."""
    root = resources.files("alerts.packs")
    return sorted(p.name.removesuffix(".yaml") for p in root.iterdir() if p.name.endswith(".yaml"))


def load_pack(name: str) -> RuleSet:
    """Load a rule pack shipped as package data (e.g. ``november-2025``).

    Raises:
        RuleError: no such pack, or the pack is invalid.
    """
    res = resources.files("alerts.packs").joinpath(f"{name}.yaml")
    if not res.is_file():
        known = ", ".join(available_packs()) or "none"
        raise RuleError([RuleProblem(f"pack:{name}", 0, 0, "", f"no such pack (known: {known})")])
    return _build(res.read_text(encoding="utf-8"), f"pack:{name}")


def is_rule_path(name_or_path: str) -> bool:
    """Whether a ``rules`` setting names a file or directory (else it names a packaged pack)."""
    return name_or_path.endswith((".yaml", ".yml")) or "/" in name_or_path


def load_ruleset(name_or_path: str | Path) -> RuleSet:
    """Load a packaged pack by name (``november-2025``), or a rule file or directory by path.

    A string is a path when it ends in ``.yaml``/``.yml`` or contains ``/``; a :class:`Path`
    always is.

    Raises:
        RuleError: no such pack or file, or the rules are invalid.
    """
    if isinstance(name_or_path, Path) or is_rule_path(name_or_path):
        return load_rules(name_or_path)
    return load_pack(name_or_path)
