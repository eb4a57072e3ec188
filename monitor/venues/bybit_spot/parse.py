"""Parse Bybit v5 spot frames (``/v5/public/spot``) into normalized events.

``orderbook.1.{symbol}`` gives Quote events (best bid and ask, sizes in base units, ``ts`` of the
push as event time); ``publicTrade.{symbol}`` gives Trade events (``S`` = taker side). Instruments
keep their quote (``USDE-USDT-SPOT``) so the peg processor converts them through USDT's own USD
price; ``notional_usd`` takes USDT at par.
"""

from __future__ import annotations

import msgspec

from monitor.venues.base import UnknownMessageError
from monitor.venues.bybit_linear.parse import op_reply
from monitor.venues.bybit_linear.schemas import BybitEnvelope, BybitTrade
from monitor.venues.bybit_spot.schemas import BybitOrderbook
from monitor.venues.parsing import VenueParser, decode
from streams.events import Event, TakerSide
from streams.units import NS_PER_MS

__all__ = ["VENUE_ID", "BybitSpotParser"]

VENUE_ID = "bybit-spot"

_envelope_decoder = msgspec.json.Decoder(BybitEnvelope, strict=False)
_trades_decoder = msgspec.json.Decoder(list[BybitTrade], strict=False)
_book_decoder = msgspec.json.Decoder(BybitOrderbook, strict=False)


class BybitSpotParser(VenueParser):
    """Stateless parser of Bybit spot pairs (symbols like ``USDEUSDT``)."""

    venue = VENUE_ID

    def parse(self, frame: str, ts_recv: int) -> list[Event]:
        """Parse one frame; subscribe acknowledgements and pongs return ``[]``."""
        env = decode(_envelope_decoder, frame)
        if not env.topic:
            return op_reply(env)
        kind = env.topic.partition(".")[0]
        if kind == "orderbook":
            book = decode(_book_decoder, env.data)
            if not book.b or not book.a:
                return []  # one side of the book is empty
            inst = self.instrument(book.s)
            return [self.book_quote(inst, env.ts * NS_PER_MS, ts_recv, book.b, book.a)]
        if kind == "publicTrade":
            out: list[Event] = []
            for t in decode(_trades_decoder, env.data):
                inst = self.instrument(t.s)
                side: TakerSide = "buy" if t.S == "Buy" else "sell"
                out.append(self.spot_trade(inst, t.T * NS_PER_MS, ts_recv, t.p, t.v, side))
            return out
        raise UnknownMessageError(f"unknown topic {env.topic!r}")
