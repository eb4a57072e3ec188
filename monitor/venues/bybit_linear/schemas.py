"""Bybit v5 public websocket wire schemas (field names as the venue sends them).

Numbers arrive as strings; the decoders run with ``strict=False`` so they decode to floats/ints.
Docs: bybit-exchange/docs ``docs/v5/websocket/public/{trade,all-liquidation,ticker}.mdx``,
``docs/v5/websocket/wss-authentication.mdx`` (the "Connect" page),
``docs/v5/market/instrument.mdx``.
"""

from __future__ import annotations

from typing import Literal

import msgspec

__all__ = [
    "BybitEnvelope",
    "BybitInstrument",
    "BybitInstrumentsInfo",
    "BybitInstrumentsResult",
    "BybitLiquidation",
    "BybitSide",
    "BybitTicker",
    "BybitTrade",
]

BybitSide = Literal["Buy", "Sell"]


class BybitEnvelope(msgspec.Struct, frozen=True):
    """Any frame of a public connection: a topic push, or an ``op`` reply (subscribe, ping)."""

    topic: str = ""  # e.g. "publicTrade.BTCUSDT"; empty on op replies
    type: str = ""  # "snapshot" or "delta" (tickers only use delta)
    ts: int = 0  # time the system generated the data, ms
    data: msgspec.Raw = msgspec.Raw()  # decoded per topic
    op: str = ""  # "subscribe", "unsubscribe", "ping" on replies
    success: bool | None = None  # op replies only
    ret_msg: str = ""  # "pong" for ping replies, error text for failed requests
    req_id: str = ""  # echoed request id


class BybitTrade(msgspec.Struct, frozen=True):
    """One element of ``publicTrade.{symbol}`` ``data``."""

    T: int  # fill time, ms
    s: str  # symbol
    S: BybitSide  # TAKER side
    v: float  # size: base coin (linear), USD contracts (inverse)
    p: float  # price
    BT: bool = False  # block trade


class BybitLiquidation(msgspec.Struct, frozen=True):
    """One element of ``allLiquidation.{symbol}`` ``data`` (500 ms batches)."""

    T: int  # updated time, ms
    s: str  # symbol
    S: BybitSide  # POSITION side: "Buy" = a LONG was liquidated (Binance states the order side)
    v: float  # executed size: base coin (linear), USD contracts (inverse)
    p: float  # bankruptcy price


class BybitTicker(msgspec.Struct, frozen=True):
    """``tickers.{symbol}`` ``data``: a snapshot, or a delta where a missing field is unchanged."""

    symbol: str
    markPrice: float | None = None  # mark price
    fundingRate: float | None = None  # predicted rate of the interval ending nextFundingTime
    fundingIntervalHour: float | None = None  # hours between fundings (2025+)
    nextFundingTime: int | None = None  # ms (a string on the wire)
    openInterest: float | None = None  # base coin (linear) / USD contracts (inverse), BOTH sides
    singleOpenInterest: float | None = None  # same unit, ONE side (added 2026-06-11)
    bid1Price: float | None = None  # best bid
    bid1Size: float | None = None  # base coin (linear) / USD contracts (inverse)
    ask1Price: float | None = None  # best ask
    ask1Size: float | None = None


class BybitInstrument(msgspec.Struct, frozen=True):
    """One element of ``GET /v5/market/instruments-info`` ``result.list`` (linear/inverse)."""

    symbol: str
    contractType: str  # LinearPerpetual, InversePerpetual, LinearFutures, InverseFutures
    status: str  # Trading, PreLaunch, Settling, Delivering, Closed
    baseCoin: str
    quoteCoin: str  # USDT / USDC (linear), USD (inverse)
    settleCoin: str = ""
    fundingInterval: int = 0  # minutes


class BybitInstrumentsResult(msgspec.Struct, frozen=True):
    items: list[BybitInstrument] = msgspec.field(name="list")  # the venue's field is "list"
    category: str = ""
    nextPageCursor: str = ""


class BybitInstrumentsInfo(msgspec.Struct, frozen=True):
    """``GET /v5/market/instruments-info`` body."""

    retCode: int
    result: BybitInstrumentsResult
    retMsg: str = ""
