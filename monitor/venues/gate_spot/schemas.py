"""Gate API v4 spot wire schemas: the websocket envelope, ``spot.book_ticker``, ``spot.trades``
and the currency-pair list.

Sources: Gate's own websocket SDK (gateio/gatews ``go/response_spot.go``: ``SpotBookTickerMsg``
``t``/``u``/``s``/``b``/``B``/``a``/``A``, ``SpotTradeMsg``) and its websocket docs
(``https://www.gate.io/docs/developers/apiv4/ws/en/``: the envelope ``time``, ``time_ms``,
``channel``, ``event``, ``result``, ``error``). Prices and sizes are decimal strings, read as
floats.
"""

from __future__ import annotations

from typing import Literal

import msgspec

__all__ = [
    "GateBookTicker",
    "GateEnvelope",
    "GateError",
    "GatePair",
    "GateTrade",
]


class GateError(msgspec.Struct, frozen=True):
    """``{"code": 2, "message": "unknown currency pair GIBBERISH_USD"}``."""

    code: int = 0
    message: str = ""


class GateEnvelope(msgspec.Struct, frozen=True):
    """Every server frame: ``event`` is ``update`` for data, ``subscribe``/``unsubscribe`` for
    request replies; ``spot.pong`` answers ``spot.ping``."""

    channel: str
    time: int = 0  # server time, seconds
    time_ms: int = 0  # server time, milliseconds (newer frames)
    event: str = ""
    result: msgspec.Raw = msgspec.Raw()  # decoded by channel
    error: GateError | None = None


class GateBookTicker(msgspec.Struct, frozen=True):
    """``spot.book_ticker`` result: the best bid and ask of one pair (sizes in base units)."""

    t: int  # order book update time, ms
    s: str  # currency pair, e.g. FDUSD_USDT
    b: float  # best bid price
    B: float  # best bid size
    a: float  # best ask price
    A: float  # best ask size
    u: int = 0  # order book update id


class GateTrade(msgspec.Struct, frozen=True):
    """``spot.trades`` result: one public trade; ``side`` is the taker's."""

    id: int
    currency_pair: str
    side: Literal["buy", "sell"]
    amount: float  # base units
    price: float
    create_time: int = 0  # seconds
    create_time_ms: str | int = ""  # milliseconds, a decimal string ("1606292218213.4578")


class GatePair(msgspec.Struct, frozen=True):
    """An element of ``GET /api/v4/spot/currency_pairs``."""

    id: str  # FDUSD_USDT
    base: str
    quote: str
    trade_status: str = "tradable"  # untradable, buyable, sellable, tradable
