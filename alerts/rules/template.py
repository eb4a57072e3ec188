"""Annotation templates: ``str.format`` syntax over the alert's labels and live values.

Fields available: every label (``{asset}``), ``{value}`` (the alert's value), ``{threshold}``,
``{peak}``, each condition's value by its id (``{liq}``), ``{coverage}`` and ``{estimate}`` /
``{<id>_estimate}`` for a rule with ``scale_by`` conditions (alerts/evaluator.py), and the human
form of any number with the ``_h`` suffix, in its signal's unit (``{value_h}`` -> ``$1.23B``,
``90%``, ``35 bps``, ``9 h``: :func:`alerts.format.human`). When a text shows ``{threshold_h}``,
``{value_h}`` (``{estimate_h}`` for a scaled rule), ``{peak_h}`` and ``{threshold_h}`` are
rendered at one precision, raised until value and threshold read differently. An unknown field
renders as ``<name?>`` instead of failing.
"""

from __future__ import annotations

import math
import string
from collections.abc import Mapping
from typing import Any

from alerts.format import human, human_pair, pair_digits

__all__ = ["TemplateError", "check_template", "humanize", "render"]


class TemplateError(ValueError):
    """A template does not parse."""


_formatter = string.Formatter()


def humanize(x: float) -> str:
    """Format a number compactly: ``1.23B``, ``456M``, ``12.3k``, ``0.0123``."""
    if math.isnan(x) or math.isinf(x):
        return str(x)
    a = abs(x)
    for div, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if a >= div:
            return f"{x / div:.3g}{suffix}"
    return f"{x:.3g}"


def check_template(text: str) -> None:
    """Raise :class:`TemplateError` if ``text`` is not a valid format string."""
    try:
        for _lit, fname, spec, _conv in _formatter.parse(text):
            if fname is not None and fname == "":
                raise TemplateError("positional fields '{}' are not allowed; name the field")
            if spec:
                check_template(spec)
    except ValueError as e:
        if isinstance(e, TemplateError):
            raise
        raise TemplateError(str(e)) from None


class _Fields(dict[str, Any]):
    units: Mapping[str, str] = {}

    def __missing__(self, key: str) -> str:
        if key.endswith("_h"):
            base = key[:-2]
            if base in self and isinstance(self[base], float | int):
                return human(float(self[base]), self.units.get(base, ""))
        return f"<{key}?>"


def _parse(text: str) -> list[tuple[str, str | None, str | None, str | None]]:
    try:
        return list(_formatter.parse(text))
    except ValueError:
        return []


def render(
    text: str,
    labels: Mapping[str, str],
    values: Mapping[str, float],
    units: Mapping[str, str] | None = None,
) -> str:
    """Render a template with labels and numeric values; never raises on missing fields.

    ``units`` maps a value's field to its signal's unit (``value`` -> ``usd``) for the ``_h``
    forms; a field without a unit reads as a compact number (``1.23B``).
    """
    fields = _Fields(labels)
    fields.update(values)
    fields.units = units or {}
    shown = {f for _lit, f, _spec, _conv in _parse(text) if f}
    # a scaled rule's threshold is compared with its estimate (value / coverage), not the value
    paired = "estimate" if "estimate" in values else "value"
    if paired in values and "threshold" in values and "threshold_h" in shown:
        unit = fields.units.get("value", "")
        v, t = human_pair(values[paired], values["threshold"], unit)
        fields[f"{paired}_h"], fields["threshold_h"] = v, t
        if paired == "estimate" and "value" in values:  # the USD seen, at the same precision
            digits = pair_digits(values[paired], values["threshold"], unit)
            fields["value_h"] = human(values["value"], unit, digits)
        if "peak" in values:
            fields["peak_h"] = human_pair(values["peak"], values["threshold"], unit)[0]
    try:
        return _formatter.vformat(text, (), fields)
    except (ValueError, TypeError, IndexError, AttributeError, KeyError):
        return text
