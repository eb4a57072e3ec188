"""Translate runtime rules into PromQL and Go-template annotations. Pure functions, no I/O.

Values stay in the units of the rule pack: an expression reads the exported metric and divides by
its scale (``riskmon_oi_drawdown_ratio{...} * 100 <= -30`` for ``oi_drawdown_pct <= -30``), so
every threshold in the output is the pack's number and ``$value`` is what the engine's
``{value}`` is.

Forms:

- one condition: ``<value> <op> <threshold>``; with a ``clear`` (hysteresis) the nearest
  faithful form latches on the rule's own firing alert::

      v >= T or (v > C and ignoring(alertname, alertstate, <rule labels>) ALERTS{alertname=..,
      alertstate="firing", <rule labels>})

  (the engine latches as soon as the condition is true, Prometheus once the alert fires: during
  ``for`` the clear level does not hold a pending alert);
- composites (``all_of``/``any_of`` joined ``on`` labels): each condition is reduced to the ``on``
  labels (``max by`` for ``>``, ``min by`` for ``<``, as the engine takes the extreme of the
  latched series) and joined with ``and on(...)`` / ``or on(...)``; the ``value_from`` condition
  comes first so ``$value`` is the alert's value;
- absence (``absent: {signal, after}``): ``changes(v[after]) == 0`` on series that existed
  ``after`` ago; ``$value`` is the window in seconds (the engine's is the exact silence);
- a scaled condition (``scale_by: s``): its threshold and clear are ``T * scalar(s)``, and the
  templates' ``{coverage}`` / ``{estimate}`` (and ``{peak}``, an estimate in the engine) are
  queries of ``s`` and of ``value / scalar(s)``.
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence

from alerts.format import human
from alerts.matchers import Matcher
from alerts.rules.model import Condition, Rule
from streams.catalogue import signal_spec
from streams.signal_metrics import metric_for
from streams.units import NS_PER_SECOND

__all__ = [
    "alerts_matchers",
    "annotation_template",
    "condition_value_query",
    "duration",
    "go_unit_format",
    "number",
    "rule_expr",
    "selector",
    "value_expr",
]

_formatter = string.Formatter()


def number(x: float) -> str:
    """A float as a PromQL literal that round-trips (``250000000``, ``-0.0003``, ``3.5``)."""
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    return repr(float(x))


def duration(ns: int) -> str:
    """Nanoseconds as a Prometheus duration (``0s``, ``90s``, ``5m``, ``2h``, ``1h30m``)."""
    s = ns // NS_PER_SECOND
    if s == 0:
        return "0s"
    out = ""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if s >= size:
            out += f"{s // size}{unit}"
            s %= size
    return out


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _matcher(m: Matcher) -> str:
    return f"{m.name}{m.op}{_quote(m.value)}"


def selector(signal: str, matchers: Sequence[Matcher], extra: Sequence[str] = ()) -> str:
    """``riskmon_metric{a="b",...}`` for a signal and the pack's label matchers."""
    parts = [_matcher(m) for m in matchers] + list(extra)
    return metric_for(signal).metric + ("{" + ",".join(parts) + "}" if parts else "")


def value_expr(signal: str, matchers: Sequence[Matcher], extra: Sequence[str] = ()) -> str:
    """The selector converted back to the pack's unit (``... * 100`` for a percentage)."""
    sel = selector(signal, matchers, extra)
    scale = metric_for(signal).scale
    if scale == 1.0:
        return sel
    if scale < 1.0:
        return f"{sel} * {number(round(1 / scale, 9))}"
    return f"{sel} / {number(scale)}"


def _clear_op(op: str) -> str:
    return ">" if op in (">", ">=") else "<"


def alerts_matchers(rule: Rule) -> list[str]:
    """Matchers selecting this rule level's own firing alerts in ``ALERTS``."""
    out = [f"alertname={_quote(rule.name)}", 'alertstate="firing"']
    out += [f"{k}={_quote(v)}" for k, v in sorted(rule.labels.items())]
    if "tier" not in rule.labels:
        out.append('tier=""')
    return out


def _condition(rule: Rule, c: Condition, on: Sequence[str] | None) -> str:
    v = value_expr(c.signal, c.matchers)
    if on is not None:
        agg = "min" if c.op in ("<", "<=") else "max"
        v = f"{agg} by ({', '.join(on)}) ({v})"
    thr, clr = number(c.threshold), None if c.clear is None else number(c.clear)
    if c.scale_by is not None:
        scale = f"scalar({value_expr(c.scale_by, ())})"
        thr = f"{thr} * {scale}"
        clr = None if clr is None else f"{clr} * {scale}"
    base = f"{v} {c.op} {thr}"
    if clr is None:
        return base
    latch = f"ALERTS{{{','.join(alerts_matchers(rule))}}}"
    if on is None:
        ignored = ["alertname", "alertstate", *sorted(rule.labels)]
        if "tier" not in rule.labels:
            ignored.append("tier")
        join = f"ignoring({', '.join(ignored)})"
    else:
        join = f"on({', '.join(on)})"
    return f"{base} or ({v} {_clear_op(c.op)} {clr} and {join} {latch})"


def _ordered(rule: Rule) -> list[Condition]:
    conds = list(rule.conditions)
    if rule.value_from is not None:
        conds.sort(key=lambda c: c.id != rule.value_from)
    return conds


def rule_expr(rule: Rule) -> str:
    """The PromQL alert expression of one rule level."""
    if rule.absent is not None:
        a = rule.absent
        sel = selector(a.signal, a.matchers)
        window = duration(a.after_ns)
        after_s = a.after_ns // NS_PER_SECOND
        return f"(changes({sel}[{window}]) == 0 and {sel} offset {window}) * 0 + {after_s}"
    conds = _ordered(rule)
    if len(conds) == 1 and rule.on is None:
        return _condition(rule, conds[0], None)
    on = list(rule.on or ())
    op = "and" if rule.mode == "all" else "or"
    parts = [f"({_condition(rule, c, on)})" for c in conds]
    return f" {op} on({', '.join(on)}) ".join(parts)


def condition_value_query(c: Condition, on: Sequence[str]) -> tuple[str, list[str]]:
    """A printf format (``%q`` per ``on`` label) querying one condition's value for one alert."""
    agg = "min" if c.op in ("<", "<=") else "max"
    extra = [f"{lbl}=%q" for lbl in on]
    return f"{agg}({value_expr(c.signal, c.matchers, extra)})", [f"$labels.{lbl}" for lbl in on]


def go_unit_format(unit: str) -> tuple[str, str, str]:
    """How Go templates write a value in a catalogue unit: (prefix, pipe, suffix).

    The nearest Prometheus forms of :func:`alerts.format.human`: ``$`` + ``humanize`` for USD
    (``$1.75G`` where the engine writes ``$1.75B``), ``humanizePercentage`` for 0..1 ratios and
    rates, ``humanizeDuration`` for seconds, fixed decimals for percentages, bps, hours, z.
    """
    return {
        "usd": ("$", "humanize", ""),
        "ratio": ("", "humanizePercentage", ""),
        "rate": ("", "humanizePercentage", ""),
        "pct": ("", 'printf "%.1f"', "%"),
        "bps": ("", 'printf "%.0f"', " bps"),
        "seconds": ("", "humanizeDuration", ""),
        "hours": ("", 'printf "%.0f"', " h"),
        "z": ("", 'printf "%.1f"', ""),
        "score": ("", 'printf "%.0f"', ""),
        "count": ("", 'printf "%.0f"', ""),
        "flag": ("", 'printf "%.0f"', ""),
    }.get(unit, ("", "humanize", ""))


def _unit(signal: str) -> str:
    spec = signal_spec(signal)
    return spec.unit if spec is not None else ""


def annotation_template(text: str, rule: Rule, refs: Mapping[str, str] | None = None) -> str:
    """Turn a pack annotation (``str.format``) into a Prometheus (Go) template.

    ``{label}`` -> ``$labels``; ``{value}`` and the ``value_from`` condition -> ``$value``;
    ``{threshold}`` -> the number; ``_h`` -> the value in its signal's unit
    (:func:`go_unit_format`); other conditions of a composite -> a ``query`` of that condition's
    value for the alert's ``on`` labels; any other field is a label (``$labels.<field>``). With
    ``refs`` (condition id -> Go expression, ``value`` included: Grafana's
    ``$values.<refId>.Value``) the values come from there instead of ``$value`` and queries.
    """
    conds = _ordered(rule)
    first = conds[0].id if conds else ""
    by_id: Mapping[str, Condition] = {c.id: c for c in conds}
    threshold = conds[0].threshold if conds else 0.0
    value_unit = "seconds" if rule.absent is not None else (_unit(conds[0].signal) if conds else "")
    out: list[str] = []
    for lit, field, spec, _conv in _formatter.parse(text):
        out.append(lit)
        if field is None:
            continue
        spec = spec or ""
        humanized = field.endswith("_h")
        base = field[:-2] if humanized else field
        scaled = _scaled_query(base, conds, rule.on or ())
        if scaled is not None:
            q, args, sunit = scaled
            pre, fmt, post = go_unit_format(sunit) if humanized else ("", _go_pipe(spec), "")
            head = "{{ with printf `" + q + "` " + " ".join(args) + " | query }}"
            if not args:
                head = "{{ with query `" + q + "` }}"
            out.append(
                pre
                + head
                + "{{ . | first | value"
                + (" | " + fmt if fmt else "")
                + " }}{{ end }}"
                + post
            )
            continue
        unit = _unit(by_id[base].signal) if base in by_id else value_unit
        pre, fmt, post = go_unit_format(unit) if humanized else ("", _go_pipe(spec), "")
        if refs is not None and (base in refs or (base == "peak" and "value" in refs)):
            arg = refs[base if base in refs else "value"]
        elif base in ("value", "peak", first):
            arg = "$value"
        elif base == "threshold":
            out.append(human(threshold, value_unit) if humanized else format(threshold, spec))
            continue
        elif base in by_id and rule.on is not None:
            q, args = condition_value_query(by_id[base], rule.on)
            out.append(
                pre + "{{ with printf `" + q + "` " + " ".join(args) + " | query }}"
                "{{ . | first | value" + (" | " + fmt if fmt else "") + " }}{{ end }}" + post
            )
            continue
        else:
            out.append("{{ $labels." + base + " }}")
            continue
        out.append(pre + "{{ " + arg + (" | " + fmt if fmt else "") + " }}" + post)
    return "".join(out)


def _scaled_query(
    field: str, conds: Sequence[Condition], on: Sequence[str]
) -> tuple[str, list[str], str] | None:
    """``coverage`` (the scale) and ``estimate`` / ``peak`` / ``<id>_estimate`` (value / scale)
    as queries of the first scaled condition, or of the named one, with the unit they read in;
    None for any other field."""
    scaled = [c for c in conds if c.scale_by is not None]
    if not scaled:
        return None
    if field == "coverage":
        return f"max({value_expr(scaled[0].scale_by or '', ())})", [], "ratio"
    if field in ("estimate", "peak"):
        c: Condition | None = conds[0] if conds[0].scale_by is not None else None
    elif field.endswith("_estimate"):
        c = next((x for x in scaled if x.id == field[: -len("_estimate")]), None)
    else:
        return None
    if c is None or c.scale_by is None:
        return None
    q, args = condition_value_query(c, on)
    return f"{q} / scalar({value_expr(c.scale_by, ())})", args, _unit(c.signal)


def _go_pipe(spec: str) -> str:
    """The Go template function for a Python format spec (empty: print as is)."""
    if spec.endswith("%"):
        return "humanizePercentage"
    if spec.endswith(("f", "e", "g")):
        return f'printf "%{spec}"'
    return ""
