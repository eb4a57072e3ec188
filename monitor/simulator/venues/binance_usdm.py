"""Binance USD-M futures on the simulator: combined streams on ``/market`` and ``/public``."""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from monitor.simulator.base import HourlyHistory, RestReply, SimSession, SimVenue
from monitor.venues import packaged_instruments
from streams.events import Event, Funding, Liquidation, OpenInterest, Quote, Trade

__all__ = ["BinanceUsdmSim"]

_MS = 1_000_000
_PUBLIC_SUFFIXES = ("@bookTicker", "@depth", "@trade")


def _num(x: float) -> str:
    return f"{x:.8f}".rstrip("0").rstrip(".") if x == x else "0"


class BinanceUsdmSim(SimVenue):
    """Speaks Binance's SUBSCRIBE handshake and ``{"stream":..,"data":..}`` envelope.

    Streams are served only on their category path (``/market`` or ``/public``) as on the live
    venue since 2026. ``legacy_silent`` reproduces the retired-URL failure mode: ``/stream``
    accepts subscriptions and then sends nothing.
    """

    venue = "binance-usdm"
    ws_paths = ("/market/stream", "/public/stream", "/market/ws", "/public/ws", "/stream")

    def __init__(self) -> None:
        super().__init__()
        self.hourly = HourlyHistory()  # what the klines and OI history serve

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
            public = session.path.startswith("/public")
            for name in params:
                if session.path == "/stream":
                    continue  # legacy path: acknowledged, never served
                if name.endswith(_PUBLIC_SUFFIXES) == public:
                    session.subscriptions.add(name)
            return [msgspec.json.encode({"result": None, "id": rid}).decode()]
        if method == "UNSUBSCRIBE":
            session.subscriptions.difference_update(params)
            return [msgspec.json.encode({"result": None, "id": rid}).decode()]
        if method == "LIST_SUBSCRIPTIONS":
            subs = sorted(session.subscriptions)
            return [msgspec.json.encode({"result": subs, "id": rid}).decode()]
        return [
            msgspec.json.encode(
                {"error": {"code": 2, "msg": "Invalid request"}, "id": rid}
            ).decode()
        ]

    def encode(self, event: Event) -> list[tuple[str, str]]:
        if event.venue != self.venue:
            return []
        self.remember(event)
        self.hourly.record(event)
        sym = event.symbol
        low = sym.lower()
        e_ms = event.ts_event // _MS
        if isinstance(event, Trade):
            data = {
                "e": "aggTrade",
                "E": e_ms,
                "a": e_ms,
                "s": sym,
                "p": _num(event.price),
                "q": _num(event.size),
                "nq": _num(event.size),
                "f": e_ms,
                "l": e_ms,
                "T": e_ms,
                "m": event.side == "sell",
            }
            return [self._wrap(f"{low}@aggTrade", data)]
        if isinstance(event, Liquidation):
            o = {
                "s": sym,
                "S": "SELL" if event.side == "long" else "BUY",
                "o": "LIMIT",
                "f": "IOC",
                "q": _num(event.size),
                "p": _num(event.price),
                "ap": _num(event.price),
                "X": "FILLED",
                "l": _num(event.size),
                "z": _num(event.size),
                "T": e_ms,
            }
            data = {"e": "forceOrder", "E": e_ms, "o": o}
            return [self._wrap(f"{low}@forceOrder", data), self._wrap("!forceOrder@arr", data)]
        if isinstance(event, Funding):
            nxt = (event.next_funding_ts or 0) // _MS
            data = {
                "e": "markPriceUpdate",
                "E": e_ms,
                "s": sym,
                "p": _num(event.mark_price),
                "ap": _num(event.mark_price),
                "P": _num(event.mark_price),
                "i": _num(event.mark_price),
                "r": f"{event.rate:.8f}",
                "T": nxt,
            }
            return [
                self._wrap(f"{low}@markPrice@1s", data),
                self._wrap("!markPrice@arr@1s", [data]),
            ]
        if isinstance(event, Quote):
            data = {
                "e": "bookTicker",
                "u": e_ms,
                "s": sym,
                "b": _num(event.bid),
                "B": _num(event.bid_size or 0.0),
                "a": _num(event.ask),
                "A": _num(event.ask_size or 0.0),
                "T": e_ms,
                "E": e_ms,
            }
            return [self._wrap(f"{low}@bookTicker", data)]
        return []  # open interest is served over REST

    @staticmethod
    def _wrap(stream: str, data: object) -> tuple[str, str]:
        return stream, msgspec.json.encode({"stream": stream, "data": data}).decode()

    def unknown_frame(self) -> str:
        return '{"stream":"btcusdt@aggTrade","data":{"e":"rpiTrade","E":1781416439080}}'

    def rest(self, path: str, query: Mapping[str, str]) -> RestReply | None:
        if path == "/fapi/v1/openInterest":
            sym = query.get("symbol", "")
            ev = self.latest.get(("OpenInterest", sym))
            if not isinstance(ev, OpenInterest):
                return RestReply(400, {"code": -1121, "msg": "Invalid symbol."})
            return RestReply(
                # "time" is the venue's time of the answer, not of the last change
                200,
                {"openInterest": _num(ev.size), "symbol": sym, "time": self.clock_ns // _MS},
            )
        if path == "/fapi/v1/klines":
            rows = self.hourly.rows(query.get("symbol", ""), limit=int(query.get("limit", "500")))
            return RestReply(
                200,
                [
                    [
                        r.hour_ms,
                        _num(r.price),
                        _num(r.price),
                        _num(r.price),
                        _num(r.price),
                        "0",
                        r.hour_ms + 3_599_999,
                        "0",
                        0,
                        "0",
                        "0",
                        "0",
                    ]
                    for r in rows
                    if r.price > 0
                ],
            )
        if path == "/futures/data/openInterestHist":
            rows = self.hourly.rows(query.get("symbol", ""), limit=int(query.get("limit", "30")))
            return RestReply(
                200,
                [
                    {
                        "symbol": query.get("symbol"),
                        "sumOpenInterest": _num(r.oi_base),
                        "sumOpenInterestValue": _num(r.oi_usd),
                        "timestamp": r.hour_ms,
                    }
                    for r in rows
                    if r.oi_usd > 0
                ],
            )
        if path == "/fapi/v1/exchangeInfo":
            syms = [
                {
                    "symbol": i.symbol,
                    "pair": i.symbol,
                    "contractType": "PERPETUAL",
                    "status": "TRADING",
                    "baseAsset": i.base,
                    "quoteAsset": i.quote,
                }
                for i in packaged_instruments(self.venue)
            ]
            return RestReply(200, {"timezone": "UTC", "symbols": syms})
        return None
