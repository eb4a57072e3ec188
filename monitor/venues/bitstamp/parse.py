"""Parse Bitstamp WebSocket v2 frames into normalized events.

``order_book_{pair}`` snapshots give Quote events from their first level on each side;
``live_trades_{pair}`` gives Trade events (``type`` 0 = buy, 1 = sell, the taker side). Sizes are
base units; ``ts_event`` comes from ``microtimestamp``. ``bts:request_reconnect`` (the server is
about to go away) returns ``[]`` here: the connection manager has to act on it.
"""

from __future__ import annotations

import msgspec

from monitor.instruments import InstrumentRegistry
from monitor.venues.base import (
    ParseError,
    UnknownMessageError,
    require_instrument,
)
from monitor.venues.bitstamp.schemas import BitstampBook, BitstampFrame, BitstampTrade
from streams.events import Event, Quote, Trade

__all__ = [
    "BOOK_PREFIX",
    "RECONNECT_EVENT",
    "TRADES_PREFIX",
    "USD_QUOTES",
    "VENUE_ID",
    "BitstampParser",
]

VENUE_ID = "bitstamp"
BOOK_PREFIX = "order_book_"
TRADES_PREFIX = "live_trades_"
RECONNECT_EVENT = "bts:request_reconnect"
_CONTROL = frozenset(
    {"bts:subscription_succeeded", "bts:unsubscription_succeeded", "bts:heartbeat", RECONNECT_EVENT}
)

# quote currencies valued at par in ``notional_usd``; trades in other quotes are not valued
USD_QUOTES = frozenset({"USD", "USDT", "USDC", "FDUSD", "DAI", "USDS", "PYUSD", "USDE", "TUSD"})

_frame_decoder = msgspec.json.Decoder(BitstampFrame, strict=False)
_book_decoder = msgspec.json.Decoder(BitstampBook, strict=False)
_trade_decoder = msgspec.json.Decoder(BitstampTrade, strict=False)


class BitstampParser:
    """Stateless parser of Bitstamp v2 frames.

    Args:
        instruments: the venue's instrument registry (symbols are url symbols, ``usdtusd``).
    """

    venue = VENUE_ID

    def __init__(self, instruments: InstrumentRegistry) -> None:
        self.instruments = instruments

    def parse(self, frame: str, ts_recv: int) -> list[Event]:
        """Parse one frame; acks, heartbeats and reconnect requests return ``[]``."""
        try:
            msg = _frame_decoder.decode(frame)
        except msgspec.ValidationError as e:
            raise ParseError(f"unexpected message shape: {e}") from e
        except msgspec.DecodeError as e:
            raise ParseError(f"invalid JSON: {e}") from e
        try:
            if msg.event == "data" and msg.channel.startswith(BOOK_PREFIX):
                return self._book(msg.channel[len(BOOK_PREFIX) :], msg.data, ts_recv)
            if msg.event == "trade" and msg.channel.startswith(TRADES_PREFIX):
                return self._trade(msg.channel[len(TRADES_PREFIX) :], msg.data, ts_recv)
        except msgspec.ValidationError as e:
            raise ParseError(f"bad {msg.event} payload on {msg.channel}: {e}") from e
        if msg.event in _CONTROL:
            return []
        if msg.event == "bts:error":
            raise ParseError(f"bts:error on {msg.channel!r}: {bytes(msg.data).decode()}")
        raise UnknownMessageError(f"unknown event {msg.event!r} on {msg.channel!r}")

    def _book(self, symbol: str, data: msgspec.Raw, ts_recv: int) -> list[Event]:
        inst = require_instrument(self.instruments, symbol)
        book = _book_decoder.decode(data)
        if not book.bids or not book.asks:
            return []  # a side of the book is empty
        (bid, bid_size), (ask, ask_size) = book.bids[0], book.asks[0]
        return [
            Quote(
                venue=VENUE_ID,
                symbol=symbol,
                instrument=inst.instrument,
                asset=inst.base,
                ts_event=book.microtimestamp * 1000,
                ts_recv=ts_recv,
                bid=bid,
                ask=ask,
                bid_size=bid_size,
                ask_size=ask_size,
            )
        ]

    def _trade(self, symbol: str, data: msgspec.Raw, ts_recv: int) -> list[Event]:
        inst = require_instrument(self.instruments, symbol)
        t = _trade_decoder.decode(data)
        if t.type not in (0, 1):
            raise ParseError(f"unknown trade type {t.type}")
        if inst.quote not in USD_QUOTES:
            raise ParseError(f"cannot value a {inst.instrument} trade in USD")
        return [
            Trade(
                venue=VENUE_ID,
                symbol=symbol,
                instrument=inst.instrument,
                asset=inst.base,
                ts_event=t.microtimestamp * 1000,
                ts_recv=ts_recv,
                price=t.price,
                size=t.amount,
                notional_usd=t.price * t.amount,
                side="buy" if t.type == 0 else "sell",
            )
        ]
