"""Generate ``promtool test rules`` cases from a rule pack: every level's threshold crossed, held
by its clear level, then cleared.

For each level L of an alert, one test group feeds the driver series (the rule's value) through
calm → beyond L's threshold → between threshold and clear → beyond clear → calm, holding the other
conditions of a composite true. A small model of Prometheus' alert state machine (``for``,
``keep_firing_for``, the ALERTS latch of the export) says which levels of the alert fire at the
end of each phase, with which labels and which rendered annotations (Prometheus' template
functions are reproduced for the few the export uses: printf, humanize, humanizePercentage).
Checks sit at the end of phases, never on a boundary.
"""

from __future__ import annotations

import math
import re
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from alerts.export.prometheus import prometheus_rules
from alerts.export.promql import _ordered, go_unit_format, number
from alerts.format import human
from alerts.matchers import Matcher
from alerts.rules.model import Condition, Rule, RuleSet
from streams.catalogue import signal_spec
from streams.signal_metrics import metric_for

_NS = 1_000_000_000
DEFAULTS = {
    "asset": "BTC",
    "coin": "USDT",
    "venue": "binance-usdm",
    "channel": "trades",
    "side": "all",
    "window": "1h",
}
_CANDIDATES = ("BTC", "100", "all", "trades", "1h", "x")
_formatter = string.Formatter()


def go_humanize(v: float) -> str:
    """Prometheus' ``humanize`` template function."""
    if v == 0 or math.isnan(v) or math.isinf(v):
        return f"{v:.4g}"
    prefix = ""
    if abs(v) >= 1:
        for p in ("k", "M", "G", "T", "P", "E", "Z", "Y"):
            if abs(v) < 1000:
                break
            prefix, v = p, v / 1000
        return f"{v:.4g}{prefix}"
    for p in ("m", "u", "n", "p", "f", "a", "z", "y"):
        if abs(v) >= 1:
            break
        prefix, v = p, v * 1000
    return f"{v:.4g}{prefix}"


def go_humanize_duration(v: float) -> str:
    """Prometheus' ``humanizeDuration`` for values of at least one second (and zero)."""
    if v == 0:
        return "0s"
    sign, v = ("-", -v) if v < 0 else ("", v)
    if v < 1:
        raise ValueError("sub-second durations are not emulated")
    d = int(v)
    days, hours, minutes, seconds = d // 86400, d // 3600 % 24, d // 60 % 60, d % 60
    if days:
        return f"{sign}{days}d {hours}h {minutes}m {seconds}s"
    if hours:
        return f"{sign}{hours}h {minutes}m {seconds}s"
    if minutes:
        return f"{sign}{minutes}m {seconds}s"
    return f"{sign}{v:.4g}s"


def _go_unit(v: float, unit: str) -> str:
    """What the exported ``_h`` form (alerts.export.promql.go_unit_format) prints."""
    pre, pipe, post = go_unit_format(unit)
    if pipe == "humanize":
        text = go_humanize(v)
    elif pipe == "humanizePercentage":
        text = f"{v * 100:.4g}%"
    elif pipe == "humanizeDuration":
        text = go_humanize_duration(v)
    else:
        text = format(v, pipe.removeprefix('printf "%').removesuffix('"'))
    return pre + text + post


def _unit(signal: str) -> str:
    spec = signal_spec(signal)
    return spec.unit if spec is not None else ""


def _go_fmt(v: float, spec: str, humanized: bool, unit: str = "") -> str:
    if humanized:
        return _go_unit(v, unit)
    if spec.endswith("%"):
        return f"{v * 100:.4g}%"
    if spec.endswith(("f", "e", "g")):
        return format(v, spec)
    raise ValueError(f"no Go equivalent known for an unformatted value ({spec!r})")


def render_expected(text: str, rule: Rule, labels: dict[str, str], values: dict[str, float]) -> str:
    """What Prometheus renders for the exported annotation (``values``: by condition id)."""
    conds = _ordered(rule)
    first = conds[0].id
    units = {c.id: _unit(c.signal) for c in conds}
    out = []
    for lit, fname, spec, _ in _formatter.parse(text):
        out.append(lit)
        if fname is None:
            continue
        spec = spec or ""
        humanized = fname.endswith("_h")
        base = fname[:-2] if humanized else fname
        if base in ("value", "peak", "estimate"):  # the scale series is 1.0: estimate = value
            out.append(_go_fmt(values[first], spec, humanized, units[first]))
        elif base == "coverage":
            out.append(_go_fmt(1.0, spec, humanized, "ratio"))
        elif base.endswith("_estimate") and base[: -len("_estimate")] in values:
            cid = base[: -len("_estimate")]
            out.append(_go_fmt(values[cid], spec, humanized, units.get(cid, "")))
        elif base == "threshold":
            t = conds[0].threshold
            out.append(human(t, units[first]) if humanized else format(t, spec))
        elif base in values:
            out.append(_go_fmt(values[base], spec, humanized, units.get(base, "")))
        else:
            out.append(labels.get(base, "<no value>"))
    return "".join(out)


def _pick(m: Matcher) -> str | None:
    if m.op == "=":
        return m.value
    if m.op == "!=":
        return None
    rx = re.compile(m.value)
    alts = [*m.value.split("|"), *_CANDIDATES]
    for c in alts:
        if (rx.fullmatch(c) is not None) == (m.op == "=~"):
            return c
    raise ValueError(f"no label value for {m}")


def series_labels(c: Condition, rule: Rule) -> dict[str, str]:
    """Concrete labels selected by a condition (plus the join and template labels)."""
    labels: dict[str, str] = {}
    for m in c.matchers:
        v = _pick(m)
        if v is not None:
            labels[m.name] = v
    wanted = set(rule.on or ())
    for text in rule.annotations.values():
        wanted |= {f for _, f, _, _ in _formatter.parse(text) if f}
    ids = {x.id for x in rule.conditions} | {"value", "threshold"}
    for name in wanted:
        base = name[:-2] if name.endswith("_h") else name
        if base in DEFAULTS and base not in ids and base not in labels:
            labels[base] = DEFAULTS[base]
    return labels


def _direction(op: str) -> int:
    return 1 if op in (">", ">=") else -1


def _true_value(c: Condition) -> float:
    if c.op == "==":
        return c.threshold
    d = _direction(c.op)
    return c.threshold + d * (abs(c.threshold) * 0.5 or 1.0)


def _crosses(op: str, v: float, t: float) -> bool:
    return {
        ">": v > t,
        ">=": v >= t,
        "<": v < t,
        "<=": v <= t,
        "==": v == t,
        "!=": v != t,
    }[op]


@dataclass
class _LevelState:
    active_since: int | None = None
    firing: bool = False
    false_since: int | None = None
    value: float = 0.0
    values: dict[str, float] = field(default_factory=dict)


def _selected(c: Condition, labels: dict[str, str]) -> bool:
    return all(m.matches(labels) for m in c.matchers)


def _simulate(
    levels: list[Rule], series: list[tuple[str, dict[str, str], list[float]]], n: int
) -> list[list[tuple[Rule, _LevelState]]]:
    """Per minute: the firing levels (with the state holding their last value)."""
    states = {id(r): _LevelState() for r in levels}
    out: list[list[tuple[Rule, _LevelState]]] = []
    for t in range(n):
        for r in levels:
            st = states[id(r)]
            was_firing = st.firing
            truths, vals = [], {}
            for c in _ordered(r):
                best: float | None = None
                hit = False
                for sig, labels, values in series:
                    if sig != c.signal or not _selected(c, labels):
                        continue
                    if r.on is not None and any(k not in labels for k in r.on):
                        continue
                    v = values[t]
                    ok = _crosses(c.op, v, c.threshold) or (
                        c.clear is not None
                        and was_firing
                        and _crosses(">" if c.op in (">", ">=") else "<", v, c.clear)
                    )
                    hit = hit or ok
                    if best is None or (ok and _crosses(c.op, v, best)):
                        best = v
                truths.append(hit)
                if best is not None:
                    vals[c.id] = best
            active = bool(truths) and (all(truths) if r.mode == "all" else any(truths))
            if active:
                st.false_since = None
                st.value = vals[_ordered(r)[0].id]
                st.values = vals
                if st.active_since is None:
                    st.active_since = t
                if (t - st.active_since) * 60 * _NS >= r.for_ns:
                    st.firing = True
            else:
                st.active_since = None
                if st.firing:
                    if st.false_since is None:
                        st.false_since = t
                    if (t - st.false_since) * 60 * _NS >= r.keep_firing_for_ns:
                        st.firing = False
                        st.false_since = None
        out.append([(r, states[id(r)]) for r in levels if states[id(r)].firing])
        out[-1] = [(r, _copy(st)) for r, st in out[-1]]
    return out


def _copy(st: _LevelState) -> _LevelState:
    return _LevelState(st.active_since, st.firing, st.false_since, st.value, dict(st.values))


def _expected(rule: Rule, labels: dict[str, str], st: _LevelState) -> dict[str, Any]:
    alert_labels = dict(labels) if rule.on is None else {k: labels[k] for k in rule.on}
    alert_labels.update(rule.labels)
    annotations = {
        k: render_expected(v, rule, alert_labels, st.values) for k, v in rule.annotations.items()
    }
    if rule.description:
        annotations.setdefault("description", rule.description)
    return {"exp_labels": alert_labels, "exp_annotations": annotations}


def _series_text(signal: str, labels: dict[str, str], values: list[float]) -> dict[str, str]:
    spec = metric_for(signal)
    body = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    return {
        "series": f"{spec.metric}{{{body}}}",
        "values": " ".join(number(round(v * spec.scale, 12)) for v in values),
    }


def level_test(rule: Rule, siblings: list[Rule]) -> dict[str, Any]:
    """One promtool test group for one level of an alert."""
    conds = _ordered(rule)
    driver = conds[0]
    d = _direction(driver.op)
    same = [
        s
        for s in siblings
        if _ordered(s)[0].signal == driver.signal and _ordered(s)[0].op == driver.op
    ]
    if driver.op == "==":
        cross, calm = driver.threshold, driver.threshold + 1
        between = beyond = calm
    else:
        more = [
            _ordered(s)[0].threshold
            for s in same
            if _crosses(driver.op, _ordered(s)[0].threshold, driver.threshold)
            and _ordered(s)[0].threshold != driver.threshold
        ]
        nxt = min(more, key=lambda x: abs(x - driver.threshold)) if more else None
        span = abs(driver.threshold) * 0.2 or 1.0
        cross = (driver.threshold + nxt) / 2 if nxt is not None else driver.threshold + d * span
        clear = driver.clear
        between = (driver.threshold + clear) / 2 if clear is not None else cross
        edge = [
            v
            for s in same
            for v in (_ordered(s)[0].threshold, _ordered(s)[0].clear)
            if v is not None
        ]
        least = min(edge) if d > 0 else max(edge)
        calm = least - d * (abs(least) * 0.5 or 1.0)
        beyond = (clear - d * abs(driver.threshold - clear) * 0.5) if clear is not None else calm
    minute = 60 * _NS
    max_for = -(-max(s.for_ns for s in siblings) // minute)
    max_kff = -(-max(s.keep_firing_for_ns for s in siblings) // minute)
    phases: list[tuple[str, float, int]] = [("calm", calm, 5), ("cross", cross, max_for + 4)]
    if driver.clear is not None:
        phases.append(("between", between, 4))
    phases += [("beyond", beyond, max_kff + 4), ("calm-again", calm, max_kff + 4)]
    values: list[float] = []
    checks: list[int] = []
    for _name, v, length in phases:
        values += [v] * length
        checks.append(len(values) - 1)
    n = len(values)
    series = [(driver.signal, series_labels(driver, rule), values)]
    series += [(c.signal, series_labels(c, rule), [_true_value(c)] * n) for c in conds[1:]]
    # composites: join labels must agree across conditions
    if rule.on:
        for k in rule.on:
            v0 = series[0][1].get(k, DEFAULTS.get(k, "x"))
            for _, labels, _ in series:
                labels[k] = v0
    # scaled thresholds (scale_by): the scale series is 1.0, so thresholds are the pack's numbers
    scales = sorted({c.scale_by for c in conds if c.scale_by is not None})
    timeline = _simulate(siblings, series, n)
    series += [(name, {}, [1.0] * n) for name in scales]
    tests = []
    for t in checks:
        exp = [_expected(r, series[0][1], st) for r, st in timeline[t]]
        tests.append({"eval_time": f"{t}m", "alertname": rule.name, "exp_alerts": exp})
    return {
        "name": f"{rule.name}/{rule.level}",
        "interval": "1m",
        "input_series": [_series_text(s, lbl, v) for s, lbl, v in series],
        "alert_rule_test": tests,
    }


def pack_test_files(ruleset: RuleSet, directory: Path) -> list[Path]:
    """Write one rule file and one promtool test file per alert name; return the test files.

    Each test file loads only its alert's levels, which keeps promtool's evaluation short.
    """
    out = []
    names = list(dict.fromkeys(r.name for r in ruleset.rules if r.absent is None))
    for name in names:
        levels = tuple(r for r in ruleset.rules if r.name == name)
        rules_path = directory / f"{name}.rules.yml"
        rules_path.write_text(
            prometheus_rules(RuleSet(rules=levels, name=ruleset.name)), encoding="utf-8"
        )
        doc = {
            "rule_files": [rules_path.name],
            "evaluation_interval": "1m",
            "tests": [level_test(r, list(levels)) for r in levels],
        }
        test_path = directory / f"{name}.test.yml"
        test_path.write_text(yaml.safe_dump(doc, sort_keys=False, width=100_000), encoding="utf-8")
        out.append(test_path)
    return out
