"""Binance USD-M futures on the simulator: combined streams on ``/market`` and ``/public``.

Renders trades as ``aggTrade``, liquidations as ``forceOrder`` (per symbol and on
``!forceOrder@arr``), funding as ``markPriceUpdate`` (per symbol and on ``!markPrice@arr@1s``) and
quotes as ``bookTicker``. Open interest is not streamed by the venue: ``/fapi/v1/openInterest``
answers the latest, and ``/fapi/v1/klines`` and ``/futures/data/openInterestHist`` serve the hourly
history of the published events.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from monitor.instruments import Instrument
from monitor.simulator.base import HourlyHistory, HourRow, RestReply, SimSession
from monitor.simulator.venues.binance_streams import BinanceStreamsSim
from streams.events import Event, Funding, Liquidation, OpenInterest, Quote, Trade
from streams.units import MS_PER_HOUR, NS_PER_MS

__all__ = ["BinanceUsdmSim"]

_PUBLIC_SUFFIXES = ("@bookTicker", "@depth", "@trade")


class BinanceUsdmSim(BinanceStreamsSim):
    """Binance USD-M's market streams, open interest, klines and open-interest history.

    Streams are served only on their category path (``/market`` or ``/public``) as on the live
    venue since 2026. The retired ``/stream`` path reproduces its failure mode: it accepts
    subscriptions and then sends nothing.
    """

    venue = "binance-usdm"
    ws_paths = ("/market/stream", "/public/stream", "/market/ws", "/public/ws", "/stream")
    serves_history = True  # the klines and the open-interest history

    def accept(self, session: SimSession, names: Iterable[object]) -> None:
        if session.path == "/stream":
            return  # legacy path: acknowledged, never served
        public = session.path.startswith("/public")
        for name in names:
            if isinstance(name, str) and name.endswith(_PUBLIC_SUFFIXES) == public:
                session.subscriptions.add(name)

    def render(self, event: Event, inst: Instrument) -> list[tuple[str, str]]:
        sym = event.symbol
        low = sym.lower()
        e_ms = event.ts_event // NS_PER_MS
        num = self.num
        wrap = self.wrap
        m = inst.multiplier  # a bundled symbol (1000PEPEUSDT): prices per bundle, sizes in bundles
        if isinstance(event, Trade):
            data = {
                "e": "aggTrade",
                "E": e_ms,
                "a": e_ms,
                "s": sym,
                "p": num(event.price * m),
                "q": num(event.size / m),
                "nq": num(event.size / m),
                "f": e_ms,
                "l": e_ms,
                "T": e_ms,
                "m": event.side == "sell",
            }
            return [wrap(f"{low}@aggTrade", data)]
        if isinstance(event, Liquidation):
            o = {
                "s": sym,
                "S": "SELL" if event.side == "long" else "BUY",
                "o": "LIMIT",
                "f": "IOC",
                "q": num(event.size / m),
                "p": num(event.price * m),
                "ap": num(event.price * m),
                "X": "FILLED",
                "l": num(event.size / m),
                "z": num(event.size / m),
                "T": e_ms,
            }
            data = {"e": "forceOrder", "E": e_ms, "o": o}
            return [wrap(f"{low}@forceOrder", data), wrap("!forceOrder@arr", data)]
        if isinstance(event, Funding):
            nxt = (event.next_funding_ts or 0) // NS_PER_MS
            data = {
                "e": "markPriceUpdate",
                "E": e_ms,
                "s": sym,
                "p": num(event.mark_price * m),
                "ap": num(event.mark_price * m),
                "P": num(event.mark_price * m),
                "i": num(event.mark_price * m),
                "r": f"{event.rate:.8f}",
                "T": nxt,
            }
            return [wrap(f"{low}@markPrice@1s", data), wrap("!markPrice@arr@1s", [data])]
        if isinstance(event, Quote):
            data = {
                "e": "bookTicker",
                "u": e_ms,
                "s": sym,
                "b": num(event.bid * m),
                "B": num((event.bid_size or 0.0) / m),
                "a": num(event.ask * m),
                "A": num((event.ask_size or 0.0) / m),
                "T": e_ms,
                "E": e_ms,
            }
            return [wrap(f"{low}@bookTicker", data)]
        return []  # open interest is served over REST

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
                {
                    "openInterest": self.num(ev.size),
                    "symbol": sym,
                    "time": self.clock_ns // NS_PER_MS,
                },
            )
        if path == "/fapi/v1/klines":
            return RestReply(
                200,
                [
                    [
                        r.hour_ms,
                        self.num(r.price),
                        self.num(r.price),
                        self.num(r.price),
                        self.num(r.price),
                        "0",
                        r.hour_ms + MS_PER_HOUR - 1,
                        "0",
                        0,
                        "0",
                        "0",
                        "0",
                    ]
                    for r in _history(self.hourly, query, 500)
                    if r.price > 0
                ],
            )
        if path == "/futures/data/openInterestHist":
            return RestReply(
                200,
                [
                    {
                        "symbol": query.get("symbol"),
                        "sumOpenInterest": self.num(r.oi_base),
                        "sumOpenInterestValue": self.num(r.oi_usd),
                        "timestamp": r.hour_ms,
                    }
                    for r in _history(self.hourly, query, 30)
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
                    "baseAsset": i.symbol[: -len(i.quote)] if i.multiplier != 1 else i.base,
                    "quoteAsset": i.quote,
                }
                for i in self.instruments.values()
            ]
            return RestReply(200, {"timezone": "UTC", "symbols": syms})
        if path == "/fapi/v1/fundingInfo":  # only the symbols not on the 8 h default
            return RestReply(
                200,
                [
                    {
                        "symbol": i.symbol,
                        "adjustedFundingRateCap": "0.02000000",
                        "adjustedFundingRateFloor": "-0.02000000",
                        "fundingIntervalHours": int(i.funding_interval_h),
                        "disclaimer": False,
                    }
                    for i in self.instruments.values()
                    if i.funding_interval_h not in (0.0, 8.0)
                ],
            )
        return None


def _history(hourly: HourlyHistory, query: Mapping[str, str], limit: int) -> list[HourRow]:
    """The hourly rows a history request asks for: ``symbol``, ``startTime``/``endTime`` (Unix
    ms, open when absent) and ``limit`` (``limit`` when absent)."""
    start, end = query.get("startTime"), query.get("endTime")
    return hourly.rows(
        query.get("symbol", ""),
        int(start) if start else None,
        int(end) if end else None,
        limit=int(query.get("limit", limit)),
    )
