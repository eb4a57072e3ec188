"""Bitstamp on the simulator: WebSocket v2 at ``/`` and ``GET /api/v2/trading-pairs-info/``.

Answers ``bts:subscribe`` with ``bts:subscription_succeeded`` and the client ``bts:heartbeat``
with a success status. A Quote renders as a one-level ``order_book_{pair}`` snapshot, a Trade as
a ``live_trades_{pair}`` trade event. :meth:`reconnect_request` is the frame the venue sends
before maintenance (send it with ``ExchangeSimulator.send_raw``).
"""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from monitor.instruments import Instrument
from monitor.simulator.base import RestReply, SimSession, SimVenue
from streams.events import Event, Quote, Trade
from streams.units import NS_PER_SECOND, NS_PER_US

__all__ = ["BitstampSim"]

_PREFIXES = ("order_book_", "live_trades_", "diff_order_book_", "detail_order_book_")


class BitstampSim(SimVenue):
    """Speaks Bitstamp's ``{"event":"bts:subscribe","data":{"channel":...}}`` protocol."""

    venue = "bitstamp"
    ws_paths = ("/",)
    decimals = 8

    def __init__(self) -> None:
        super().__init__()
        self._trade_id = 0

    def on_message(self, session: SimSession, text: str) -> list[str]:
        try:
            req = msgspec.json.decode(text)
        except msgspec.DecodeError:
            return [self._frame("bts:error", "", {"code": None, "message": "Bad request."})]
        if not isinstance(req, dict):
            req = {}
        event = req.get("event")
        if event == "bts:heartbeat":
            session.pings += 1
            return [self._frame("bts:heartbeat", "", {"status": "success"})]
        if event not in ("bts:subscribe", "bts:unsubscribe"):
            return [self._frame("bts:error", "", {"code": None, "message": "Unknown event."})]
        data = req.get("data")
        channel = data.get("channel") if isinstance(data, dict) else None
        if not isinstance(channel, str) or not self._valid(channel):
            return [
                self._frame(
                    "bts:error",
                    str(channel or ""),
                    {"code": None, "message": "Bad subscription string."},
                )
            ]
        if event == "bts:subscribe":
            session.subscriptions.add(channel)
            return [self._frame("bts:subscription_succeeded", channel, {})]
        session.subscriptions.discard(channel)
        return [self._frame("bts:unsubscription_succeeded", channel, {})]

    def _valid(self, channel: str) -> bool:
        return any(
            channel.startswith(p) and channel[len(p) :] in self.instruments for p in _PREFIXES
        )

    @staticmethod
    def _frame(event: str, channel: str, data: object) -> str:
        return msgspec.json.encode({"event": event, "channel": channel, "data": data}).decode()

    def reconnect_request(self) -> str:
        """The frame Bitstamp sends when clients should reconnect."""
        return self._frame("bts:request_reconnect", "", "")

    def unknown_frame(self) -> str:
        return '{"event":"order_created","channel":"live_orders_usdtusd","data":{"id":1}}'

    def render(self, event: Event, inst: Instrument) -> list[tuple[str, str]]:
        us = event.ts_event // NS_PER_US
        num = self.num
        if isinstance(event, Quote):
            channel = f"order_book_{event.symbol}"
            data: dict[str, object] = {
                "timestamp": str(event.ts_event // NS_PER_SECOND),
                "microtimestamp": str(us),
                "bids": [[num(event.bid), num(event.bid_size or 0.0)]],
                "asks": [[num(event.ask), num(event.ask_size or 0.0)]],
            }
            return [(channel, self._frame("data", channel, data))]
        if isinstance(event, Trade):
            self._trade_id += 1
            channel = f"live_trades_{event.symbol}"
            data = {
                "id": self._trade_id,
                "timestamp": str(event.ts_event // NS_PER_SECOND),
                "amount": event.size,
                "amount_str": num(event.size),
                "price": event.price,
                "price_str": num(event.price),
                "type": 0 if event.side == "buy" else 1,
                "microtimestamp": str(us),
                "buy_order_id": 2 * self._trade_id,
                "sell_order_id": 2 * self._trade_id + 1,
            }
            return [(channel, self._frame("trade", channel, data))]
        return []

    def rest(self, path: str, query: Mapping[str, str]) -> RestReply | None:
        if path != "/api/v2/trading-pairs-info/":
            return None
        rows = [
            {
                "name": f"{i.base}/{i.quote}",
                "url_symbol": i.symbol,
                "base_decimals": 5,
                "counter_decimals": 5,
                "instant_order_counter_decimals": 5,
                "minimum_order": "10.00000 USD",
                "trading": "Enabled",
                "instant_and_market_orders": "Enabled",
                "description": f"{i.base} / {i.quote}",
            }
            for i in self.instruments.values()
        ]
        return RestReply(200, rows)
