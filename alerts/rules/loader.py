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

The schema is :mod:`alerts.rules.spec`; line and column tracking is :mod:`alerts.rules.positions`;
building runtime rules from a validated file (a single-level rule is built as a rule with one
level) is :mod:`alerts.rules.build`. This module reads files and packs, maps schema errors to
their places, and raises every problem found at once as a :class:`RuleError`.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import yaml
from pydantic import ValidationError

from alerts.rules.build import RuleBuilder
from alerts.rules.model import Rule, RuleSet
from alerts.rules.positions import Positions, clean_loc, compose, field_name
from alerts.rules.problems import RuleError, RuleProblem
from alerts.rules.spec import PackSpec, parse_duration_ns

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
    b = RuleBuilder(file, pos, data)
    b.problems.extend(problems)
    rules: list[Rule] = []
    for i, rs in enumerate(spec.rules):
        rules.extend(b.rules(i, rs))
    inhibit = b.inhibit(spec.inhibit)
    b.check_unique(rules)
    if b.problems:
        raise RuleError(b.problems)
    return RuleSet(tuple(rules), tuple(inhibit), spec.pack or Path(file).stem, (file,))


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
    b = RuleBuilder(name, Positions(), None)
    b.check_unique(rules)
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
