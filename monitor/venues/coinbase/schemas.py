"""Coinbase Exchange websocket (``wss://ws-feed.exchange.coinbase.com``) and REST schemas.

Docs: docs.cdp.coinbase.com, Exchange WebSocket Feed ("Exchange WebSocket Channels": ticker,
matches, heartbeat) and REST "Get all known trading pairs" (``GET /products``). Every message
has a ``type``; numbers arrive as strings and decode to floats with ``strict=False``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

__all__ = ["CoinbaseMessage", "CoinbaseProduct", "CoinbaseSide"]

CoinbaseSide = Literal["buy", "sell"]


class CoinbaseMessage(msgspec.Struct, frozen=True):
    """Any feed message, flat: the fields used depend on ``type``."""

    type: str  # ticker, match, last_match, heartbeat, subscriptions, error...
    product_id: str | None = None  # e.g. "USDT-USD"
    time: datetime | None = None  # RFC3339, microseconds
    sequence: int | None = None
    # ticker
    best_bid: float | None = None
    best_bid_size: float | None = None  # base units
    best_ask: float | None = None
    best_ask_size: float | None = None  # base units
    # ticker and match
    price: float | None = None
    trade_id: int | None = None
    # match: the MAKER order side (the taker traded the other way); size in base units
    side: CoinbaseSide | None = None
    size: float | None = None
    # error
    message: str | None = None
    reason: str | None = None


class CoinbaseProduct(msgspec.Struct, frozen=True):
    """One row of ``GET /products``."""

    id: str  # "USDT-USD"
    base_currency: str
    quote_currency: str
    status: str = "online"
