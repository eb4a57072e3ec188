"""Gate API v4 spot on the simulator: ``/ws/v4/`` (``spot.book_ticker``, ``spot.trades``).

Speaks Gate's request envelope (``{"time","channel","event":"subscribe","payload":[pairs]}``,
one reply per request, an ``error`` for an unknown channel or pair or a request without its
``time``), answers ``spot.ping`` with ``spot.pong``, renders quotes as ``spot.book_ticker``
updates and trades as ``spot.trades`` updates. REST: the currency-pair list.
"""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from monitor.instruments import Instrument
from monitor.simulator.base import RestReply, SimSession, SimVenue, json_object
from streams.events import Event, Quote, Trade
from streams.units import NS_PER_MS, NS_PER_SECOND

__all__ = ["GateSpotSim"]

_CHANNELS = ("spot.book_ticker", "spot.trades")


def _frame(channel: str, event: str, time_s: int, **rest: object) -> str:
    body = {"time": time_s, "time_ms": time_s * 1000, "channel": channel, "event": event, **rest}
    return msgspec.json.encode(body).decode()


class GateSpotSim(SimVenue):
    """Gate's public spot websocket and its currency-pair list."""

    venue = "gate-spot"
    ws_paths = ("/ws/v4/",)

    def __init__(self) -> None:
        super().__init__()
        self._ids = 309_143_071
        self.requests_without_time = 0

    def on_message(self, session: SimSession, text: str) -> list[str]:
        req = json_object(text)
        if req is None:
            return [_frame("", "", 0, error={"code": 1, "message": "invalid argument"})]
        channel, event = str(req.get("channel", "")), str(req.get("event", ""))
        time_s = req.get("time")
        if not isinstance(time_s, int) or time_s <= 0:
            self.requests_without_time += 1
            err = {"code": 1, "message": "invalid argument: time"}
            return [_frame(channel, event, 0, error=err, result=None)]
        if channel == "spot.ping":
            session.pings += 1
            return [_frame("spot.pong", "", time_s, result=None)]
        pairs = [str(p) for p in req.get("payload") or []]
        if channel not in _CHANNELS or event not in ("subscribe", "unsubscribe"):
            err = {"code": 2, "message": f"unknown channel {channel}"}
            return [_frame(channel, event, time_s, error=err, result=None)]
        unknown = [p for p in pairs if p not in self.instruments]
        if unknown:
            err = {"code": 2, "message": f"unknown currency pair {unknown[0]}"}
            return [_frame(channel, event, time_s, error=err, result=None)]
        topics = {f"{channel}:{p}" for p in pairs}
        if event == "subscribe":
            session.subscriptions.update(topics)
        else:
            session.subscriptions.difference_update(topics)
        return [_frame(channel, event, time_s, result={"status": "success"})]

    def unknown_frame(self) -> str:
        return _frame(
            "spot.candlesticks",
            "update",
            1_781_416_439,
            result={
                "t": "1781416380",
                "v": "0",
                "c": "1",
                "h": "1",
                "l": "1",
                "o": "1",
                "n": "1m_FDUSD_USDT",
            },
        )

    def render(self, event: Event, inst: Instrument) -> list[tuple[str, str]]:
        sym, ts_ms = event.symbol, event.ts_event // NS_PER_MS
        self._ids += 1
        if isinstance(event, Quote):
            channel = "spot.book_ticker"
            result: dict[str, object] = {
                "t": ts_ms,
                "u": self._ids,
                "s": sym,
                "b": self.num(event.bid),
                "B": self.num(event.bid_size or 0.0),
                "a": self.num(event.ask),
                "A": self.num(event.ask_size or 0.0),
            }
        elif isinstance(event, Trade):
            channel = "spot.trades"
            result = {
                "id": self._ids,
                "create_time": event.ts_event // NS_PER_SECOND,
                "create_time_ms": f"{event.ts_event / NS_PER_MS:.4f}",
                "side": event.side,
                "currency_pair": sym,
                "amount": self.num(event.size),
                "price": self.num(event.price),
                "range": f"{self._ids}-{self._ids}",
            }
        else:
            return []
        frame = _frame(channel, "update", event.ts_event // NS_PER_SECOND, result=result)
        return [(f"{channel}:{sym}", frame)]

    def rest(self, path: str, query: Mapping[str, str]) -> RestReply | None:
        if path != "/api/v4/spot/currency_pairs":
            return None
        rows = [
            {
                "id": i.symbol,
                "base": i.base,
                "quote": i.quote,
                "fee": "0.2",
                "trade_status": "tradable",
                "precision": 4,
                "amount_precision": 2,
            }
            for i in self.instruments.values()
        ]
        return RestReply(200, rows)
