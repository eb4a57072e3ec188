"""Kraken Spot v2 on the simulator: ``/v2`` with ``ticker``/``trade`` channels and ``AssetPairs``.

Sends the ``status`` greeting on connect, one ack per subscribed symbol, ``pong`` for
``{"method":"ping"}``, and a ``{"channel":"heartbeat"}`` every ``heartbeat_interval_s`` to sessions
with a subscription.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

import msgspec

from monitor.instruments import Instrument
from monitor.simulator.base import RestReply, SimSession, SimVenue
from monitor.simulator.wire import rfc3339_us
from streams.events import Event, Quote, Trade

__all__ = ["KrakenSim"]

_CHANNELS = ("ticker", "trade")


class KrakenSim(SimVenue):
    """Speaks Kraken's v2 ``{"method":"subscribe","params":{...}}`` protocol."""

    venue = "kraken"
    ws_paths = ("/v2",)
    heartbeat_interval_s: float | None = 1.0

    def __init__(self) -> None:
        super().__init__()
        self._trade_id = 0

    def on_open(self, session: SimSession) -> list[str]:
        return [
            msgspec.json.encode(
                {
                    "channel": "status",
                    "type": "update",
                    "data": [
                        {
                            "version": "2.0.10",
                            "system": "online",
                            "api_version": "v2",
                            "connection_id": 7_000_000 + id(session) % 1_000_000,
                        }
                    ],
                }
            ).decode()
        ]

    def on_message(self, session: SimSession, text: str) -> list[str]:
        now = rfc3339_us(time.time_ns())
        try:
            req = msgspec.json.decode(text)
        except msgspec.DecodeError:
            return [
                msgspec.json.encode(
                    {
                        "error": "Malformed request",
                        "method": "",
                        "success": False,
                        "time_in": now,
                        "time_out": now,
                    }
                ).decode()
            ]
        if not isinstance(req, dict):
            req = {}
        method = req.get("method")
        rid = req.get("req_id")
        if method == "ping":
            session.pings += 1
            body: dict[str, object] = {"method": "pong", "time_in": now, "time_out": now}
            if rid is not None:
                body["req_id"] = rid
            return [msgspec.json.encode(body).decode()]
        if method not in ("subscribe", "unsubscribe"):
            return [self._reply(str(method), rid, now, error="Method not found")]
        params = req.get("params") if isinstance(req.get("params"), dict) else {}
        assert isinstance(params, dict)
        channel = params.get("channel")
        symbols = params.get("symbol")
        if channel not in _CHANNELS or not isinstance(symbols, list):
            return [self._reply(method, rid, now, error=f"Channel {channel} not found")]
        out = []
        for sym in symbols:
            if not isinstance(sym, str) or sym not in self.instruments:
                out.append(
                    self._reply(method, rid, now, error=f"Currency pair not supported {sym}")
                )
                continue
            topic = f"{channel}:{sym}"
            result: dict[str, object] = {"channel": channel, "symbol": sym}
            if method == "subscribe":
                session.subscriptions.add(topic)
                result["snapshot"] = bool(params.get("snapshot", True))
                if channel == "ticker":
                    result["event_trigger"] = params.get("event_trigger", "trades")
            else:
                session.subscriptions.discard(topic)
            out.append(self._reply(method, rid, now, result=result))
        return out

    @staticmethod
    def _reply(
        method: str, rid: object, now: str, *, result: object = None, error: str | None = None
    ) -> str:
        body: dict[str, object] = {"method": method}
        if error is None:
            body["result"] = result
            body["success"] = True
        else:
            body["error"] = error
            body["success"] = False
        body["time_in"] = now
        body["time_out"] = now
        if rid is not None:
            body["req_id"] = rid
        return msgspec.json.encode(body).decode()

    def heartbeat(self, session: SimSession) -> str | None:
        return '{"channel":"heartbeat"}' if session.subscriptions else None

    def unknown_frame(self) -> str:
        return '{"channel":"instrument","type":"snapshot","data":{"assets":[],"pairs":[]}}'

    def render(self, event: Event, inst: Instrument) -> list[tuple[str, str]]:
        if isinstance(event, Quote):
            row = {
                "symbol": event.symbol,
                "bid": event.bid,
                "bid_qty": event.bid_size or 0.0,
                "ask": event.ask,
                "ask_qty": event.ask_size or 0.0,
                "last": (event.bid + event.ask) / 2,
                "volume": 0.0,
                "vwap": event.bid,
                "low": event.bid,
                "high": event.ask,
                "change": 0.0,
                "change_pct": 0.0,
                "timestamp": rfc3339_us(event.ts_event),
            }
            frame = {"channel": "ticker", "type": "update", "data": [row]}
            return [(f"ticker:{event.symbol}", msgspec.json.encode(frame).decode())]
        if isinstance(event, Trade):
            self._trade_id += 1
            row = {
                "symbol": event.symbol,
                "side": event.side,
                "price": event.price,
                "qty": event.size,
                "ord_type": "market",
                "trade_id": self._trade_id,
                "timestamp": rfc3339_us(event.ts_event),
            }
            frame = {"channel": "trade", "type": "update", "data": [row]}
            return [(f"trade:{event.symbol}", msgspec.json.encode(frame).decode())]
        return []

    def rest(self, path: str, query: Mapping[str, str]) -> RestReply | None:
        if path != "/0/public/AssetPairs":
            return None
        result = {}
        for inst in self.instruments.values():
            alt = f"{inst.base}{inst.quote}"
            result[alt] = {
                "altname": alt,
                "wsname": inst.symbol,
                "aclass_base": "currency",
                "base": inst.base,
                "aclass_quote": "currency",
                "quote": "ZUSD" if inst.quote == "USD" else inst.quote,
                "status": "online",
            }
        return RestReply(200, {"error": [], "result": result})
