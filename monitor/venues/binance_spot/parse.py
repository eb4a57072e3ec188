"""Parse Binance Spot combined-stream frames into normalized events.

``@bookTicker`` gives Quote events; the spot payload has no event time, so
``ts_event = ts_recv``. ``@aggTrade`` gives Trade events (``m`` true = the buyer was the maker, so
the taker sold). Instruments keep their quote currency (``USDC-USDT-SPOT``) so the peg processor
can chain them through USDT/USD; ``notional_usd`` takes USDT at par.
"""

from __future__ import annotations

import msgspec

from monitor.venues.base import ParseError, UnknownMessageError
from monitor.venues.binance_spot.schemas import (
    BinanceSpotAggTrade,
    BinanceSpotBookTicker,
    BinanceSpotFrame,
)
from monitor.venues.binance_usdm.parse import is_reply
from monitor.venues.parsing import VenueParser, decode
from streams.events import Event, Quote, Trade
from streams.units import NS_PER_MS

__all__ = ["VENUE_ID", "BinanceSpotParser"]

VENUE_ID = "binance-spot"

_frame_decoder = msgspec.json.Decoder(BinanceSpotFrame, strict=False)
_book_decoder = msgspec.json.Decoder(BinanceSpotBookTicker, strict=False)
_agg_decoder = msgspec.json.Decoder(BinanceSpotAggTrade, strict=False)


class BinanceSpotParser(VenueParser):
    """Stateless parser of Binance Spot streams (symbols like ``USDCUSDT``)."""

    venue = VENUE_ID

    def parse(self, frame: str, ts_recv: int) -> list[Event]:
        """Parse a combined-stream frame (or a raw-stream payload); replies return ``[]``."""
        msg = decode(_frame_decoder, frame)
        try:
            if msg.stream is not None:
                if not msg.data:
                    raise ParseError(f"stream {msg.stream} without data")
                kind = msg.stream.rpartition("@")[2]
                if kind == "bookTicker":
                    return [self._quote(_book_decoder.decode(msg.data), ts_recv)]
                if kind == "aggTrade":
                    return [self._trade(_agg_decoder.decode(msg.data), ts_recv)]
                raise UnknownMessageError(f"unknown stream {msg.stream!r}")
            if is_reply(msg.error, msg.id):
                return []  # SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS replies
            if msg.e == "aggTrade":  # raw /ws stream
                return [self._trade(_agg_decoder.decode(frame), ts_recv)]
            if msg.e is not None:
                raise UnknownMessageError(f"unknown event type {msg.e!r}")
            if msg.u is not None:
                return [self._quote(_book_decoder.decode(frame), ts_recv)]
        except msgspec.ValidationError as e:
            raise ParseError(f"bad payload: {e}") from e
        raise ParseError("unexpected message shape")

    def _quote(self, p: BinanceSpotBookTicker, ts_recv: int) -> Quote:
        inst = self.instrument(p.s)
        # spot bookTicker carries no time
        return self.quote(inst, ts_recv, ts_recv, p.b, p.a, p.B, p.A)

    def _trade(self, p: BinanceSpotAggTrade, ts_recv: int) -> Trade:
        inst = self.instrument(p.s)
        return self.spot_trade(inst, p.T * NS_PER_MS, ts_recv, p.p, p.q, "sell" if p.m else "buy")
