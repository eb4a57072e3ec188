"""Parse Bitstamp WebSocket v2 frames into normalized events.

``order_book_{pair}`` snapshots give Quote events from their first level on each side;
``live_trades_{pair}`` gives Trade events (``type`` 0 = buy, 1 = sell, the taker side). Sizes are
base units; ``ts_event`` comes from ``microtimestamp``. ``bts:request_reconnect`` (the server is
about to go away) returns ``[]`` here: the connection manager has to act on it.
"""

from __future__ import annotations

import msgspec

from monitor.venues.base import ParseError, UnknownMessageError
from monitor.venues.bitstamp.schemas import (
    BitstampBook,
    BitstampFrame,
    BitstampTrade,
    BitstampTradeType,
)
from monitor.venues.parsing import VenueParser, decode, mapped
from streams.events import Event, TakerSide
from streams.units import NS_PER_US

__all__ = [
    "BOOK_PREFIX",
    "RECONNECT_EVENT",
    "TRADES_PREFIX",
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
_TAKER: dict[BitstampTradeType, TakerSide] = {0: "buy", 1: "sell"}

_frame_decoder = msgspec.json.Decoder(BitstampFrame, strict=False)
_book_decoder = msgspec.json.Decoder(BitstampBook, strict=False)
_trade_decoder = msgspec.json.Decoder(BitstampTrade, strict=False)


class BitstampParser(VenueParser):
    """Stateless parser of Bitstamp v2 frames (symbols are url symbols, ``usdtusd``)."""

    venue = VENUE_ID

    def parse(self, frame: str, ts_recv: int) -> list[Event]:
        """Parse one frame; acks, heartbeats and reconnect requests return ``[]``."""
        msg = decode(_frame_decoder, frame)
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
        inst = self.instrument(symbol)
        book = _book_decoder.decode(data)
        if not book.bids or not book.asks:
            return []  # a side of the book is empty
        ts_event = book.microtimestamp * NS_PER_US
        return [self.book_quote(inst, ts_event, ts_recv, book.bids, book.asks)]

    def _trade(self, symbol: str, data: msgspec.Raw, ts_recv: int) -> list[Event]:
        inst = self.instrument(symbol)
        t = _trade_decoder.decode(data)
        side = mapped(_TAKER, t.type, "trade type")
        return [
            self.spot_trade(inst, t.microtimestamp * NS_PER_US, ts_recv, t.price, t.amount, side)
        ]
