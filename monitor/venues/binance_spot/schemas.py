"""Binance Spot websocket (combined streams) and REST wire schemas.

Docs: developers.binance.com, Spot "WebSocket Streams" (``<symbol>@bookTicker``,
``<symbol>@aggTrade``), REST ``GET /api/v3/exchangeInfo``. Numbers arrive as strings; decoders
run with ``strict=False``. The spot ``bookTicker`` payload has NO event type and NO time field.
"""

from __future__ import annotations

import msgspec

from monitor.venues.binance_usdm.schemas import BinanceAggTradeFields, BinanceError

__all__ = [
    "BinanceSpotAggTrade",
    "BinanceSpotBookTicker",
    "BinanceSpotExchangeInfo",
    "BinanceSpotFrame",
    "BinanceSpotSymbol",
]


class BinanceSpotFrame(msgspec.Struct, frozen=True):
    """A combined-stream envelope or a request reply."""

    stream: str | None = None  # e.g. "usdcusdt@bookTicker"
    data: msgspec.Raw = msgspec.Raw()  # payload, decoded by stream suffix
    id: int | str | None = None  # request replies
    result: msgspec.Raw = msgspec.Raw()  # null for SUBSCRIBE, a list for LIST_SUBSCRIPTIONS
    error: BinanceError | None = None
    e: str | None = None  # raw-stream payloads (no envelope): the event type, if any
    u: int | None = None  # raw-stream bookTicker: order book update id


class BinanceSpotBookTicker(msgspec.Struct, frozen=True):
    u: int  # order book update id
    s: str  # symbol
    b: float  # best bid
    B: float  # best bid quantity, base units
    a: float  # best ask
    A: float  # best ask quantity, base units


class BinanceSpotAggTrade(BinanceAggTradeFields, frozen=True):
    """A spot ``aggTrade`` payload: the futures fields (quantity in base units), untagged."""

    a: int = 0  # aggregate trade id
    e: str = "aggTrade"


class BinanceSpotSymbol(msgspec.Struct, frozen=True):
    symbol: str
    baseAsset: str
    quoteAsset: str
    status: str = "TRADING"


class BinanceSpotExchangeInfo(msgspec.Struct, frozen=True):
    symbols: list[BinanceSpotSymbol]
