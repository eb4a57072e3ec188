"""Parse Coinbase Exchange feed messages into normalized events.

``ticker`` messages (sent on every match, batched during cascades) give Quote events from
``best_bid``/``best_ask`` with their sizes; ``match`` messages give Trade events. A match's
``side`` is the MAKER order side, so the taker side is the opposite ("side: sell" = an up-tick,
a taker buy). ``last_match`` (the most recent match, sent once on subscribe) is skipped so a
reconnect does not count it twice.
"""

from __future__ import annotations

import msgspec

from monitor.instruments import Instrument
from monitor.venues.base import ParseError, UnknownMessageError
from monitor.venues.coinbase.schemas import CoinbaseMessage, CoinbaseSide
from monitor.venues.parsing import VenueParser, decode, mapped, to_ns
from streams.events import Event, TakerSide

__all__ = ["VENUE_ID", "CoinbaseParser"]

VENUE_ID = "coinbase"
_CONTROL = frozenset({"heartbeat", "subscriptions", "last_match"})
_TAKER: dict[CoinbaseSide, TakerSide] = {"sell": "buy", "buy": "sell"}  # side is the maker's

_decoder = msgspec.json.Decoder(CoinbaseMessage, strict=False)


class CoinbaseParser(VenueParser):
    """Stateless parser of Coinbase Exchange messages (symbols are product ids, ``USDT-USD``)."""

    venue = VENUE_ID

    def parse(self, frame: str, ts_recv: int) -> list[Event]:
        """Parse one message; heartbeats, subscription lists and ``last_match`` return ``[]``."""
        m = decode(_decoder, frame)
        if m.type == "ticker":
            return self._ticker(m, ts_recv)
        if m.type == "match":
            return self._match(m, ts_recv)
        if m.type in _CONTROL:
            return []
        if m.type == "error":
            raise ParseError(f"error: {m.message} ({m.reason})")
        raise UnknownMessageError(f"unknown message type {m.type!r}")

    def _product(self, m: CoinbaseMessage, ts_recv: int) -> tuple[Instrument, int]:
        """The message's instrument and event time."""
        if m.product_id is None:
            raise ParseError(f"{m.type} without product_id")
        inst = self.instrument(m.product_id)
        return inst, to_ns(m.time) if m.time is not None else ts_recv

    def _ticker(self, m: CoinbaseMessage, ts_recv: int) -> list[Event]:
        inst, ts_event = self._product(m, ts_recv)
        if not m.best_bid or not m.best_ask:
            return []  # a side of the book is empty
        return [
            self.quote(
                inst, ts_event, ts_recv, m.best_bid, m.best_ask, m.best_bid_size, m.best_ask_size
            )
        ]

    def _match(self, m: CoinbaseMessage, ts_recv: int) -> list[Event]:
        inst, ts_event = self._product(m, ts_recv)
        if m.price is None or m.size is None or m.side is None:
            raise ParseError("match without price, size or side")
        side = mapped(_TAKER, m.side, "match side")
        return [self.spot_trade(inst, ts_event, ts_recv, m.price, m.size, side)]
