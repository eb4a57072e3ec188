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
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from alerts.matchers import Matcher, MatcherError, parse_matcher
from alerts.rules.model import (
    LEVEL_SEVERITY,
    AbsentSpec,
    Comparison,
    Condition,
    InhibitRule,
    Level,
    Rule,
    RuleSet,
)
from alerts.rules.template import TemplateError, check_template

__all__ = [
    "RuleError",
    "RuleProblem",
    "available_packs",
    "load_pack",
    "load_rules",
    "load_rules_text",
    "merge_rulesets",
    "parse_duration_ns",
]

_NS = 1_000_000_000
_DURATION_RE = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
_UNIT_NS = {"ms": 1_000_000, "s": _NS, "m": 60 * _NS, "h": 3600 * _NS, "d": 86400 * _NS}
_UNIT_NS["w"] = 7 * _UNIT_NS["d"]
_NAME_RE = r"^[A-Za-z_][A-Za-z0-9_]*$"


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
        return round(float(value) * _NS)
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
LabelName = Annotated[str, Field(pattern=_NAME_RE)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class _ConditionSpec(_Model):
    id: Annotated[str, Field(pattern=_NAME_RE)] | None = None
    signal: str = Field(min_length=1)
    match: MatchMap = {}
    op: Comparison = ">="
    threshold: float
    clear: float | None = None


class _LevelSpec(_Model):
    level: Level
    threshold: float
    clear: float | None = None
    for_: DurationNs | None = Field(default=None, alias="for")
    keep_firing_for: DurationNs | None = None
    labels: StrMap = {}
    annotations: StrMap = {}


class _AbsentSpec(_Model):
    signal: str = Field(min_length=1)
    match: MatchMap = {}
    after: DurationNs


class _RuleSpec(_Model):
    name: Annotated[str, Field(pattern=_NAME_RE)]
    description: str = ""
    level: Level | None = None
    signal: str | None = None
    match: MatchMap = {}
    op: Comparison = ">="
    threshold: float | None = None
    clear: float | None = None
    levels: list[_LevelSpec] | None = None
    all_of: list[_ConditionSpec] | None = None
    any_of: list[_ConditionSpec] | None = None
    on: list[LabelName] | None = None
    absent: _AbsentSpec | None = None
    value_from: str | None = None
    for_: DurationNs = Field(default=0, alias="for")
    keep_firing_for: DurationNs = 0
    labels: StrMap = {}
    annotations: StrMap = {}

    @model_validator(mode="after")
    def _shape(self) -> _RuleSpec:
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
        if (self.all_of is not None or self.any_of is not None) and not self.on:
            raise ValueError("a composite rule needs 'on' (the labels its conditions share)")
        return self


class _PackSpec(_Model):
    pack: str | None = None
    description: str = ""
    inhibit: list[_InhibitSpec] = []
    rules: list[_RuleSpec] = []


class _InhibitSpec(_Model):
    source: list[str]
    target: list[str]
    equal: list[LabelName] = []


_PackSpec.model_rebuild()


# --- YAML with positions ---------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans: ``on``/``off``/``yes``/``no`` stay strings."""


_Loader.yaml_implicit_resolvers = {
    ch: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for ch, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)

Path_ = tuple[str | int, ...]


class _Positions:
    def __init__(self) -> None:
        self.marks: dict[Path_, tuple[int, int]] = {}
        self.duplicates: list[tuple[Path_, tuple[int, int]]] = []

    def walk(self, node: yaml.Node, path: Path_) -> None:
        self.marks[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for k, v in node.value:
                key = str(k.value)
                if key in seen:
                    self.duplicates.append(((*path, key), (k.start_mark.line + 1, 1)))
                seen.add(key)
                self.marks[(*path, key)] = (k.start_mark.line + 1, k.start_mark.column + 1)
                self.walk(v, (*path, key))
                # the key's line, not the value's, locates "field: value" best
                self.marks[(*path, key)] = (k.start_mark.line + 1, k.start_mark.column + 1)
        elif isinstance(node, yaml.SequenceNode):
            for i, v in enumerate(node.value):
                self.walk(v, (*path, i))

    def locate(self, path: Path_) -> tuple[int, int]:
        p = path
        while p:
            if p in self.marks:
                return self.marks[p]
            p = p[:-1]
        return self.marks.get((), (0, 0))


def _field_name(path: Path_, data: object) -> str:
    out = ""
    node = data
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
            if isinstance(node, list) and 0 <= part < len(node):
                node = node[part]
                if isinstance(node, dict) and isinstance(node.get("name"), str):
                    out += f"({node['name']})"
            else:
                node = None
        else:
            out += ("." if out else "") + part
            node = node.get(part) if isinstance(node, dict) else None
    return out


def _clean_loc(loc: Sequence[str | int], data: object) -> Path_:
    """Keep the parts of a pydantic error location that exist in the YAML document."""
    out: list[str | int] = []
    node = data
    for part in loc:
        if isinstance(node, list):
            if not (isinstance(part, int) and 0 <= part < len(node)):
                break
            node = node[part]
            out.append(part)
        elif isinstance(node, dict):
            key = part if part in node else str(part).rstrip("_")
            if key in node:
                node = node[key]
                out.append(key)
            elif isinstance(part, str) and not part.startswith("function"):
                out.append(part)  # a missing field: locate it at its parent
                break
        else:
            break
    return tuple(out)


# --- building runtime rules ------------------------------------------------------------------


def _matchers(match: Mapping[str, str | list[str]]) -> tuple[Matcher, ...]:
    out: list[Matcher] = []
    for name, val in match.items():
        if not re.match(_NAME_RE, name):
            raise MatcherError(f"bad label name {name!r}")
        if isinstance(val, list):
            out.append(Matcher.create(name, "=~", "|".join(re.escape(v) for v in val)))
        elif val.startswith(("=~", "!~", "!=")):
            out.append(Matcher.create(name, val[:2], val[2:]))  # type: ignore[arg-type]
        else:
            out.append(Matcher.create(name, "=", val))
    return tuple(out)


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
    def __init__(self, file: str, pos: _Positions, data: object) -> None:
        self.file = file
        self.pos = pos
        self.data = data
        self.problems: list[RuleProblem] = []

    def problem(self, path: Path_, message: str) -> None:
        line, col = self.pos.locate(path)
        self.problems.append(
            RuleProblem(self.file, line, col, _field_name(path, self.data), message)
        )

    def level_labels(self, level: Level, labels: Mapping[str, str]) -> dict[str, str]:
        out = dict(labels)
        out["severity"] = LEVEL_SEVERITY[level]
        if level == "extreme":
            out.setdefault("tier", "extreme")
        return out

    def rules(self, i: int, spec: _RuleSpec) -> list[Rule]:
        base: Path_ = ("rules", i)
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
                if spec.levels is not None:
                    levels: list[
                        tuple[
                            Path_,
                            Level,
                            float,
                            float | None,
                            int | None,
                            int | None,
                            dict[str, str],
                            dict[str, str],
                        ]
                    ] = [
                        (
                            ("levels", j),
                            lv.level,
                            lv.threshold,
                            lv.clear,
                            lv.for_,
                            lv.keep_firing_for,
                            lv.labels,
                            lv.annotations,
                        )
                        for j, lv in enumerate(spec.levels)
                    ]
                else:
                    assert spec.level is not None
                    assert spec.threshold is not None
                    no_path: Path_ = ()
                    levels = [(no_path, spec.level, spec.threshold, spec.clear, None, None, {}, {})]
                seen_levels: set[str] = set()
                for sub, level, thr, clr, for_ns, keep_ns, labels, ann in levels:
                    if level in seen_levels:
                        self.problem(base + sub + ("level",), f"level {level!r} appears twice")
                        continue
                    seen_levels.add(level)
                    try:
                        _check_clear(spec.op, thr, clr)
                    except ValueError as e:
                        self.problem(base + sub + ("clear",), str(e))
                        continue
                    for key, text in ann.items():
                        try:
                            check_template(text)
                        except TemplateError as e:
                            self.problem(base + sub + ("annotations", key), f"bad template: {e}")
                    cond = Condition("value", spec.signal, matchers, spec.op, thr, clr)
                    out.append(
                        Rule(
                            id=f"{spec.name}:{level}",
                            name=spec.name,
                            level=level,
                            severity=LEVEL_SEVERITY[level],
                            conditions=(cond,),
                            mode="all",
                            on=None,
                            for_ns=spec.for_ if for_ns is None else for_ns,
                            keep_firing_for_ns=(
                                spec.keep_firing_for if keep_ns is None else keep_ns
                            ),
                            labels=self.level_labels(level, {**spec.labels, **labels}),
                            annotations={**spec.annotations, **ann},
                            source=source,
                            description=spec.description,
                        )
                    )
            elif spec.absent is not None:
                assert spec.level is not None
                a = spec.absent
                out.append(
                    Rule(
                        id=f"{spec.name}:{spec.level}",
                        name=spec.name,
                        level=spec.level,
                        severity=LEVEL_SEVERITY[spec.level],
                        conditions=(),
                        mode="all",
                        on=None,
                        for_ns=spec.for_,
                        keep_firing_for_ns=spec.keep_firing_for,
                        labels=self.level_labels(spec.level, spec.labels),
                        annotations=dict(spec.annotations),
                        absent=AbsentSpec(a.signal, _matchers(a.match), a.after),
                        source=source,
                        description=spec.description,
                    )
                )
            else:
                assert spec.level is not None
                conds_spec = spec.all_of if spec.all_of is not None else spec.any_of
                key = "all_of" if spec.all_of is not None else "any_of"
                assert conds_spec is not None
                conds: list[Condition] = []
                ids: set[str] = set()
                for j, c in enumerate(conds_spec):
                    cid = c.id or f"c{j}"
                    if cid in ids:
                        self.problem((*base, key, j, "id"), f"condition id {cid!r} appears twice")
                    ids.add(cid)
                    try:
                        _check_clear(c.op, c.threshold, c.clear)
                    except ValueError as e:
                        self.problem((*base, key, j, "clear"), str(e))
                    try:
                        conds.append(
                            Condition(cid, c.signal, _matchers(c.match), c.op, c.threshold, c.clear)
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
                out.append(
                    Rule(
                        id=f"{spec.name}:{spec.level}",
                        name=spec.name,
                        level=spec.level,
                        severity=LEVEL_SEVERITY[spec.level],
                        conditions=tuple(conds),
                        mode="all" if key == "all_of" else "any",
                        on=tuple(spec.on or ()),
                        for_ns=spec.for_,
                        keep_firing_for_ns=spec.keep_firing_for,
                        labels=self.level_labels(spec.level, spec.labels),
                        annotations=dict(spec.annotations),
                        value_from=spec.value_from,
                        source=source,
                        description=spec.description,
                    )
                )
        except MatcherError as e:
            self.problem((*base, "match"), str(e))
            return []
        return out


def _parse_document(text: str, file: str) -> tuple[object, _Positions]:
    try:
        node = yaml.compose(text, Loader=_Loader)
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (0, 0)
        raise RuleError(
            [RuleProblem(file, line, col, "", f"YAML syntax error: {e.problem or e}")]
        ) from None
    except yaml.YAMLError as e:
        raise RuleError([RuleProblem(file, 0, 0, "", f"YAML error: {e}")]) from None
    pos = _Positions()
    if node is not None:
        pos.walk(node, ())
    return data, pos


def _build(text: str, file: str) -> RuleSet:
    data, pos = _parse_document(text, file)
    problems: list[RuleProblem] = []
    for path, (line, col) in pos.duplicates:
        problems.append(RuleProblem(file, line, col, _field_name(path, data), "duplicate key"))
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise RuleError([RuleProblem(file, 1, 1, "", "expected a mapping with a 'rules' list")])
    try:
        spec = _PackSpec.model_validate(data)
    except ValidationError as e:
        for err in e.errors():
            path = _clean_loc(err["loc"], data)
            line, col = pos.locate(path)
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown field"
            problems.append(RuleProblem(file, line, col, _field_name(path, data), msg))
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
    b = _Builder(name, _Positions(), None)
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
