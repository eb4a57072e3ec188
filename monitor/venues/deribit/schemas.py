"""Deribit JSON-RPC 2.0 wire schemas (field names as the venue sends them).

Docs: docs.deribit.com, subscriptions ``trades.{instrument_name}.{interval}`` and
``ticker.{instrument_name}.{interval}``, ``public/set_heartbeat``, ``public/get_instruments``.
Numbers are JSON numbers; the decoders still run with ``strict=False``.
"""

from __future__ import annotations

from typing import Literal

import msgspec

__all__ = [
    "DeribitError",
    "DeribitFrame",
    "DeribitInstrument",
    "DeribitInstruments",
    "DeribitParams",
    "DeribitTicker",
    "DeribitTrade",
]


class DeribitError(msgspec.Struct, frozen=True):
    code: int  # e.g. 13778 raw_subscriptions_not_available_for_unauthorized
    message: str
    data: object = None  # optional detail (e.g. "invalid json")


class DeribitParams(msgspec.Struct, frozen=True):
    channel: str | None = None  # subscription notifications: the channel name
    data: msgspec.Raw = msgspec.Raw()  # subscription notifications: the payload, decoded by channel
    type: str | None = None  # heartbeat notifications: "heartbeat" or "test_request"


class DeribitFrame(msgspec.Struct, frozen=True):
    """Any frame: a notification (``method`` + ``params``) or a reply (``id`` + result/error)."""

    jsonrpc: str | None = None  # "2.0"
    method: str | None = None  # "subscription" or "heartbeat" for notifications
    params: DeribitParams | None = None
    id: int | str | None = None  # the request id, on replies
    result: msgspec.Raw = msgspec.Raw()  # reply payload (channel list, "ok", version...)
    error: DeribitError | None = None  # reply error


class DeribitTrade(msgspec.Struct, frozen=True):
    """One element of a ``trades.*`` notification's data list."""

    timestamp: int  # trade time, ms
    instrument_name: str  # e.g. BTC-PERPETUAL, BTC_USDC-PERPETUAL
    price: float  # trade price (USD for inverse, USDC for linear)
    amount: float  # USD for inverse perps/futures; base coin for linear (USDC) contracts
    direction: Literal["buy", "sell"]  # the TAKER side
    trade_id: str = ""  # venue trade id
    trade_seq: int = 0  # per-instrument sequence
    # "M" maker side liquidated, "T" taker side, "MT" both
    liquidation: Literal["M", "T", "MT"] | None = None
    contracts: float | None = None  # amount in contracts (informational)
    mark_price: float | None = None  # mark at the time of the trade
    index_price: float | None = None  # index at the time of the trade


class DeribitTicker(msgspec.Struct, frozen=True):
    """The ``ticker.*`` notification payload."""

    timestamp: int  # ms
    instrument_name: str
    mark_price: float  # mark price
    index_price: float | None = None  # underlying index
    open_interest: float | None = None  # USD for inverse perps, base coin for linear
    current_funding: float | None = None  # current funding rate, stated per 8 h (perps only)
    funding_8h: float | None = None  # funding accrued over the trailing 8 h (perps only)
    best_bid_price: float | None = None  # best bid, null/0 when the side is empty
    best_bid_amount: float | None = None  # USD (inverse) or base coin (linear)
    best_ask_price: float | None = None
    best_ask_amount: float | None = None
    last_price: float | None = None
    state: str = ""  # open, closed...


class DeribitInstrument(msgspec.Struct, frozen=True):
    """One row of ``public/get_instruments``."""

    instrument_name: str
    kind: str  # future, option, spot, future_combo...
    base_currency: str  # BTC
    quote_currency: str  # USD (inverse) or USDC (linear)
    settlement_period: str = ""  # "perpetual", "month", "week"...
    instrument_type: str = ""  # "reversed" (inverse) or "linear"
    contract_size: float = 1.0  # 10 USD (BTC-PERPETUAL); 0.0001 BTC (BTC_USDC-PERPETUAL)
    is_active: bool = True
    settlement_currency: str | None = None  # BTC (inverse) or USDC (linear)


class DeribitInstruments(msgspec.Struct, frozen=True):
    """``public/get_instruments`` REST body."""

    result: list[DeribitInstrument]
