"""Parse Kraken Spot WebSocket v2 frames into normalized events.

``ticker`` (subscribed with ``event_trigger: "bbo"``) gives Quote events; ``trade`` gives Trade
events (``side`` is the taker side). Quantities are base units. Ticker messages without a
``timestamp`` (older v2 servers) take ``ts_event = ts_recv``.
"""

from __future__ import annotations

from typing import Any

import msgspec

from monitor.instruments import Instrument
from monitor.venues.base import ParseError
from monitor.venues.kraken.schemas import KrakenFrame, KrakenTicker, KrakenTrade
from monitor.venues.parsing import Route, VenueParser, decode, dispatch, to_ns
from streams.events import Event

__all__ = ["VENUE_ID", "KrakenParser"]

VENUE_ID = "kraken"

_frame_decoder = msgspec.json.Decoder(KrakenFrame, strict=False)
_ticker_decoder = msgspec.json.Decoder(list[KrakenTicker], strict=False)
_trade_decoder = msgspec.json.Decoder(list[KrakenTrade], strict=False)


class KrakenParser(VenueParser):
    """Stateless parser of Kraken v2 public frames (symbols like ``USDT/USD``)."""

    venue = VENUE_ID

    def parse(self, frame: str, ts_recv: int) -> list[Event]:
        """Parse a channel message; acks, pongs, heartbeats and status return ``[]``."""
        msg = decode(_frame_decoder, frame)
        if msg.channel is not None:
            return self._channel(msg.channel, msg.data, ts_recv)
        if msg.method is not None:
            if msg.success is False:
                raise ParseError(f"{msg.method} failed: {msg.error}")
            return []  # subscribe/unsubscribe acks, pong
        raise ParseError("neither a channel message nor a method reply")

    def _channel(self, channel: str, data: msgspec.Raw, ts_recv: int) -> list[Event]:
        if channel in ("heartbeat", "status"):
            return []
        return dispatch(_ROUTES, self, channel, channel, data, ts_recv)

    def _tickers(self, rows: list[KrakenTicker], ts_recv: int) -> list[Event]:
        def quote(r: KrakenTicker, inst: Instrument) -> Event:
            ts_event = to_ns(r.timestamp) if r.timestamp is not None else ts_recv
            return self.quote(inst, ts_event, ts_recv, r.bid, r.ask, r.bid_qty, r.ask_qty)

        return self.each_row(rows, lambda r: r.symbol, quote)

    def _trades(self, rows: list[KrakenTrade], ts_recv: int) -> list[Event]:
        def trade(r: KrakenTrade, inst: Instrument) -> Event:
            return self.spot_trade(inst, to_ns(r.timestamp), ts_recv, r.price, r.qty, r.side)

        return self.each_row(rows, lambda r: r.symbol, trade)


#: the payload of each data channel (``heartbeat`` and ``status`` carry none)
_ROUTES: dict[str, Route[KrakenParser, Any]] = {
    "ticker": Route(_ticker_decoder, KrakenParser._tickers, "ticker payload"),
    "trade": Route(_trade_decoder, KrakenParser._trades, "trade payload"),
}
