"""How the simulated venues print numbers and times in their frames.

Venues send decimals as strings: ``decimal_text`` prints a float the way they do (fixed point, no
trailing zeros, at most ``places`` decimals: 8 for Binance and Bitstamp, 10 for the others, see
``SimVenue.decimals``). Kraken and Coinbase stamp frames with RFC 3339 times to the microsecond
(``rfc3339_us``); BitMEX's millisecond form stays in its own module.
"""

from __future__ import annotations

from datetime import UTC, datetime

from streams.units import NS_PER_SECOND, NS_PER_US

__all__ = ["decimal_text", "rfc3339_us"]

_US_PER_SECOND = NS_PER_SECOND // NS_PER_US


def decimal_text(x: float, places: int) -> str:
    """``x`` in fixed point with at most ``places`` decimals, trailing zeros dropped; NaN as
    ``"0"`` (``decimal_text(0.25, 8) == "0.25"``, ``decimal_text(3.0, 8) == "3"``)."""
    return f"{x:.{places}f}".rstrip("0").rstrip(".") if x == x else "0"


def rfc3339_us(ns: int) -> str:
    """``ns`` (Unix ns) as ``YYYY-MM-DDTHH:MM:SS.ffffffZ``, truncated to the microsecond."""
    us = ns // NS_PER_US
    dt = datetime.fromtimestamp(us // _US_PER_SECOND, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{us % _US_PER_SECOND:06d}Z"
