"""Normalized market events.

Every venue parser turns raw frames into these structs. Their JSON form (one object per line) is
a public contract read by users and other tools: the keys are fixed.

Units:
- prices in the instrument's quote currency (USD, USDT or USDC for the venues we watch), floats;
- ``size`` always in units of the **base asset** (contracts are converted by the parser);
- ``notional_usd`` in US dollars (inverse contracts handled by the parser);
- ``ts_event`` is the venue's time, ``ts_recv`` the local receive time, both int nanoseconds since
  the Unix epoch.
"""

from __future__ import annotations

from typing import Literal, TypedDict

import msgspec

__all__ = [
    "EVENT_TYPE",
    "Event",
    "EventDecoder",
    "EventHeader",
    "FeedStatus",
    "FillFields",
    "Funding",
    "Liquidation",
    "OpenInterest",
    "PositionSide",
    "Quote",
    "TakerSide",
    "Trade",
    "decode_event",
    "encode_event",
    "rate_8h",
]

TakerSide = Literal["buy", "sell"]
PositionSide = Literal["long", "short"]
FeedState = Literal[
    "connecting",
    "connected",
    "subscribed",
    "stale",
    "silent",
    "disconnected",
    "rotating",
    "error",
]


class EventHeader(TypedDict):
    """The fields every event starts with (``Trade(**header, price=...)``).

    The same fields as the events' base struct, written twice on purpose: a ``TypedDict`` (for a
    typed ``**header``) cannot share a msgspec declaration. ``tests/test_streams/test_events.py``
    keeps the two equal.
    """

    venue: str
    symbol: str
    instrument: str
    asset: str
    ts_event: int
    ts_recv: int


class FillFields(EventHeader):
    """The fields a trade and a liquidation share (all but ``side``)."""

    price: float
    size: float
    notional_usd: float


class _Base(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    venue: str
    symbol: str
    instrument: str
    asset: str
    ts_event: int
    ts_recv: int


class Trade(_Base, frozen=True, kw_only=True, tag="trade"):
    """A trade print. ``side`` is the taker side."""

    price: float
    size: float
    notional_usd: float
    side: TakerSide


class Liquidation(_Base, frozen=True, kw_only=True, tag="liquidation"):
    """A forced close. ``side`` is the side of the position that was liquidated."""

    price: float
    size: float
    notional_usd: float
    side: PositionSide


class Funding(_Base, frozen=True, kw_only=True, tag="funding"):
    """A funding-rate update.

    ``rate`` is as the venue states it for its own interval of ``interval_h`` hours;
    ``rate_8h`` is the 8-hour equivalent (``rate * 8 / interval_h``).
    """

    rate: float
    interval_h: float
    rate_8h: float
    mark_price: float
    next_funding_ts: int | None = None


class OpenInterest(_Base, frozen=True, kw_only=True, tag="open_interest"):
    """Open interest of one instrument (one side of the book), in base units and USD."""

    size: float
    notional_usd: float


class Quote(_Base, frozen=True, kw_only=True, tag="quote"):
    """Best bid and ask."""

    bid: float
    ask: float
    bid_size: float | None = None
    ask_size: float | None = None


class FeedStatus(_Base, frozen=True, kw_only=True, tag="feed_status"):
    """A change of a feed's state: one connection, or one channel of one symbol.

    ``symbol``/``instrument``/``asset`` are empty strings for connection-level states.
    ``channel`` is one of trades, liquidations, funding, open_interest, quotes, or ``connection``.
    """

    channel: str
    status: FeedState
    reason: str = ""


Event = Trade | Liquidation | Funding | OpenInterest | Quote | FeedStatus

_encoder = msgspec.json.Encoder()
EventDecoder = msgspec.json.Decoder(Event)


def encode_event(event: Event) -> bytes:
    """Encode one event as its JSON line (without the newline)."""
    return _encoder.encode(event)


def decode_event(data: bytes | str) -> Event:
    """Decode one JSON event line."""
    event: Event = EventDecoder.decode(data)
    return event


#: the ``type`` key of each event class
EVENT_TYPE: dict[type[Event], str] = {
    Trade: "trade",
    Liquidation: "liquidation",
    Funding: "funding",
    OpenInterest: "open_interest",
    Quote: "quote",
    FeedStatus: "feed_status",
}


def rate_8h(rate: float, interval_h: float) -> float:
    """Return the 8-hour equivalent of a funding ``rate`` paid every ``interval_h`` hours."""
    return rate * 8.0 / interval_h
