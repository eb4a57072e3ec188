"""Hyperliquid websocket on the simulator: ``/ws``, plus ``POST /info`` ``{"type":"meta"}``.

Speaks ``{"method":"subscribe","subscription":{"type":..,"coin":..}}`` with the
``subscriptionResponse`` echo, answers ``{"method":"ping"}`` with ``{"channel":"pong"}``, and
back-fills the recent trades of a coin on every ``trades`` subscribe, as the venue does. An
``activeAssetCtx`` frame carries the whole context, so it is sent once both the funding and the
open interest of the coin are known. Liquidation events are not rendered: the venue has no
public liquidation feed.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Mapping

import msgspec

from monitor.instruments import Instrument
from monitor.simulator.base import RestReply, SimSession, SimVenue, json_object
from streams.events import Event, Funding, OpenInterest, Quote, Trade
from streams.units import NS_PER_MS

__all__ = ["HyperliquidSim"]

_BACKFILL = 30
_SUBSCRIPTION_TYPES = frozenset({"trades", "activeAssetCtx", "bbo", "l2Book", "allMids"})


class HyperliquidSim(SimVenue):
    """Hyperliquid's public websocket and the ``meta`` info request."""

    venue = "hyperliquid"
    ws_paths = ("/ws",)

    def __init__(self) -> None:
        super().__init__()
        self._recent: dict[str, deque[dict[str, object]]] = {}
        self._funding: dict[str, Funding] = {}
        self._oi: dict[str, OpenInterest] = {}
        self._tid = itertools.count(828_642_708_897_583)

    # ------------------------------------------------------------------ protocol

    def on_message(self, session: SimSession, text: str) -> list[str]:
        req = json_object(text)
        if req is None:
            return [_error(f"Invalid message: {text[:64]}")]
        method = req.get("method")
        if method == "ping":
            session.pings += 1
            return ['{"channel":"pong"}']
        sub = req.get("subscription")
        if method not in ("subscribe", "unsubscribe") or not isinstance(sub, dict):
            return [_error(f"Invalid message: {text[:64]}")]
        kind, coin = sub.get("type"), sub.get("coin")
        if kind not in _SUBSCRIPTION_TYPES or (kind != "allMids" and coin not in self.instruments):
            return [_error(f"Invalid subscription {msgspec.json.encode(sub).decode()}")]
        topic = f"{kind}:{coin}"
        ack = msgspec.json.encode(
            {"channel": "subscriptionResponse", "data": {"method": method, "subscription": sub}}
        ).decode()
        if method == "unsubscribe":
            session.subscriptions.discard(topic)
            return [ack]
        session.subscriptions.add(topic)
        out = [ack]
        recent = self._recent.get(str(coin))
        if kind == "trades" and recent:
            out.append(_frame("trades", list(recent)))
        return out

    def unknown_frame(self) -> str:
        return '{"channel":"webData3","data":{"userState":{"serverTime":1781416439080}}}'

    # ------------------------------------------------------------------ events

    def render(self, event: Event, inst: Instrument) -> list[tuple[str, str]]:
        coin = event.symbol
        num = self.num
        m = inst.multiplier  # kPEPE: prices per 1000 PEPE, sizes in thousands
        if isinstance(event, Trade):
            trade: dict[str, object] = {
                "coin": coin,
                "side": "B" if event.side == "buy" else "A",
                "px": num(event.price * m),
                "sz": num(event.size / m),
                "time": event.ts_event // NS_PER_MS,
                "hash": f"0x{next(self._tid):064x}",
                "tid": next(self._tid),
                "users": ["0x" + "1" * 40, "0x" + "2" * 40],
            }
            self._recent.setdefault(coin, deque(maxlen=_BACKFILL)).append(trade)
            return [(f"trades:{coin}", _frame("trades", [trade]))]
        if isinstance(event, Funding | OpenInterest):
            if isinstance(event, Funding):
                self._funding[coin] = event
            else:
                self._oi[coin] = event
            funding, oi = self._funding.get(coin), self._oi.get(coin)
            if funding is None or oi is None:
                return []
            mark = funding.mark_price * m
            ctx = {
                "funding": num(funding.rate),  # hourly
                "openInterest": num(oi.size / m),
                "prevDayPx": num(mark),
                "dayNtlVlm": "0.0",
                "premium": "0.0",
                "oraclePx": num(mark),
                "markPx": num(mark),
                "midPx": num(mark),
                "impactPxs": [num(mark), num(mark)],
                "dayBaseVlm": "0.0",
            }
            return [
                (f"activeAssetCtx:{coin}", _frame("activeAssetCtx", {"coin": coin, "ctx": ctx}))
            ]
        if isinstance(event, Quote):
            bbo = [
                {"px": num(event.bid * m), "sz": num((event.bid_size or 0.0) / m), "n": 1},
                {"px": num(event.ask * m), "sz": num((event.ask_size or 0.0) / m), "n": 1},
            ]
            data = {"coin": coin, "time": event.ts_event // NS_PER_MS, "bbo": bbo}
            return [(f"bbo:{coin}", _frame("bbo", data))]
        return []  # liquidations: no public feed on Hyperliquid

    # ------------------------------------------------------------------ REST

    def rest(self, path: str, query: Mapping[str, str]) -> RestReply | None:
        """Answer ``/info`` with ``meta`` (the simulator does not pass the POST body here)."""
        if path != "/info":
            return None
        return self._meta()

    def rest_post(self, path: str, query: Mapping[str, str], body: bytes) -> RestReply | None:
        """Answer ``POST /info`` according to its JSON body (``{"type":"meta"}``)."""
        if path != "/info":
            return None
        req = json_object(body)
        if req is None or req.get("type") != "meta":
            return RestReply(422, "Failed to deserialize the JSON body")
        return self._meta()

    def _meta(self) -> RestReply:
        universe = [
            {"name": c, "szDecimals": 5, "maxLeverage": 40, "marginTableId": 56}
            for c in sorted(self.instruments)
        ]
        return RestReply(200, {"universe": universe, "marginTables": []})


def _frame(channel: str, data: object) -> str:
    return msgspec.json.encode({"channel": channel, "data": data}).decode()


def _error(text: str) -> str:
    return msgspec.json.encode({"channel": "error", "data": text}).decode()
