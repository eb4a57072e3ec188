"""Annotation templates: ``str.format`` syntax over the alert's labels and live values.

Fields available: every label (``{asset}``), ``{value}`` (the alert's value), ``{threshold}``,
each condition's value by its id (``{liq}``), and a humanised form of any number with the ``_h``
suffix (``{value_h}`` -> ``1.23B``). An unknown field renders as ``<name?>`` instead of failing.
"""

from __future__ import annotations

import math
import string
from collections.abc import Mapping
from typing import Any

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
    def __missing__(self, key: str) -> str:
        if key.endswith("_h"):
            base = key[:-2]
            if base in self and isinstance(self[base], float | int):
                return humanize(float(self[base]))
        return f"<{key}?>"


def render(text: str, labels: Mapping[str, str], values: Mapping[str, float]) -> str:
    """Render a template with labels and numeric values; never raises on missing fields."""
    fields = _Fields(labels)
    fields.update(values)
    try:
        return _formatter.vformat(text, (), fields)
    except (ValueError, TypeError, IndexError, AttributeError, KeyError):
        return text
