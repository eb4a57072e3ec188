"""Parse Gate API v4 spot frames (``wss://api.gateio.ws/ws/v4/``) into normalized events.

``spot.book_ticker`` gives Quote events (best bid and ask, sizes in base units, the book's
update time ``t`` as event time); ``spot.trades`` gives Trade events (``side`` = taker side,
``create_time_ms`` as event time). Subscribe replies and ``spot.pong`` return ``[]``; a reply
carrying ``error`` (an unknown pair, a malformed request) raises, so it is counted. Instruments
keep their quote (``FDUSD-USDT-SPOT``): the peg processor converts them through USDT's own USD
price; ``notional_usd`` takes USDT at par.
"""

from __future__ import annotations

from typing import Any

import msgspec

from monitor.venues.base import ParseError, UnknownMessageError
from monitor.venues.gate_spot.schemas import GateBookTicker, GateEnvelope, GateTrade
from monitor.venues.parsing import Route, VenueParser, decode, dispatch
from streams.events import Event
from streams.units import NS_PER_MS, NS_PER_SECOND

__all__ = ["VENUE_ID", "GateSpotParser"]

VENUE_ID = "gate-spot"

_envelope_decoder = msgspec.json.Decoder(GateEnvelope, strict=False)
_REPLIES = frozenset({"subscribe", "unsubscribe"})


class GateSpotParser(VenueParser):
    """Stateless parser of Gate spot pairs (currency pairs like ``FDUSD_USDT``)."""

    venue = VENUE_ID

    def parse(self, frame: str, ts_recv: int) -> list[Event]:
        """Parse one frame; replies and pongs return ``[]``."""
        env = decode(_envelope_decoder, frame)
        if env.error is not None:
            raise ParseError(
                f"{env.channel} {env.event or 'request'} failed: "
                f"{env.error.code} {env.error.message}"
            )
        if env.event != "update":
            if env.event in _REPLIES or env.channel == "spot.pong":
                return []
            raise UnknownMessageError(f"unknown event {env.event!r} on {env.channel!r}")
        return dispatch(_ROUTES, self, env.channel, env.channel, env.result, ts_recv)

    def _book_ticker(self, book: GateBookTicker, ts_recv: int) -> list[Event]:
        inst = self.instrument(book.s)
        return [self.quote(inst, book.t * NS_PER_MS, ts_recv, book.b, book.a, book.B, book.A)]

    def _trade(self, t: GateTrade, ts_recv: int) -> list[Event]:
        inst = self.instrument(t.currency_pair)
        ts = _ms_to_ns(t.create_time_ms) or t.create_time * NS_PER_SECOND
        return [self.spot_trade(inst, ts, ts_recv, t.price, t.amount, t.side)]


def _ms_to_ns(ms: str | int) -> int:
    """Exact ns of Gate's ms time, a decimal string (``"1606292218213.4578"``; a float would
    lose the sub-ms digits) or an integer; 0 when absent."""
    if isinstance(ms, int):
        return ms * NS_PER_MS
    if not ms:
        return 0
    whole, _, frac = ms.partition(".")
    if not whole.isdigit() or not (frac.isdigit() or not frac):
        raise ParseError(f"bad create_time_ms {ms!r}")
    return int(whole) * NS_PER_MS + int((frac + "000000")[:6])


_ROUTES: dict[str, Route[GateSpotParser, Any]] = {
    "spot.book_ticker": Route(
        msgspec.json.Decoder(GateBookTicker, strict=False),
        GateSpotParser._book_ticker,
        "book_ticker result",
    ),
    "spot.trades": Route(
        msgspec.json.Decoder(GateTrade, strict=False), GateSpotParser._trade, "trades result"
    ),
}
