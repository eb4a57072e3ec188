"""Instruments read from a venue symbol alone, for venues whose sizes are in base units.

A venue that states trade and liquidation sizes in coins (Binance USD-M, Bybit linear,
Hyperliquid) needs no contract size to value a fill: a symbol missing from the instrument list
(a listing newer than the snapshot and the last REST refresh) can still be read from its name:

* the quote is the suffix (``USDT``, ``USDC``, ...; Bybit's USDC perpetuals end in ``PERP``);
* a numeric prefix or suffix is a multiplier: the symbol trades bundles of coins and prices them
  per bundle (Binance ``1000PEPEUSDT``, ``1000000MOGUSDT``, ``1MBABYDOGEUSDT``; Bybit
  ``10000LADYSUSDT``, ``SHIB1000USDT``; Hyperliquid ``kPEPE``): the asset is the coin (PEPE) and
  :class:`~monitor.instruments.Instrument` ``multiplier`` keeps sizes in coins and the notional
  at quantity × price.

Symbols that do not read cleanly (dated futures ``BTCUSDT_251226``, inverse ``BTCUSD``, an
unknown quote) give None: they stay skipped until metadata arrives. The same reading normalises
the venues' own listings (:func:`split_multiplier`), so a symbol gets the same asset whether its
metadata came from the venue or from its name.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from monitor.instruments import Instrument
from monitor.venues.planning import perp

__all__ = ["derive_perp", "split_multiplier"]

_PREFIX = re.compile(r"^(1M|10{2,})(?=[A-Z])")
_SUFFIX = re.compile(r"(?<=[A-Z])(10{2,})$")
_COIN = re.compile(r"^[A-Z0-9]+$")


def split_multiplier(name: str, *, lower_k: bool = False) -> tuple[str, float]:
    """``(coin, coins per unit)`` of a bundled base name: ``1000PEPE`` → ``("PEPE", 1000)``.

    ``1M`` is a million; ``lower_k`` reads Hyperliquid's ``kPEPE`` as 1000 PEPE. A name
    without a multiplier is returned as is with 1.
    """
    if lower_k and len(name) > 1 and name[0] == "k" and name[1].isupper():
        return name[1:], 1000.0
    if m := _PREFIX.match(name):
        prefix = m.group(1)
        return name[m.end() :], 1e6 if prefix == "1M" else float(prefix)
    if m := _SUFFIX.search(name):
        return name[: m.start()], float(m.group(1))
    return name, 1.0


def derive_perp(
    venue: str,
    symbol: str,
    quotes: Sequence[tuple[str, str]],
    *,
    funding_interval_h: float,
    lower_k: bool = False,
) -> Instrument | None:
    """A linear perpetual read from ``symbol``, or None when the symbol does not read cleanly.

    Args:
        venue: the venue id.
        symbol: the venue symbol.
        quotes: ``(suffix, quote)`` pairs tried in order (longest suffixes first).
        funding_interval_h: the venue's usual funding interval (0: unknown).
        lower_k: read a leading lowercase ``k`` as 1000 (Hyperliquid).
    """
    for suffix, quote in quotes:
        if suffix and not symbol.endswith(suffix):
            continue
        stem = symbol[: len(symbol) - len(suffix)] if suffix else symbol
        coin, multiplier = split_multiplier(stem, lower_k=lower_k)
        if not coin or not _COIN.match(coin):
            return None
        return perp(
            venue,
            symbol,
            coin,
            quote,
            funding_interval_h=funding_interval_h,
            multiplier=multiplier,
        )
    return None
