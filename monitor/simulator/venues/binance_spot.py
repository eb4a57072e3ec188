"""Binance Spot on the simulator: combined streams on ``/stream`` and ``/api/v3/exchangeInfo``.

The spot ``bookTicker`` payload is rendered without event type or time, as the venue sends it.
"""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from monitor.simulator.base import RestReply, SimSession, SimVenue
from monitor.venues import packaged_instruments
from streams.events import Event, Quote, Trade

__all__ = ["BinanceSpotSim"]

_MS = 1_000_000


def _num(x: float) -> str:
    return f"{x:.8f}".rstrip("0").rstrip(".") if x == x else "0"


class BinanceSpotSim(SimVenue):
    """Speaks Binance's SUBSCRIBE handshake and ``{"stream":..,"data":..}`` envelope."""

    venue = "binance-spot"
    ws_paths = ("/stream",)

    def __init__(self) -> None:
        super().__init__()
        self.symbols = {i.symbol: i for i in packaged_instruments(self.venue)}
        self._update_id = 0
        self._agg_id = 0

    def on_message(self, session: SimSession, text: str) -> list[str]:
        try:
            req = msgspec.json.decode(text)
        except msgspec.DecodeError:
            return ['{"error":{"code":3,"msg":"Invalid JSON"},"id":null}']
        if not isinstance(req, dict) or "method" not in req:
            return ['{"error":{"code":2,"msg":"Invalid request"},"id":null}']
        rid = req.get("id")
        method = req["method"]
        params = req.get("params") or []
        if method == "SUBSCRIBE":
            session.subscriptions.update(p for p in params if isinstance(p, str))
            return [msgspec.json.encode({"result": None, "id": rid}).decode()]
        if method == "UNSUBSCRIBE":
            session.subscriptions.difference_update(params)
            return [msgspec.json.encode({"result": None, "id": rid}).decode()]
        if method == "LIST_SUBSCRIPTIONS":
            return [
                msgspec.json.encode({"result": sorted(session.subscriptions), "id": rid}).decode()
            ]
        return [
            msgspec.json.encode(
                {"error": {"code": 2, "msg": "Invalid request"}, "id": rid}
            ).decode()
        ]

    def unknown_frame(self) -> str:
        return '{"stream":"usdcusdt@avgPrice","data":{"e":"avgPrice","E":1781416439080}}'

    def encode(self, event: Event) -> list[tuple[str, str]]:
        if event.venue != self.venue or event.symbol not in self.symbols:
            return []
        self.remember(event)
        low = event.symbol.lower()
        if isinstance(event, Quote):
            self._update_id += 1
            data: dict[str, object] = {
                "u": self._update_id,
                "s": event.symbol,
                "b": _num(event.bid),
                "B": _num(event.bid_size or 0.0),
                "a": _num(event.ask),
                "A": _num(event.ask_size or 0.0),
            }
            return [self._wrap(f"{low}@bookTicker", data)]
        if isinstance(event, Trade):
            self._agg_id += 1
            ms = event.ts_event // _MS
            data = {
                "e": "aggTrade",
                "E": ms,
                "s": event.symbol,
                "a": self._agg_id,
                "p": _num(event.price),
                "q": _num(event.size),
                "f": self._agg_id,
                "l": self._agg_id,
                "T": ms,
                "m": event.side == "sell",
                "M": True,
            }
            return [self._wrap(f"{low}@aggTrade", data)]
        return []

    @staticmethod
    def _wrap(stream: str, data: object) -> tuple[str, str]:
        return stream, msgspec.json.encode({"stream": stream, "data": data}).decode()

    def rest(self, path: str, query: Mapping[str, str]) -> RestReply | None:
        if path != "/api/v3/exchangeInfo":
            return None
        syms = [
            {
                "symbol": i.symbol,
                "status": "TRADING",
                "baseAsset": i.base,
                "quoteAsset": i.quote,
                "isSpotTradingAllowed": True,
            }
            for i in self.symbols.values()
        ]
        return RestReply(200, {"timezone": "UTC", "serverTime": 0, "symbols": syms})
