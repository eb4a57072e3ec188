"""Kraken Spot WebSocket v2 (``wss://ws.kraken.com/v2``) and REST wire schemas.

Docs: docs.kraken.com, Spot WebSocket v2 ``ticker``, ``trade``, ``heartbeat``, ``ping``,
``status``; REST ``/0/public/AssetPairs``. Prices and sizes are JSON numbers; timestamps RFC3339
strings with microseconds.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

__all__ = [
    "KrakenAssetPair",
    "KrakenAssetPairs",
    "KrakenFrame",
    "KrakenTicker",
    "KrakenTrade",
]


class KrakenFrame(msgspec.Struct, frozen=True):
    """Any frame: a channel message (``channel``) or a method reply (``method``)."""

    channel: str | None = None  # ticker, trade, heartbeat, status
    type: str | None = None  # snapshot or update
    data: msgspec.Raw = msgspec.Raw()  # channel payload (a list), decoded by channel
    method: str | None = None  # subscribe, unsubscribe, pong
    success: bool | None = None  # method replies
    error: str | None = None  # method replies when success is false
    req_id: int | None = None


class KrakenTicker(msgspec.Struct, frozen=True):
    symbol: str  # e.g. "USDT/USD"
    bid: float  # best bid price
    bid_qty: float  # best bid quantity, base units
    ask: float  # best ask price
    ask_qty: float  # best ask quantity, base units
    last: float | None = None  # last trade price
    timestamp: datetime | None = None  # present in recent v2 messages; absent in older ones


class KrakenTrade(msgspec.Struct, frozen=True):
    symbol: str
    side: Literal["buy", "sell"]  # the taker side
    price: float
    qty: float  # base units
    timestamp: datetime
    trade_id: int = 0
    ord_type: str = ""  # market or limit (the taker order type)


class KrakenAssetPair(msgspec.Struct, frozen=True):
    altname: str = ""  # USDTUSD
    wsname: str = ""  # "USDT/USD": the v2 websocket symbol (XBT is BTC on v2)
    base: str = ""  # REST asset code (USDT, ZUSD...)
    quote: str = ""
    status: str = "online"


class KrakenAssetPairs(msgspec.Struct, frozen=True):
    """``GET /0/public/AssetPairs`` body."""

    error: list[str]
    result: dict[str, KrakenAssetPair]
