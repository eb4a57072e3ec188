"""Hyperliquid websocket wire schemas (field names as the venue sends them).

Every frame is ``{"channel": <type>, "data": ...}``: the frames are one tagged union on
``channel``, decoded in one pass. Prices and sizes are strings on the wire (the docs type some as
numbers); the decoders run with ``strict=False``.
Docs: Hyperliquid GitBook, "Websocket → Subscriptions", "Timeouts and heartbeats",
"Info endpoint → Perpetuals" (``meta``).
"""

from __future__ import annotations

from typing import Literal

import msgspec

__all__ = [
    "HlActiveAssetCtx",
    "HlActiveAssetCtxFrame",
    "HlAssetCtx",
    "HlBbo",
    "HlBboFrame",
    "HlErrorFrame",
    "HlFrame",
    "HlLevel",
    "HlMeta",
    "HlMetaAsset",
    "HlPongFrame",
    "HlSubscriptionResponse",
    "HlTrade",
    "HlTradeSide",
    "HlTradesFrame",
]

HlTradeSide = Literal["B", "A"]  # aggressor: "B" = bid/buy, "A" = ask/sell


class HlTrade(msgspec.Struct, frozen=True):
    """``WsTrade``."""

    coin: str  # perp name, e.g. "BTC"
    side: HlTradeSide
    px: float  # price, USDC
    sz: float  # size, coins
    time: int  # ms
    tid: int  # 50-bit hash of (buyer_oid, seller_oid); unique with (time, coin)


class HlAssetCtx(msgspec.Struct, frozen=True):
    """``PerpsAssetCtx`` (spot contexts have no ``funding``/``openInterest``)."""

    markPx: float  # mark price
    funding: float | None = None  # current HOURLY funding rate
    openInterest: float | None = None  # coins
    oraclePx: float | None = None


class HlActiveAssetCtx(msgspec.Struct, frozen=True):
    """``WsActiveAssetCtx``: no timestamp on the wire."""

    coin: str
    ctx: HlAssetCtx


class HlLevel(msgspec.Struct, frozen=True):
    """``WsLevel``."""

    px: float
    sz: float  # coins
    n: int  # number of orders


class HlBbo(msgspec.Struct, frozen=True):
    """``WsBbo``: ``bbo`` is ``[best bid, best ask]``; an empty side is null (or missing)."""

    coin: str
    time: int  # ms
    bbo: list[HlLevel | None]


class HlTradesFrame(msgspec.Struct, tag_field="channel", tag="trades", frozen=True):
    data: list[HlTrade]


class HlActiveAssetCtxFrame(msgspec.Struct, tag_field="channel", tag="activeAssetCtx", frozen=True):
    data: HlActiveAssetCtx


class HlBboFrame(msgspec.Struct, tag_field="channel", tag="bbo", frozen=True):
    data: HlBbo


class HlSubscriptionResponse(
    msgspec.Struct, tag_field="channel", tag="subscriptionResponse", frozen=True
):
    data: msgspec.Raw = msgspec.Raw()  # echo of the (un)subscribe request


class HlPongFrame(msgspec.Struct, tag_field="channel", tag="pong", frozen=True):
    pass


class HlErrorFrame(msgspec.Struct, tag_field="channel", tag="error", frozen=True):
    data: str = ""  # e.g. "Invalid subscription ..."


HlFrame = (
    HlTradesFrame
    | HlActiveAssetCtxFrame
    | HlBboFrame
    | HlSubscriptionResponse
    | HlPongFrame
    | HlErrorFrame
)


class HlMetaAsset(msgspec.Struct, frozen=True):
    """One element of ``POST /info {"type":"meta"}`` ``universe``."""

    name: str  # the coin used in subscriptions, e.g. "BTC", "kPEPE"
    szDecimals: int = 0
    maxLeverage: int = 0
    isDelisted: bool = False


class HlMeta(msgspec.Struct, frozen=True):
    """``POST /info {"type":"meta"}`` body."""

    universe: list[HlMetaAsset]
