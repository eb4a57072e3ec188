"""Bitstamp WebSocket v2 (``wss://ws.bitstamp.net``) and REST wire schemas.

Docs: bitstamp.net/websocket/v2 (``bts:subscribe``, ``order_book_{pair}``, ``live_trades_{pair}``,
``bts:heartbeat``, ``bts:request_reconnect``); REST ``GET /api/v2/trading-pairs-info/``.
Times are epoch strings (``timestamp`` s, ``microtimestamp`` µs); book levels are string pairs.
"""

from __future__ import annotations

from typing import Literal

import msgspec

__all__ = ["BitstampBook", "BitstampFrame", "BitstampPair", "BitstampTrade", "BitstampTradeType"]

BitstampTradeType = Literal[0, 1]  # 0 = buy, 1 = sell (the taker side)


class BitstampFrame(msgspec.Struct, frozen=True):
    event: str  # data, trade, bts:subscription_succeeded, bts:heartbeat, bts:request_reconnect...
    channel: str = ""  # e.g. order_book_usdtusd, live_trades_usdtusd
    data: msgspec.Raw = msgspec.Raw()  # payload, decoded by event


class BitstampBook(msgspec.Struct, frozen=True):
    """``order_book_{pair}``: the top 100 levels each side, sent on every change."""

    microtimestamp: int  # µs (a string on the wire)
    bids: list[tuple[float, float]]  # [price, amount in base units], best first
    asks: list[tuple[float, float]]
    timestamp: int = 0  # s


class BitstampTrade(msgspec.Struct, frozen=True):
    """``live_trades_{pair}`` trade event."""

    id: int
    price: float
    amount: float  # base units
    type: BitstampTradeType
    microtimestamp: int  # µs (a string on the wire)
    timestamp: int = 0  # s


class BitstampPair(msgspec.Struct, frozen=True):
    """One row of ``GET /api/v2/trading-pairs-info/``."""

    name: str  # "USDT/USD"
    url_symbol: str  # "usdtusd": the websocket channel suffix
    trading: str = "Enabled"
