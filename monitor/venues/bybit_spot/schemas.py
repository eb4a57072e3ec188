"""Bybit v5 spot wire schemas: the level-1 order book (quotes) and the instrument list.

Docs: bybit-exchange/docs ``docs/v5/websocket/public/orderbook.mdx`` (``orderbook.{depth}.
{symbol}``; depth 1 on spot: every push is a snapshot of the best bid and ask) and
``docs/v5/market/instrument.mdx`` (``category=spot``). Trades and the envelope are the linear
ones (:mod:`monitor.venues.bybit_linear.schemas`).
"""

from __future__ import annotations

import msgspec

__all__ = ["BybitOrderbook", "BybitSpotInstrument", "BybitSpotInstruments"]


class BybitOrderbook(msgspec.Struct, frozen=True):
    """``orderbook.1`` data: ``b``/``a`` are ``[price, size]`` levels, best first (may be empty)."""

    s: str  # symbol
    b: list[tuple[float, float]]
    a: list[tuple[float, float]]
    u: int = 0  # update id
    seq: int = 0  # cross sequence


class BybitSpotInstrument(msgspec.Struct, frozen=True):
    symbol: str
    baseCoin: str
    quoteCoin: str
    status: str = "Trading"


class BybitSpotList(msgspec.Struct, frozen=True):
    rows: list[BybitSpotInstrument] = msgspec.field(name="list")


class BybitSpotInstruments(msgspec.Struct, frozen=True):
    retCode: int
    result: BybitSpotList
    retMsg: str = ""
