"""Deribit on the simulator: JSON-RPC 2.0 on ``/ws/api/v2`` and ``public/get_instruments``.

Deribit has no separate liquidation feed, so a Liquidation event is rendered as a trade print
flagged ``liquidation: "T"`` whose taker is the liquidated side; it parses back into that
Liquidation plus its Trade. Funding, open interest and quotes share the ``ticker`` channel: the
simulator keeps the latest of each per instrument and sends the whole ticker on every change,
as the venue does.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Mapping
from dataclasses import dataclass

import msgspec

from monitor.instruments import Instrument
from monitor.simulator.base import RestReply, SimSession, SimVenue
from streams.events import Event, Funding, Liquidation, OpenInterest, Quote, Trade
from streams.units import NS_PER_MS, NS_PER_US

__all__ = ["DeribitSim"]

_INTERVALS = ("100ms", "agg2")


@dataclass
class _TickerState:
    timestamp: int = 0
    mark: float | None = None
    funding: float | None = None
    open_interest: float | None = None
    bid: float | None = None
    ask: float | None = None
    bid_amount: float | None = None
    ask_amount: float | None = None


def _us() -> int:
    return time.time_ns() // NS_PER_US


class DeribitSim(SimVenue):
    """Speaks Deribit's ``public/subscribe``, ``public/set_heartbeat`` and ``public/test``.

    Sessions that called ``public/set_heartbeat`` receive a ``test_request`` every
    ``heartbeat_interval_s``; their ``public/test`` answers are counted in ``SimSession.pings``.
    """

    venue = "deribit"
    ws_paths = ("/ws/api/v2",)
    heartbeat_interval_s: float | None = 10.0

    def __init__(self) -> None:
        super().__init__()
        self._tickers: dict[str, _TickerState] = {}
        # id -> weak reference: SimSession is unhashable, and ids are reused after close
        self._heartbeat_sessions: dict[int, weakref.ref[SimSession]] = {}
        self._trade_seq = 0

    # ------------------------------------------------------------------ protocol

    def on_message(self, session: SimSession, text: str) -> list[str]:
        try:
            req = msgspec.json.decode(text)
        except msgspec.DecodeError:
            return [self._error(None, 11050, "bad_request", "invalid json")]
        if not isinstance(req, dict) or not isinstance(req.get("method"), str):
            return [
                self._error(
                    req.get("id") if isinstance(req, dict) else None, -32600, "Invalid Request"
                )
            ]
        rid = req.get("id")
        method = req["method"]
        params = req.get("params") or {}
        if method in ("public/subscribe", "public/unsubscribe"):
            channels = params.get("channels") if isinstance(params, dict) else None
            if not isinstance(channels, list):
                return [self._error(rid, -32602, "Invalid params")]
            if method == "public/unsubscribe":
                session.subscriptions.difference_update(channels)
                return [self._result(rid, [c for c in channels if isinstance(c, str)])]
            if any(isinstance(c, str) and c.endswith(".raw") for c in channels):
                return [self._error(rid, 13778, "raw_subscriptions_not_available_for_unauthorized")]
            accepted = [c for c in channels if isinstance(c, str) and self._valid(c)]
            session.subscriptions.update(accepted)
            return [self._result(rid, accepted)]  # unknown channels are dropped silently
        if method == "public/set_heartbeat":
            interval = params.get("interval") if isinstance(params, dict) else None
            if not isinstance(interval, int | float) or interval < 10:
                return [self._error(rid, -32602, "Invalid params")]
            self._heartbeat_sessions[id(session)] = weakref.ref(session)
            return [self._result(rid, "ok")]
        if method == "public/test":
            session.pings += 1
            return [self._result(rid, {"version": "1.2.26"})]
        if method == "public/ping":
            return [self._result(rid, "pong")]
        return [self._error(rid, -32601, "Method not found")]

    def heartbeat(self, session: SimSession) -> str | None:
        ref = self._heartbeat_sessions.get(id(session))
        if ref is None or ref() is not session:
            return None
        return '{"jsonrpc":"2.0","method":"heartbeat","params":{"type":"test_request"}}'

    def unknown_frame(self) -> str:
        return (
            '{"jsonrpc":"2.0","method":"subscription","params":{"channel":'
            '"platform_state","data":{"locked":false,"price_index":"btc_usd"}}}'
        )

    def _valid(self, channel: str) -> bool:
        parts = channel.split(".")
        return (
            len(parts) == 3
            and parts[0] in ("trades", "ticker")
            and parts[1] in self.instruments
            and parts[2] in _INTERVALS
        )

    @staticmethod
    def _result(rid: object, result: object) -> str:
        us = _us()
        return msgspec.json.encode(
            {
                "jsonrpc": "2.0",
                "id": rid,
                "result": result,
                "usIn": us,
                "usOut": us,
                "usDiff": 0,
                "testnet": False,
            }
        ).decode()

    @staticmethod
    def _error(rid: object, code: int, message: str, data: str | None = None) -> str:
        err: dict[str, object] = {"code": code, "message": message}
        if data is not None:
            err["data"] = data
        body: dict[str, object] = {"jsonrpc": "2.0", "error": err, "testnet": False}
        if rid is not None:
            body["id"] = rid
        return msgspec.json.encode(body).decode()

    # ------------------------------------------------------------------ rendering

    def render(self, event: Event, inst: Instrument) -> list[tuple[str, str]]:
        ms = event.ts_event // NS_PER_MS
        if isinstance(event, Trade):
            return self._trade(
                inst, ms, event.price, event.size, event.notional_usd, event.side, None
            )
        if isinstance(event, Liquidation):
            # the liquidated position's closing order was the taker: sell closes a long
            side = "sell" if event.side == "long" else "buy"
            return self._trade(inst, ms, event.price, event.size, event.notional_usd, side, "T")
        st = self._tickers.setdefault(event.symbol, _TickerState())
        st.timestamp = ms
        if isinstance(event, Funding):
            st.funding = event.rate * event.interval_h / 8.0
            st.mark = event.mark_price
        elif isinstance(event, OpenInterest):
            st.open_interest = inst.contracts_for(event.size, event.notional_usd)
            if st.mark is None and event.size > 0:
                st.mark = event.notional_usd / event.size
        elif isinstance(event, Quote):
            st.bid, st.ask = event.bid, event.ask
            st.bid_amount = _amount(event.bid_size, event.bid, inst)
            st.ask_amount = _amount(event.ask_size, event.ask, inst)
            if st.mark is None:
                st.mark = (event.bid + event.ask) / 2.0
        else:
            return []
        return [
            self._notify(f"ticker.{event.symbol}.{iv}", self._ticker(inst, st)) for iv in _INTERVALS
        ]

    def _trade(
        self,
        inst: Instrument,
        ms: int,
        price: float,
        size: float,
        notional: float,
        side: str,
        liquidation: str | None,
    ) -> list[tuple[str, str]]:
        self._trade_seq += 1
        amount = inst.contracts_for(size, notional)  # Deribit's amount: USD (inverse) or base
        row: dict[str, object] = {
            "timestamp": ms,
            "price": price,
            "amount": amount,
            "direction": side,
            "index_price": price,
            "instrument_name": inst.symbol,
            "trade_seq": self._trade_seq,
            "mark_price": price,
            "tick_direction": 0,
            "trade_id": str(self._trade_seq),
        }
        if inst.inverse:
            row["contracts"] = amount / 10.0
        if liquidation is not None:
            row["liquidation"] = liquidation
        return [self._notify(f"trades.{inst.symbol}.{iv}", [row]) for iv in _INTERVALS]

    @staticmethod
    def _ticker(inst: Instrument, st: _TickerState) -> dict[str, object]:
        data: dict[str, object] = {
            "timestamp": st.timestamp,
            "state": "open",
            "instrument_name": inst.symbol,
            "mark_price": st.mark or 0.0,
            "index_price": st.mark or 0.0,
            "best_bid_price": st.bid,
            "best_bid_amount": st.bid_amount,
            "best_ask_price": st.ask,
            "best_ask_amount": st.ask_amount,
            "stats": {"volume": 0.0, "low": None, "high": None},
        }
        if st.open_interest is not None:
            data["open_interest"] = st.open_interest
        if st.funding is not None:
            data["current_funding"] = st.funding
            data["funding_8h"] = st.funding
        return data

    @staticmethod
    def _notify(channel: str, data: object) -> tuple[str, str]:
        frame = {
            "jsonrpc": "2.0",
            "method": "subscription",
            "params": {"channel": channel, "data": data},
        }
        return channel, msgspec.json.encode(frame).decode()

    # ------------------------------------------------------------------ REST

    def rest(self, path: str, query: Mapping[str, str]) -> RestReply | None:
        if path != "/api/v2/public/get_instruments":
            return None
        currency = query.get("currency", "")
        if not currency:
            return RestReply(
                400, {"jsonrpc": "2.0", "error": {"code": -32602, "message": "Invalid params"}}
            )
        rows = []
        for inst in self.instruments.values():
            settle = inst.base if inst.inverse else inst.quote
            if currency.lower() != "any" and currency.upper() != settle:
                continue
            rows.append(
                {
                    "instrument_name": inst.symbol,
                    "kind": "future",
                    "is_active": True,
                    "settlement_period": "perpetual",
                    "base_currency": inst.base,
                    "quote_currency": inst.quote,
                    "counter_currency": inst.quote,
                    "settlement_currency": settle,
                    "instrument_type": "reversed" if inst.inverse else "linear",
                    "future_type": "reversed" if inst.inverse else "linear",
                    "contract_size": 10.0 if inst.inverse else 0.0001,
                    "expiration_timestamp": 32503708800000,
                    "state": "open",
                }
            )
        us = _us()
        return RestReply(
            200,
            {
                "jsonrpc": "2.0",
                "result": rows,
                "usIn": us,
                "usOut": us,
                "usDiff": 0,
                "testnet": False,
            },
        )


def _amount(size: float | None, price: float, inst: Instrument) -> float | None:
    """A book level's Deribit amount (None when the quote has no size)."""
    if size is None:
        return None
    return inst.contracts_for(size, size * price)
