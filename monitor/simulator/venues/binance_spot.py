"""Binance Spot on the simulator: combined streams on ``/stream`` and ``/api/v3/exchangeInfo``.

The spot ``bookTicker`` payload is rendered without event type or time, as the venue sends it.
"""

from __future__ import annotations

from collections.abc import Mapping

from monitor.instruments import Instrument
from monitor.simulator.base import RestReply
from monitor.simulator.venues.binance_streams import BinanceStreamsSim
from streams.events import Event, Quote, Trade
from streams.units import NS_PER_MS

__all__ = ["BinanceSpotSim"]


class BinanceSpotSim(BinanceStreamsSim):
    """Binance Spot's ``bookTicker`` and ``aggTrade`` streams and its exchange info."""

    venue = "binance-spot"
    ws_paths = ("/stream",)

    def __init__(self) -> None:
        super().__init__()
        self._update_id = 0
        self._agg_id = 0

    def unknown_frame(self) -> str:
        return '{"stream":"usdcusdt@avgPrice","data":{"e":"avgPrice","E":1781416439080}}'

    def render(self, event: Event, inst: Instrument) -> list[tuple[str, str]]:
        low = event.symbol.lower()
        num = self.num
        if isinstance(event, Quote):
            self._update_id += 1
            data: dict[str, object] = {
                "u": self._update_id,
                "s": event.symbol,
                "b": num(event.bid),
                "B": num(event.bid_size or 0.0),
                "a": num(event.ask),
                "A": num(event.ask_size or 0.0),
            }
            return [self.wrap(f"{low}@bookTicker", data)]
        if isinstance(event, Trade):
            self._agg_id += 1
            ms = event.ts_event // NS_PER_MS
            data = {
                "e": "aggTrade",
                "E": ms,
                "s": event.symbol,
                "a": self._agg_id,
                "p": num(event.price),
                "q": num(event.size),
                "f": self._agg_id,
                "l": self._agg_id,
                "T": ms,
                "m": event.side == "sell",
                "M": True,
            }
            return [self.wrap(f"{low}@aggTrade", data)]
        return []

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
            for i in self.instruments.values()
        ]
        return RestReply(200, {"timezone": "UTC", "serverTime": 0, "symbols": syms})
