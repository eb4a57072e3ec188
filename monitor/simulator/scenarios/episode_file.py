"""Episode data files: the numbers of a :class:`~.market.MarketSpec`, written as TOML.

An episode's numbers are data, not code: its window, the anchors of its price, open-interest,
funding, liquidation and peg paths, its noise levels and its notes live in
``episodes/<module>.toml`` beside the episode's module, which keeps the narrative (its docstring,
with the sources) and whatever is computed or built from objects (a daily rhythm, the listings).
:func:`load_episode` reads a file into a ``MarketSpec``; keyword overrides supply or replace fields.

The keys (times are UTC text ``YYYY-MM-DD HH:MM[:SS]``; anchors are ``[[time, value], ...]``):

====================================  ========================================================
``name``, ``description``             text
``start``, ``end``, ``backfill_start``  times; ``worst`` a time, or absent (no worst point)
``price``, ``oi``                     asset → anchors, USD, log-linear in between
``liq_usd_h``                         anchors, USD per hour, log-linear
``long_share``                        anchors, 0..1, linear
``funding``, ``pegs``                 name → anchors (linear) or one number (a flat path)
``peg_venue``                         coin → venue → anchors (linear)
``liq_split``, ``peg_noise_bps``,     name → number
``price_noise``
``dense``                             ``[[start, end], ...]``
``silent``                            ``[[venue, start, end], ...]``
``liq_size_usd``                      number; ``calm_periods`` three whole numbers
``notes``                             ``[text, ...]``
====================================  ========================================================

A key the schema does not know, or a value of the wrong shape, is a ``ValueError`` naming the file
and the key.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from importlib import resources
from typing import Any

from monitor.simulator.scenarios.market import MarketSpec
from monitor.simulator.scenarios.paths import Path, amount, amounts, ts

__all__ = ["episode_fields", "load_episode"]


def _paths(table: Mapping[str, Any]) -> dict[str, Path]:
    """Name → linear path; a number is a flat path."""
    return {
        name: Path.const(float(v)) if isinstance(v, int | float) else Path(v)
        for name, v in table.items()
    }


def _venue_paths(table: Mapping[str, Mapping[str, Any]]) -> dict[tuple[str, str], Path]:
    """Coin → venue → anchors, as ``(coin, venue)`` → linear path."""
    return {
        (coin, venue): Path(anchors)
        for coin, venues in table.items()
        for venue, anchors in venues.items()
    }


def _numbers(table: Mapping[str, Any]) -> dict[str, float]:
    return {name: float(v) for name, v in table.items()}


def _periods(values: list[Any]) -> tuple[int, int, int]:
    trades, funding_oi, quotes = (int(v) for v in values)
    return trades, funding_oi, quotes


def _windows(rows: list[list[str]]) -> list[tuple[int, int]]:
    return [(ts(a), ts(b)) for a, b in rows]


def _silences(rows: list[list[str]]) -> list[tuple[str, int, int]]:
    return [(str(venue), ts(a), ts(b)) for venue, a, b in rows]


_FIELDS: dict[str, Callable[[Any], Any]] = {
    "name": str,
    "description": str,
    "start": ts,
    "end": ts,
    "backfill_start": ts,
    "worst": ts,
    "price": lambda table: amounts(**table),
    "oi": lambda table: amounts(**table),
    "funding": _paths,
    "liq_usd_h": amount,
    "long_share": Path,
    "liq_split": _numbers,
    "pegs": _paths,
    "peg_venue": _venue_paths,
    "peg_noise_bps": _numbers,
    "price_noise": _numbers,
    "dense": _windows,
    "silent": _silences,
    "liq_size_usd": float,
    "calm_periods": _periods,
    "notes": lambda notes: [str(n) for n in notes],
}


def episode_fields(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The ``MarketSpec`` fields a parsed episode file gives (pure; see the module's keys).

    Raises:
        ValueError: an unknown key, or a value of the wrong shape (the key is named).
    """
    out: dict[str, Any] = {}
    for key, value in doc.items():
        convert = _FIELDS.get(key)
        if convert is None:
            raise ValueError(f"unknown key {key!r}; known: {', '.join(_FIELDS)}")
        try:
            out[key] = convert(value)
        except (TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"{key}: {exc}") from exc
    if "worst" not in out:
        out["worst"] = None
    return out


def load_episode(stem: str, **overrides: Any) -> MarketSpec:
    """The episode of ``episodes/<stem>.toml``, with ``overrides`` supplying or replacing fields.

    Raises:
        ValueError: the file does not parse, or a key or value is wrong (the file is named).
    """
    source = resources.files(__package__).joinpath("episodes", f"{stem}.toml")
    try:
        fields = episode_fields(tomllib.loads(source.read_text(encoding="utf-8")))
    except (tomllib.TOMLDecodeError, ValueError) as exc:
        raise ValueError(f"episode file {stem}.toml: {exc}") from exc
    return MarketSpec(**(fields | overrides))
