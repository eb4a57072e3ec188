"""OKX v5 public websocket wire schemas (field names as the venue sends them).

Numbers and ms timestamps arrive as strings; the decoders run with ``strict=False`` so they
decode to floats/ints. Fields that OKX may send as ``""`` are kept as strings.
Docs: OKX v5 API, "Public data → WebSocket" (trades, liquidation-orders, open-interest,
funding-rate, mark-price), "Market data → WebSocket → tickers", "Public data → REST → Get
instruments".
"""

from __future__ import annotations

from typing import Literal

import msgspec

__all__ = [
    "OkxArg",
    "OkxEnvelope",
    "OkxFundingRate",
    "OkxInstrument",
    "OkxInstruments",
    "OkxLiquidation",
    "OkxLiquidationDetail",
    "OkxMarkPrice",
    "OkxOpenInterest",
    "OkxTicker",
    "OkxTrade",
]


class OkxArg(msgspec.Struct, frozen=True):
    channel: str  # e.g. "trades", "liquidation-orders"
    instId: str = ""  # per-instrument channels
    instType: str = ""  # liquidation-orders


class OkxEnvelope(msgspec.Struct, frozen=True):
    """Any frame: a push (``arg`` + ``data``) or an event (subscribe ack, error, notice)."""

    arg: OkxArg | None = None
    data: msgspec.Raw = msgspec.Raw()  # decoded per channel
    event: str = ""  # "subscribe", "unsubscribe", "error", "notice", "channel-conn-count"
    code: str = ""  # error / notice code, e.g. "60012", "64008"
    msg: str = ""
    id: str = ""  # echoed request id


class OkxTrade(msgspec.Struct, frozen=True):
    """``trades`` data element (may aggregate ``count`` fills)."""

    instId: str
    px: float  # price
    sz: float  # CONTRACTS (× ctVal × ctMult)
    side: Literal["buy", "sell"]  # taker side
    ts: int  # ms


class OkxLiquidationDetail(msgspec.Struct, frozen=True):
    side: Literal["buy", "sell"]  # ORDER side
    posSide: Literal["long", "short", "net"]  # the position side (hedge mode), or "net"
    bkPx: float  # bankruptcy (liquidation mark) price
    sz: float  # CONTRACTS for SWAP
    ts: int  # ms


class OkxLiquidation(msgspec.Struct, frozen=True):
    """``liquidation-orders`` data element: one instrument, sampled (not every liquidation)."""

    instId: str
    details: list[OkxLiquidationDetail]
    instType: str = ""


class OkxFundingRate(msgspec.Struct, frozen=True):
    """``funding-rate`` data element (pushed every 30-90 s)."""

    instId: str
    fundingRate: float  # rate of the period settling at fundingTime
    fundingTime: int  # settlement time of the current period, ms
    # push time, ms; OKX added it later, so older captures lack it: the parser then uses the
    # receive time (fundingTime is the settlement, up to a period ahead, not the push time)
    ts: int | None = None
    nextFundingTime: str = ""  # the following settlement, ms; interval = next - fundingTime


class OkxOpenInterest(msgspec.Struct, frozen=True):
    """``open-interest`` data element."""

    instId: str
    oi: float  # CONTRACTS
    ts: int  # ms
    oiCcy: str = ""  # base currency
    oiUsd: str = ""  # USD (2026 docs; absent in older feeds)


class OkxMarkPrice(msgspec.Struct, frozen=True):
    """``mark-price`` data element."""

    instId: str
    markPx: float
    ts: int  # ms


class OkxTicker(msgspec.Struct, frozen=True):
    """``tickers`` data element (best bid/ask; sizes in CONTRACTS for swaps)."""

    instId: str
    ts: int  # ms
    bidPx: str = ""
    bidSz: str = ""
    askPx: str = ""
    askSz: str = ""


class OkxInstrument(msgspec.Struct, frozen=True):
    """``GET /api/v5/public/instruments?instType=SWAP`` data element."""

    instId: str  # "BTC-USDT-SWAP"
    instType: str
    ctVal: str = ""  # contract value: base coin (linear) or USD (inverse); "" before listing
    ctMult: str = ""  # contract multiplier
    ctValCcy: str = ""  # currency of ctVal
    ctType: str = ""  # "linear" / "inverse"
    settleCcy: str = ""
    instFamily: str = ""  # "BTC-USDT"
    uly: str = ""  # underlying, same as instFamily for swaps
    state: str = ""  # live, suspend, preopen, ...


class OkxInstruments(msgspec.Struct, frozen=True):
    code: str
    data: list[OkxInstrument]
    msg: str = ""
