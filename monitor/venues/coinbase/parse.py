"""Parse Coinbase Exchange feed messages into normalized events.

``ticker`` messages (sent on every match, batched during cascades) give Quote events from
``best_bid``/``best_ask`` with their sizes; ``match`` messages give Trade events. A match's
``side`` is the MAKER order side, so the taker side is the opposite ("side: sell" = an up-tick,
a taker buy). ``last_match`` (the most recent match, sent once on subscribe) is skipped so a
reconnect does not count it twice.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec

from monitor.instruments import Instrument, InstrumentRegistry
from monitor.venues.base import MissingMetadataError, ParseError, UnknownMessageError
from monitor.venues.coinbase.schemas import CoinbaseMessage
from streams.events import Event, Quote, Trade

__all__ = ["USD_QUOTES", "VENUE_ID", "CoinbaseParser"]

VENUE_ID = "coinbase"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
_CONTROL = frozenset({"heartbeat", "subscriptions", "last_match"})
# quote currencies valued at par in ``notional_usd``; trades in other quotes are not valued
USD_QUOTES = frozenset({"USD", "USDT", "USDC", "FDUSD", "DAI", "USDS", "PYUSD", "USDE", "TUSD"})

_decoder = msgspec.json.Decoder(CoinbaseMessage, strict=False)


class CoinbaseParser:
    """Stateless parser of Coinbase Exchange feed messages.

    Args:
        instruments: the venue's instrument registry (symbols are product ids, ``USDT-USD``).
    """

    venue = VENUE_ID

    def __init__(self, instruments: InstrumentRegistry) -> None:
        self.instruments = instruments

    def parse(self, frame: str, ts_recv: int) -> list[Event]:
        """Parse one message; heartbeats, subscription lists and ``last_match`` return ``[]``."""
        try:
            m = _decoder.decode(frame)
        except msgspec.ValidationError as e:
            raise ParseError(f"unexpected message shape: {e}") from e
        except msgspec.DecodeError as e:
            raise ParseError(f"invalid JSON: {e}") from e
        if m.type == "ticker":
            return self._ticker(m, ts_recv)
        if m.type == "match":
            return self._match(m, ts_recv)
        if m.type in _CONTROL:
            return []
        if m.type == "error":
            raise ParseError(f"error: {m.message} ({m.reason})")
        raise UnknownMessageError(f"unknown message type {m.type!r}")

    def _instrument(self, m: CoinbaseMessage) -> tuple[str, Instrument]:
        if m.product_id is None:
            raise ParseError(f"{m.type} without product_id")
        inst = self.instruments.get(m.product_id)
        if inst is None:
            raise MissingMetadataError(f"no instrument metadata for {m.product_id}")
        return m.product_id, inst

    @staticmethod
    def _ts(m: CoinbaseMessage, ts_recv: int) -> int:
        return (m.time - _EPOCH) // _US * 1000 if m.time is not None else ts_recv

    def _ticker(self, m: CoinbaseMessage, ts_recv: int) -> list[Event]:
        sym, inst = self._instrument(m)
        if not m.best_bid or not m.best_ask:
            return []  # a side of the book is empty
        return [
            Quote(
                venue=VENUE_ID,
                symbol=sym,
                instrument=inst.instrument,
                asset=inst.base,
                ts_event=self._ts(m, ts_recv),
                ts_recv=ts_recv,
                bid=m.best_bid,
                ask=m.best_ask,
                bid_size=m.best_bid_size,
                ask_size=m.best_ask_size,
            )
        ]

    def _match(self, m: CoinbaseMessage, ts_recv: int) -> list[Event]:
        sym, inst = self._instrument(m)
        if m.price is None or m.size is None or m.side not in ("buy", "sell"):
            raise ParseError("match without price, size or side")
        if inst.quote not in USD_QUOTES:
            raise ParseError(f"cannot value a {inst.instrument} trade in USD")
        return [
            Trade(
                venue=VENUE_ID,
                symbol=sym,
                instrument=inst.instrument,
                asset=inst.base,
                ts_event=self._ts(m, ts_recv),
                ts_recv=ts_recv,
                price=m.price,
                size=m.size,
                notional_usd=m.price * m.size,
                side="buy" if m.side == "sell" else "sell",  # side is the maker's
            )
        ]
