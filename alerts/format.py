"""Numbers for people: a value in its signal's unit at human scale. Pure functions.

``human(1.75e9, "usd")`` -> ``$1.75B``; ``human(0.9, "ratio")`` -> ``90%``; ``human(-4.52, "pct")``
-> ``-4.5%``; ``human(35.2, "bps")`` -> ``35 bps``; ``human(32400, "seconds")`` -> ``9 h``;
``human(72.4, "score")`` -> ``72``;
``human(0.0012, "rate")`` -> ``0.120%``. The units are the signal catalogue's
(:data:`streams.catalogue.Unit`); an unknown or empty unit reads as a plain compact number.

:func:`human_pair` renders a value and its threshold so that they never read as the same number
when they differ (``$750.4M`` against ``$750M``, not ``$750M >= $750M``).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

from streams.units import NS_PER_SECOND

__all__ = ["clock_time", "human", "human_duration", "human_pair", "pair_digits"]

_SCALES = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k"))


def _sig(x: float, digits: int) -> str:
    """``x`` with ``digits`` significant digits, no exponent, no trailing zeros."""
    if x == 0:
        return "0"
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(x))))
    text = f"{x:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _compact(x: float, digits: int) -> str:
    a = abs(x)
    for div, suffix in _SCALES:
        if a >= div * 0.9995 or (a >= div and digits > 3):
            return f"{_sig(x / div, digits)}{suffix}"
    if a >= 1000:
        return f"{x:,.0f}"
    return _sig(x, digits)


def _fixed(x: float, decimals: int) -> str:
    text = f"{x:.{decimals}f}"
    return "0" if text.strip("-0.") == "" else text


def human_duration(seconds: float, digits: int = 2) -> str:
    """``45 s``, ``12 min``, ``9 h``, ``30 h``, ``3.5 d``: the next unit from twice its size."""
    s = abs(seconds)
    sign = "-" if seconds < 0 else ""
    for size, unit in ((86400.0, "d"), (3600.0, "h"), (60.0, "min")):
        if s >= 2 * size:
            return f"{sign}{_sig(s / size, digits)} {unit}"
    return f"{sign}{_sig(s, max(digits, 2))} s"


def human(x: float, unit: str = "", digits: int = 3) -> str:
    """``x`` in ``unit`` for people; ``digits`` sets the precision (more to tell numbers apart)."""
    if math.isnan(x) or math.isinf(x):
        return str(x)
    extra = digits - 3  # precision asked beyond the default
    if unit == "usd":
        text = _compact(abs(x), digits)
        return f"-${text}" if x < 0 else f"${text}"
    if unit == "ratio":
        return f"{_fixed(x * 100, max(0, extra))}%"
    if unit == "pct":
        return f"{_fixed(x, 1 + max(0, extra))}%"
    if unit == "rate":
        return f"{_fixed(x * 100, 3 + max(0, extra))}%"
    if unit == "bps":
        return f"{_fixed(x, max(0, extra))} bps"
    if unit == "seconds":
        return human_duration(x, 2 + max(0, extra))
    if unit == "hours":
        return human_duration(x * 3600.0, 2 + max(0, extra))
    if unit == "z":
        return _fixed(x, 1 + max(0, extra))
    if unit == "score":
        return _fixed(x, max(0, extra))
    if unit in ("count", "flag"):
        return f"{x:,.0f}" if float(x).is_integer() or extra <= 0 else _fixed(x, extra)
    if unit == "price":
        return f"{x:,.{max(0, extra)}f}" if abs(x) >= 1000 else _sig(x, 4 + max(0, extra))
    return _compact(x, digits)


def pair_digits(value: float, threshold: float, unit: str = "") -> int:
    """The precision (``digits`` of :func:`human`) at which value and threshold read apart."""
    for digits in range(3, 10):
        if value == threshold or human(value, unit, digits) != human(threshold, unit, digits):
            return digits
    return 9


def human_pair(value: float, threshold: float, unit: str = "") -> tuple[str, str]:
    """``value`` and ``threshold`` at the same precision, raised until they read differently."""
    digits = pair_digits(value, threshold, unit)
    return human(value, unit, digits), human(threshold, unit, digits)


def clock_time(ns: int, ref_ns: int | None = None) -> str:
    """``14:05 UTC``; with the date (``21 Nov 14:05 UTC``) when ``ref_ns`` is another day."""
    t = datetime.fromtimestamp(ns / NS_PER_SECOND, tz=UTC)
    if ref_ns is not None:
        ref = datetime.fromtimestamp(ref_ns / NS_PER_SECOND, tz=UTC)
        if ref.date() != t.date():
            return t.strftime("%d %b %H:%M UTC").lstrip("0")
    return t.strftime("%H:%M UTC")
