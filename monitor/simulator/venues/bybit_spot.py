"""Bybit v5 spot on the simulator: ``/v5/public/spot`` (``orderbook.1``, ``publicTrade``).

Speaks Bybit's ``{"op":"subscribe","args":[...]}`` handshake
(:class:`~monitor.simulator.venues.bybit_streams.BybitStreamsSim`: one reply per request, failing
with ``handler not found`` for topics of other kinds), answers ``{"op":"ping"}``, renders quotes
as level-1 order book snapshots and trades as ``publicTrade`` pushes. REST: the spot instrument
list.
"""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from monitor.instruments import Instrument
from monitor.simulator.base import RestReply, SimSession
from monitor.simulator.venues.bybit_streams import BybitStreamsSim
from streams.events import Event, Quote, Trade
from streams.units import NS_PER_MS

__all__ = ["BybitSpotSim"]

_KINDS = ("orderbook.1.", "publicTrade.")


class BybitSpotSim(BybitStreamsSim):
    """Bybit's public spot endpoint and its spot instrument list."""

    venue = "bybit-spot"
    ws_paths = ("/v5/public/spot",)

    def __init__(self) -> None:
        super().__init__()
        self._seq = 1_783_284_617

    def accept(self, session: SimSession, topics: list[str]) -> tuple[list[str], list[str]]:
        bad = [t for t in topics if not t.startswith(_KINDS)]
        session.subscriptions.update(t for t in topics if t not in bad)
        return bad, []

    def unknown_frame(self) -> str:
        return (
            '{"topic":"kline.1.USDEUSDT","type":"snapshot","ts":1781416439080,'
            '"data":[{"start":1781416380000,"end":1781416439999,"interval":"1"}]}'
        )

    def render(self, event: Event, inst: Instrument) -> list[tuple[str, str]]:
        sym, ts_ms = event.symbol, event.ts_event // NS_PER_MS
        self._seq += 1
        if isinstance(event, Quote):
            data: object = {
                "s": sym,
                "b": [[self.num(event.bid), self.num(event.bid_size or 0.0)]],
                "a": [[self.num(event.ask), self.num(event.ask_size or 0.0)]],
                "u": self._seq,
                "seq": self._seq,
            }
            topic = f"orderbook.1.{sym}"
        elif isinstance(event, Trade):
            data = [
                {
                    "T": ts_ms,
                    "s": sym,
                    "S": "Buy" if event.side == "buy" else "Sell",
                    "v": self.num(event.size),
                    "p": self.num(event.price),
                    "L": "PlusTick",
                    "i": f"sim-{self._seq}",
                    "BT": False,
                }
            ]
            topic = f"publicTrade.{sym}"
        else:
            return []
        push = {"topic": topic, "type": "snapshot", "ts": ts_ms, "data": data, "cts": ts_ms}
        return [(topic, msgspec.json.encode(push).decode())]

    def rest(self, path: str, query: Mapping[str, str]) -> RestReply | None:
        if path != "/v5/market/instruments-info":
            return None
        if query.get("category") != "spot":
            return RestReply(200, {"retCode": 10001, "retMsg": "Illegal category", "result": {}})
        rows = [
            {"symbol": i.symbol, "baseCoin": i.base, "quoteCoin": i.quote, "status": "Trading"}
            for i in self.instruments.values()
        ]
        result = {"category": "spot", "list": rows, "nextPageCursor": ""}
        return RestReply(200, {"retCode": 0, "retMsg": "OK", "result": result, "time": 0})
