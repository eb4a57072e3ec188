"""BitMEX realtime (``/realtime``) and REST wire schemas (field names as the venue sends them).

Docs: bitmex.com/app/wsAPI (table protocol: ``partial`` then ``insert``/``update``/``delete``;
heartbeat), bitmex.com/api/explorer (``Instrument``, ``Trade``, ``Liquidation``, ``Quote``).
Timestamps are ISO-8601 strings, decoded to ``datetime``. Update rows carry only the fields that
changed, so every field but the keys is optional (None = not sent).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

__all__ = [
    "BitmexFrame",
    "BitmexInstrumentRow",
    "BitmexLiquidationRow",
    "BitmexQuoteRow",
    "BitmexSide",
    "BitmexTradeRow",
]

BitmexSide = Literal["Buy", "Sell"]


class BitmexFrame(msgspec.Struct, frozen=True):
    """Any frame: a table message, the welcome, a subscribe ack or an error."""

    table: str | None = None  # trade, liquidation, instrument, quote...
    action: str | None = None  # partial, insert, update, delete
    data: msgspec.Raw = msgspec.Raw()  # the rows, decoded by table
    info: str | None = None  # welcome: "Welcome to the BitMEX Realtime API."
    success: bool | None = None  # subscribe/unsubscribe ack
    subscribe: str | None = None  # the acknowledged subscription, e.g. "trade:XBTUSD"
    unsubscribe: str | None = None
    status: int | None = None  # error status (400, 401, 429...)
    error: str | None = None  # error text


class BitmexTradeRow(msgspec.Struct, frozen=True):
    timestamp: datetime  # trade time
    symbol: str  # XBTUSD, XBTUSDT...
    side: BitmexSide  # the TAKER side
    size: float  # contracts (USD for XBTUSD; instrument-specific for linear contracts)
    price: float
    trdMatchID: str = ""  # match id (zeros on the aggregated pool)
    homeNotional: float | None = None  # base coin
    foreignNotional: float | None = None  # quote currency
    grossValue: float | None = None  # settlement currency minor units (satoshis for XBt)
    trdType: str | None = None  # Regular, ...


class BitmexLiquidationRow(msgspec.Struct, frozen=True):
    """An OPEN liquidation order in the book (not a fill). There is no timestamp."""

    orderID: str  # key
    symbol: str | None = None
    side: BitmexSide | None = None  # side of the liquidation ORDER: "Sell" closes a long
    price: float | None = None  # order price
    leavesQty: float | None = None  # remaining contracts


class BitmexQuoteRow(msgspec.Struct, frozen=True):
    timestamp: datetime
    symbol: str
    bidSize: float | None = None  # contracts
    bidPrice: float | None = None
    askPrice: float | None = None
    askSize: float | None = None  # contracts


class BitmexInstrumentRow(msgspec.Struct, frozen=True):
    """An ``instrument`` row (full in partials and REST, only changed fields in updates)."""

    symbol: str  # key
    timestamp: datetime | None = None  # time of this row
    markPrice: float | None = None
    fundingRate: float | None = None  # rate of the next funding (at fundingTimestamp)
    indicativeFundingRate: float | None = None  # predicted rate of the funding after that
    fundingTimestamp: datetime | None = None  # next funding time
    fundingInterval: datetime | None = None  # a timespan: "2000-01-01T08:00:00.000Z" = 8 h
    openInterest: float | None = None  # contracts
    openValue: float | None = None  # settlement currency minor units (satoshis for XBt)
    # static metadata (partials and REST)
    rootSymbol: str | None = None  # XBT, ETH...
    underlying: str | None = None  # XBT
    quoteCurrency: str | None = None  # USD, USDT
    typ: str | None = None  # FFWCSX = perpetual swap, FFCCSX = dated future...
    state: str | None = None  # Open, Settled, Unlisted...
    multiplier: float | None = None  # -100000000 for XBTUSD (inverse)
    isInverse: bool | None = None
    isQuanto: bool | None = None
    underlyingToPositionMultiplier: float | None = None  # contracts per base unit (linear)
    underlyingToSettleMultiplier: float | None = None  # -100000000 for XBTUSD
    settlCurrency: str | None = None  # XBt, USDt
