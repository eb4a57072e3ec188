"""Binance USD-M futures wire schemas (field names as the venue sends them).

Numbers arrive as strings; the decoder runs with ``strict=False`` so they decode to floats.
Docs: developers.binance.com, USDⓈ-M Futures, Websocket Market Streams.
"""

from __future__ import annotations

from typing import Literal

import msgspec

__all__ = [
    "BinanceAggTrade",
    "BinanceAggTradeFields",
    "BinanceBookTicker",
    "BinanceError",
    "BinanceForceOrder",
    "BinanceForceOrderData",
    "BinanceFrame",
    "BinanceMarkPrice",
    "BinanceOpenInterest",
    "BinanceOrderSide",
    "BinancePayload",
]

BinanceOrderSide = Literal["BUY", "SELL"]


class BinanceAggTradeFields(msgspec.Struct, frozen=True):
    """The fields of an ``aggTrade`` payload, the same on USD-M futures and spot."""

    E: int  # event time, ms
    s: str  # symbol
    p: float  # price
    q: float  # quantity, base coin
    T: int  # trade time, ms
    m: bool  # buyer is the maker (so the taker sold)


class BinanceAggTrade(BinanceAggTradeFields, tag_field="e", tag="aggTrade", frozen=True):
    """A USD-M ``aggTrade`` payload, told from the stream's other payloads by its ``e``."""


class BinanceForceOrderData(msgspec.Struct, frozen=True):
    s: str  # symbol
    S: BinanceOrderSide  # side of the liquidation ORDER: SELL closes a long
    q: float  # original quantity, base coin
    p: float  # order (bankruptcy) price
    ap: float  # average fill price
    X: str  # order status
    z: float  # cumulative filled quantity
    T: int  # trade time, ms


class BinanceForceOrder(msgspec.Struct, tag_field="e", tag="forceOrder", frozen=True):
    E: int
    o: BinanceForceOrderData


class BinanceMarkPrice(msgspec.Struct, tag_field="e", tag="markPriceUpdate", frozen=True):
    E: int
    s: str
    p: float  # mark price
    r: float | None = None  # current (predicted) funding rate; empty for non-perps
    T: int | None = None  # next funding time, ms


class BinanceBookTicker(msgspec.Struct, tag_field="e", tag="bookTicker", frozen=True):
    s: str
    b: float  # best bid
    B: float  # bid size
    a: float  # best ask
    A: float  # ask size
    T: int  # transaction time, ms
    E: int = 0


BinancePayload = BinanceAggTrade | BinanceForceOrder | BinanceMarkPrice | BinanceBookTicker


class BinanceError(msgspec.Struct, frozen=True):
    """The error of a failed request (futures and spot alike)."""

    code: int
    msg: str


class BinanceFrame(msgspec.Struct, frozen=True):
    """Any frame on a combined-stream connection: a stream envelope or a request reply."""

    stream: str | None = None
    data: BinancePayload | list[BinancePayload] | None = None
    id: int | str | None = None
    result: None = None
    error: BinanceError | None = None


class BinanceOpenInterest(msgspec.Struct, frozen=True):
    """``GET /fapi/v1/openInterest`` body."""

    openInterest: float  # base coin
    symbol: str
    time: int  # ms
