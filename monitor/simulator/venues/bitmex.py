"""BitMEX on the simulator: the ``/realtime`` table protocol and ``/api/v1/instrument/active``.

Subscribing to ``table:SYMBOL`` answers the ack, then a ``partial`` with the current rows; events
then arrive as ``insert`` (trades, liquidation orders, quotes) and ``update`` (instrument) rows. A
Liquidation event is an inserted liquidation order, deleted right after (filled). The text
``ping`` is answered with ``pong``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime

import msgspec

from monitor.instruments import Instrument
from monitor.simulator.base import RestReply, SimSession, SimVenue
from streams.events import Event, Funding, Liquidation, OpenInterest, Quote, Trade
from streams.units import NS_PER_US

__all__ = ["BitmexSim"]

_TABLES = ("trade", "liquidation", "instrument", "quote")
_KEYS = {"trade": [], "liquidation": ["orderID"], "instrument": ["symbol"], "quote": []}
_ROOTS = {"BTC": "XBT"}


def _iso(ns: int) -> str:
    dt = datetime.fromtimestamp(ns // NS_PER_US / 1e6, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def _interval(hours: float) -> str:
    h = int(hours)
    return f"2000-01-01T{h:02d}:00:00.000Z" if h < 24 else "2000-01-02T00:00:00.000Z"


class BitmexSim(SimVenue):
    """Speaks BitMEX's ``{"op":"subscribe","args":[...]}`` and table messages."""

    venue = "bitmex"
    ws_paths = ("/realtime",)

    def __init__(self) -> None:
        super().__init__()
        self._rows: dict[str, dict[str, object]] = {
            s: self._static_row(i) for s, i in self.instruments.items()
        }
        self._last_trade: dict[str, dict[str, object]] = {}
        self._last_quote: dict[str, dict[str, object]] = {}
        self._orders = 0

    # ------------------------------------------------------------------ protocol

    def on_open(self, session: SimSession) -> list[str]:
        now = _iso(time.time_ns())
        return [
            msgspec.json.encode(
                {
                    "info": "Welcome to the BitMEX Realtime API.",
                    "version": "2026-11-20T09:00:00.000Z",
                    "timestamp": now,
                    "docs": "https://www.bitmex.com/app/wsAPI",
                    "heartbeatEnabled": False,
                    "limit": {"remaining": 39},
                }
            ).decode()
        ]

    def on_message(self, session: SimSession, text: str) -> list[str]:
        if text == "ping":
            session.pings += 1
            return ["pong"]
        try:
            req = msgspec.json.decode(text)
        except msgspec.DecodeError:
            return [self._error(400, "Unable to parse request.", None)]
        if not isinstance(req, dict) or req.get("op") not in ("subscribe", "unsubscribe"):
            return [self._error(400, "Unknown or missing op.", req)]
        args = req.get("args")
        if isinstance(args, str):
            args = [args]
        if not isinstance(args, list):
            return [self._error(400, "Missing args.", req)]
        out: list[str] = []
        for arg in args:
            if not isinstance(arg, str):
                continue
            table, _, symbol = arg.partition(":")
            if table not in _TABLES:
                out.append(self._error(400, f"Unknown table: {table}", req))
                continue
            if symbol and symbol not in self.instruments:
                out.append(self._error(400, f"Unknown or expired symbol: {symbol}", req))
                continue
            if req["op"] == "unsubscribe":
                session.subscriptions.discard(arg)
                out.append(
                    msgspec.json.encode(
                        {"success": True, "unsubscribe": arg, "request": req}
                    ).decode()
                )
                continue
            session.subscriptions.add(arg)
            out.append(
                msgspec.json.encode({"success": True, "subscribe": arg, "request": req}).decode()
            )
            out.append(self._partial(table, symbol))
        return out

    def unknown_frame(self) -> str:
        return '{"table":"settlement","action":"insert","data":[{"symbol":"XBTUSD"}]}'

    @staticmethod
    def _error(status: int, error: str, request: object) -> str:
        return msgspec.json.encode(
            {"status": status, "error": error, "meta": {}, "request": request}
        ).decode()

    def _partial(self, table: str, symbol: str) -> str:
        symbols = [symbol] if symbol else list(self.instruments)
        data: list[dict[str, object]] = []
        for s in symbols:
            if table == "instrument":
                data.append(self._rows[s])
            elif table == "trade" and s in self._last_trade:
                data.append(self._last_trade[s])
            elif table == "quote" and s in self._last_quote:
                data.append(self._last_quote[s])
        body = {
            "table": table,
            "action": "partial",
            "keys": _KEYS[table],
            "types": {},
            "filter": {"symbol": symbol} if symbol else {},
            "data": data,
        }
        return msgspec.json.encode(body).decode()

    # ------------------------------------------------------------------ rendering

    def render(self, event: Event, inst: Instrument) -> list[tuple[str, str]]:
        sym = event.symbol
        ts = _iso(event.ts_event)
        if isinstance(event, Trade):
            contracts = inst.contracts_for(event.size, event.size * event.price)
            row: dict[str, object] = {
                "timestamp": ts,
                "symbol": sym,
                "side": "Sell" if event.side == "sell" else "Buy",
                "size": contracts,
                "price": event.price,
                "tickDirection": "ZeroPlusTick",
                "trdMatchID": "00000000-0000-0000-0000-000000000000",
                "grossValue": round(event.size * 1e8) if inst.inverse else contracts,
                "homeNotional": event.size,
                "foreignNotional": event.notional_usd,
                "trdType": "Regular",
                "pool": "Aggregated",
            }
            self._last_trade[sym] = row
            return self._frames("trade", sym, "insert", [row])
        if isinstance(event, Liquidation):
            self._orders += 1
            oid = f"00000000-0000-0000-0000-{self._orders:012d}"
            row = {
                "orderID": oid,
                "symbol": sym,
                "side": "Sell" if event.side == "long" else "Buy",
                "price": event.price,
                "leavesQty": inst.contracts_for(event.size, event.size * event.price),
            }
            return self._frames("liquidation", sym, "insert", [row]) + self._frames(
                "liquidation", sym, "delete", [{"orderID": oid, "symbol": sym}]
            )
        if isinstance(event, Quote):
            row = {
                "timestamp": ts,
                "symbol": sym,
                "bidPrice": event.bid,
                "askPrice": event.ask,
                "bidSize": _book_contracts(inst, event.bid_size, event.bid),
                "askSize": _book_contracts(inst, event.ask_size, event.ask),
            }
            self._last_quote[sym] = row
            return self._frames("quote", sym, "insert", [row])
        state = self._rows[sym]
        if isinstance(event, Funding):
            upd: dict[str, object] = {
                "symbol": sym,
                "fundingRate": event.rate,
                "indicativeFundingRate": event.rate,
                "markPrice": event.mark_price,
                "fundingInterval": _interval(event.interval_h),
                "timestamp": ts,
            }
            if event.next_funding_ts is not None:
                upd["fundingTimestamp"] = _iso(event.next_funding_ts)
        elif isinstance(event, OpenInterest):
            mark = event.notional_usd / event.size if event.size else 0.0
            contracts = inst.contracts_for(event.size, event.size * mark)
            upd = {
                "symbol": sym,
                "openInterest": contracts,
                "openValue": round(event.size * 1e8)
                if inst.inverse
                else round(event.notional_usd * 1e6),
                "timestamp": ts,
            }
            if state.get("markPrice") is None and event.size > 0:
                upd["markPrice"] = event.notional_usd / event.size
        else:
            return []
        state.update(upd)
        return self._frames("instrument", sym, "update", [upd])

    @staticmethod
    def _frames(
        table: str,
        sym: str,
        action: str,
        rows: list[dict[str, object]],
    ) -> list[tuple[str, str]]:
        frame = msgspec.json.encode({"table": table, "action": action, "data": rows}).decode()
        return [(f"{table}:{sym}", frame), (table, frame)]

    @staticmethod
    def _static_row(inst: Instrument) -> dict[str, object]:
        root = _ROOTS.get(inst.base, inst.base)
        row: dict[str, object] = {
            "symbol": inst.symbol,
            "rootSymbol": root,
            "state": "Open",
            "typ": "FFWCSX",
            "underlying": root,
            "quoteCurrency": inst.quote,
            "isQuanto": False,
            "isInverse": inst.inverse,
            "fundingInterval": _interval(inst.funding_interval_h),
            "markPrice": None,
            "fundingRate": None,
            "openInterest": None,
        }
        if inst.inverse:
            row.update(
                positionCurrency="USD",
                settlCurrency="XBt",
                multiplier=-100000000,
                underlyingToSettleMultiplier=-100000000 / inst.contract_size,
                underlyingToPositionMultiplier=None,
            )
        else:
            row.update(
                positionCurrency="",
                settlCurrency="USDt",
                multiplier=1,
                underlyingToSettleMultiplier=None,
                underlyingToPositionMultiplier=round(1 / inst.contract_size),
            )
        return row

    # ------------------------------------------------------------------ REST

    def rest(self, path: str, query: Mapping[str, str]) -> RestReply | None:
        if path in ("/api/v1/instrument/active", "/api/v1/instrument"):
            return RestReply(200, list(self._rows.values()))
        return None


def _book_contracts(inst: Instrument, size: float | None, price: float) -> float:
    """A quote level's size in contracts (0 when the quote has none)."""
    size = size or 0.0
    return inst.contracts_for(size, size * price)
