"""Check a rule against the signal catalogue (streams/catalogue.py): signals, labels, templates.

A rule that names a signal no processor emits, a label the signal does not carry, a label value
outside what the processor emits (``window: 2h`` where only ``1m``, ``5m``, ``1h``, ``24h`` exist)
or a template field that will never be filled can never fire, or fires with a broken text: each is
a problem with its document path, which the loader turns into ``FILE:LINE:COLUMN``.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping

from alerts.rules.positions import DocPath
from streams.catalogue import CATALOGUE, SignalSpec

__all__ = ["NOTICE_FIELDS", "check_match", "check_signal", "template_fields", "unknown_fields"]

#: fields every template may use besides labels, values and condition ids (alerts/format.py)
NOTICE_FIELDS = frozenset({"value", "threshold", "peak", "severity"})

_formatter = string.Formatter()

Problem = tuple[DocPath, str]


def check_signal(name: str, path: DocPath) -> tuple[SignalSpec | None, list[Problem]]:
    """The catalogue entry of ``name``, or a problem naming the known signals."""
    spec = CATALOGUE.get(name)
    if spec is None:
        close = [s for s in CATALOGUE if s.split("_")[0] == name.split("_")[0]]
        hint = f" (did you mean one of: {', '.join(close)}?)" if close else ""
        return None, [(path, f"unknown signal {name!r}{hint}; see docs/signals.md")]
    return spec, []


def _matches_some(pattern: str, values: Iterable[str]) -> bool:
    try:
        rx = re.compile(pattern)
    except re.error:
        return True  # the matcher itself reports a bad regex
    return any(rx.fullmatch(v) for v in values)


def check_match(
    spec: SignalSpec, match: Mapping[str, str | list[str]], path: DocPath
) -> list[Problem]:
    """Problems with a ``match`` map: labels the signal lacks, values it never takes."""
    out: list[Problem] = []
    for label, val in match.items():
        lspec = spec.label(label)
        where = (*path, label)
        if lspec is None:
            known = ", ".join(lbl.name for lbl in spec.labels)
            out.append((where, f"{spec.name} has no label {label!r} (labels: {known})"))
            continue
        allowed = lspec.values
        if allowed is None:
            continue
        shown = ", ".join(allowed)
        values = val if isinstance(val, list) else [val]
        for v in values:
            if not isinstance(val, list) and v.startswith(("!=", "!~")):
                continue
            if not isinstance(val, list) and v.startswith("=~"):
                if not _matches_some(v[2:], allowed):
                    out.append(
                        (where, f"{v[2:]!r} matches no {label} of {spec.name} (values: {shown})")
                    )
                continue
            if v not in allowed:
                out.append((where, f"{spec.name} has no {label}={v!r} (values: {shown})"))
    return out


def template_fields(text: str) -> list[str]:
    """The field names a template uses (``value_h`` -> ``value_h``), nested specs included."""
    out: list[str] = []
    try:
        for _lit, fname, spec, _conv in _formatter.parse(text):
            if fname:
                out.append(re.split(r"[.\[]", fname, maxsplit=1)[0])
            if spec:
                out.extend(template_fields(spec))
    except ValueError:
        return []  # check_template reports it
    return out


def unknown_fields(text: str, known: Iterable[str]) -> list[str]:
    """Fields of ``text`` that are neither in ``known`` nor a ``_h`` form of one of them."""
    names = set(known) | NOTICE_FIELDS
    bad = []
    for f in template_fields(text):
        base = f[:-2] if f.endswith("_h") else f
        if f not in names and base not in names and f not in bad:
            bad.append(f)
    return bad
