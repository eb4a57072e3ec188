"""Bybit v5 public websockets on the simulator: ``/v5/public/linear`` and ``/v5/public/inverse``.

Speaks the ``{"op":"subscribe","args":[...]}`` handshake with Bybit's linear/inverse ack shape,
answers ``{"op":"ping"}`` with the documented pong (``"op":"ping","ret_msg":"pong"``), rejects the
removed ``liquidation.{symbol}`` topic with "handler not found", and serves ``tickers`` as one
snapshot followed by deltas that carry only the changed fields.

REST: ``/v5/market/instruments-info``, and the history the daemon backfills from, built from the
events published (:class:`~monitor.simulator.base.HourlyHistory`): ``/v5/market/kline``
(candles of the hourly prices, newest first) and ``/v5/market/open-interest`` (``openInterest``
both sides, ``singleOpenInterest`` one side: base coin for linear symbols, USD for inverse ones),
in Bybit's ``{"retCode","retMsg","result","retExtInfo","time"}`` envelope, honouring
``start``/``end`` (``startTime``/``endTime``), ``limit`` and ``cursor``; a bad parameter answers
HTTP 200 with ``retCode`` 10001.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping

import msgspec

from monitor.instruments import Instrument
from monitor.simulator.base import HourlyHistory, HourRow, RestReply, SimSession, SimVenue
from monitor.venues import packaged_instruments
from streams.events import Event, Funding, Liquidation, OpenInterest, Quote, Trade

__all__ = ["BybitLinearSim"]

_MS = 1_000_000
_TOPIC_KINDS = ("publicTrade", "allLiquidation", "tickers", "orderbook")
_HOUR_MS = 3_600_000
#: kline ``interval`` → candle length, ms (``M``, calendar months, is not simulated)
_KLINE_INTERVALS = {
    **{str(m): m * 60_000 for m in (1, 3, 5, 15, 30, 60, 120, 240, 360, 720)},
    "D": 24 * _HOUR_MS,
    "W": 7 * 24 * _HOUR_MS,
}
#: open-interest ``intervalTime`` → bucket length, ms
_OI_INTERVALS = {
    "5min": 300_000,
    "15min": 900_000,
    "30min": 1_800_000,
    "1h": _HOUR_MS,
    "4h": 4 * _HOUR_MS,
    "1d": 24 * _HOUR_MS,
}
_CURSOR_PREFIX = "sim-before-"


def _num(x: float) -> str:
    return f"{x:.10f}".rstrip("0").rstrip(".") if x == x else "0"


class BybitLinearSim(SimVenue):
    """Bybit's public linear and inverse endpoints."""

    venue = "bybit-linear"
    ws_paths = ("/v5/public/linear", "/v5/public/inverse")

    def __init__(self) -> None:
        super().__init__()
        self.instruments: dict[str, Instrument] = {
            i.symbol: i for i in packaged_instruments(self.venue)
        }
        self._tickers: dict[str, dict[str, str]] = {}
        self._ticker_ts: dict[str, int] = {}
        self._seq = itertools.count(1_783_284_617)
        self.hourly = HourlyHistory()  # what the kline and open-interest history serve

    # ------------------------------------------------------------------ protocol

    def on_message(self, session: SimSession, text: str) -> list[str]:
        conn_id = f"sim-{id(session):x}"
        try:
            req = msgspec.json.decode(text)
        except msgspec.DecodeError:
            return [_reply(False, "error:request not json", conn_id, "", "")]
        if not isinstance(req, dict):
            return [_reply(False, "error:request not json", conn_id, "", "")]
        op = str(req.get("op", ""))
        req_id = str(req.get("req_id", ""))
        if op == "ping":
            session.pings += 1
            return [_reply(True, "pong", conn_id, req_id, "ping")]
        args = req.get("args") or []
        if op == "subscribe":
            inverse = session.path.endswith("/inverse")
            bad: list[str] = []
            snapshots: list[str] = []
            for topic in args:
                kind, _, symbol = str(topic).partition(".")
                if kind not in _TOPIC_KINDS or symbol.endswith("USD") != inverse:
                    bad.append(str(topic))
                    continue
                session.subscriptions.add(str(topic))
                if kind == "tickers" and symbol in self._tickers:
                    snapshots.append(self._ticker_frame(symbol, "snapshot", self._tickers[symbol]))
            if bad:
                msg = "error:handler not found,topic:" + ",".join(bad)
                return [_reply(False, msg, conn_id, req_id, "subscribe"), *snapshots]
            return [_reply(True, "", conn_id, req_id, "subscribe"), *snapshots]
        if op == "unsubscribe":
            session.subscriptions.difference_update(str(a) for a in args)
            return [_reply(True, "", conn_id, req_id, "unsubscribe")]
        return [_reply(False, f"error:unknown op {op}", conn_id, req_id, op)]

    def unknown_frame(self) -> str:
        return (
            '{"topic":"adlAlert.USDT","type":"snapshot","ts":1781416439080,'
            '"data":[{"c":"USDT","s":"BTCUSDT","b":"1.0","bw":"0.1"}]}'
        )

    # ------------------------------------------------------------------ events

    def encode(self, event: Event) -> list[tuple[str, str]]:
        if event.venue != self.venue:
            return []
        inst = self.instruments.get(event.symbol)
        if inst is None:
            return []
        self.remember(event)
        self.hourly.record(event)
        sym = event.symbol
        ts_ms = event.ts_event // _MS
        if isinstance(event, Trade):
            trade = {
                "T": ts_ms,
                "s": sym,
                "S": "Buy" if event.side == "buy" else "Sell",
                "v": _num(_contracts(inst, event.size, event.notional_usd)),
                "p": _num(event.price),
                "L": "PlusTick",
                "i": f"sim-{next(self._seq)}",
                "BT": False,
                "RPI": False,
                "seq": next(self._seq),
            }
            topic = f"publicTrade.{sym}"
            return [(topic, _push(topic, "snapshot", ts_ms, [trade]))]
        if isinstance(event, Liquidation):
            liq = {
                "T": ts_ms,
                "s": sym,
                "S": "Buy" if event.side == "long" else "Sell",  # position side
                "v": _num(_contracts(inst, event.size, event.notional_usd)),
                "p": _num(event.price),
            }
            topic = f"allLiquidation.{sym}"
            return [(topic, _push(topic, "snapshot", ts_ms, [liq]))]
        fields = self._ticker_fields(inst, event)
        if fields is None:
            return []
        state = self._tickers.get(sym)
        self._ticker_ts[sym] = ts_ms
        if state is None:
            state = self._tickers[sym] = {"symbol": sym, **fields}
            return [(f"tickers.{sym}", self._ticker_frame(sym, "snapshot", state))]
        changed = {k: v for k, v in fields.items() if state.get(k) != v}
        state.update(changed)
        return [(f"tickers.{sym}", self._ticker_frame(sym, "delta", {"symbol": sym, **changed}))]

    def _ticker_fields(self, inst: Instrument, event: Event) -> dict[str, str] | None:
        state = self._tickers.get(event.symbol, {})
        if isinstance(event, Funding):
            return {
                "markPrice": _num(event.mark_price),
                "fundingRate": _num(event.rate),
                "fundingIntervalHour": _num(event.interval_h),
                "nextFundingTime": str((event.next_funding_ts or 0) // _MS),
            }
        if isinstance(event, OpenInterest):
            single = _contracts(inst, event.size, event.notional_usd)
            mark = state.get("markPrice") or _num(event.notional_usd / event.size)
            value = event.size if inst.inverse else event.notional_usd  # BTC for inverse
            return {
                "markPrice": mark,
                "openInterest": _num(2 * single),  # both sides
                "openInterestValue": _num(2 * value),
                "singleOpenInterest": _num(single),
                "singleOpenInterestValue": _num(value),
            }
        if isinstance(event, Quote):
            out = {"bid1Price": _num(event.bid), "ask1Price": _num(event.ask)}
            if event.bid_size is not None:
                out["bid1Size"] = _num(_book_contracts(inst, event.bid_size, event.bid))
            if event.ask_size is not None:
                out["ask1Size"] = _num(_book_contracts(inst, event.ask_size, event.ask))
            return out
        return None

    def _ticker_frame(self, sym: str, kind: str, data: Mapping[str, str]) -> str:
        return msgspec.json.encode(
            {
                "topic": f"tickers.{sym}",
                "type": kind,
                "data": data,
                "cs": next(self._seq),
                "ts": self._ticker_ts.get(sym, 0),
            }
        ).decode()

    # ------------------------------------------------------------------ REST

    def rest(self, path: str, query: Mapping[str, str]) -> RestReply | None:
        if path == "/v5/market/instruments-info":
            return self._instruments(query)
        if path == "/v5/market/kline":
            return self._klines(query)
        if path == "/v5/market/open-interest":
            return self._open_interest(query)
        return None

    def _ok(self, result: Mapping[str, object]) -> RestReply:
        return RestReply(
            200,
            {
                "retCode": 0,
                "retMsg": "OK",
                "result": result,
                "retExtInfo": {},
                "time": self.clock_ns // _MS,
            },
        )

    def _error(self, msg: str) -> RestReply:
        return RestReply(
            200,
            {
                "retCode": 10001,
                "retMsg": msg,
                "result": {},
                "retExtInfo": {},
                "time": self.clock_ns // _MS,
            },
        )

    def _instruments(self, query: Mapping[str, str]) -> RestReply:
        category = query.get("category", "")
        if category not in ("linear", "inverse"):
            return RestReply(
                200,
                {
                    "retCode": 10001,
                    "retMsg": "Illegal category",
                    "result": {},
                    "retExtInfo": {},
                    "time": 0,
                },
            )
        inverse = category == "inverse"
        rows = [
            {
                "symbol": i.symbol,
                "contractType": "InversePerpetual" if i.inverse else "LinearPerpetual",
                "status": "Trading",
                "baseCoin": i.base,
                "quoteCoin": i.quote,
                "settleCoin": i.base if i.inverse else i.quote,
                "fundingInterval": int(i.funding_interval_h * 60),
                "priceScale": "2",
            }
            for i in self.instruments.values()
            if i.inverse == inverse
        ]
        return RestReply(
            200,
            {
                "retCode": 0,
                "retMsg": "OK",
                "result": {"category": category, "list": rows, "nextPageCursor": ""},
                "retExtInfo": {},
                "time": 0,
            },
        )

    def _history_query(
        self,
        query: Mapping[str, str],
        start_key: str,
        end_key: str,
        max_limit: int,
        default_limit: int,
        default_category: str = "",
    ) -> tuple[str, Instrument, int | None, int | None, int] | str:
        """Validate the common parameters: ``(category, instrument, start, end, limit)`` or the
        error message."""
        category = query.get("category", default_category)
        if category not in ("linear", "inverse"):
            return "Illegal category"
        inst = self.instruments.get(query.get("symbol", ""))
        if inst is None or inst.inverse != (category == "inverse"):
            return "params error: symbol invalid"
        try:
            start = int(query[start_key]) if start_key in query else None
            end = int(query[end_key]) if end_key in query else None
            limit = int(query.get("limit", str(default_limit)))
        except ValueError:
            return "params error: not a number"
        if not 1 <= limit <= max_limit:
            return f"params error: limit must be in [1, {max_limit}]"
        if start is not None and end is not None and start > end:
            return "params error: start is after end"
        return category, inst, start, end, limit

    def _buckets(
        self, symbol: str, size_ms: int, start: int | None, end: int | None, keep: str
    ) -> list[tuple[int, list[HourRow]]]:
        """Hourly rows with a ``keep`` value (``price`` or ``oi``), grouped into buckets of
        ``size_ms`` (an hour at least), with ``start <= bucket <= end``; newest first."""
        groups: dict[int, list[HourRow]] = {}
        for r in self.hourly.rows(symbol):
            if (r.price if keep == "price" else r.oi_base or r.oi_usd) > 0:
                b = r.hour_ms // size_ms * size_ms if size_ms >= _HOUR_MS else r.hour_ms
                groups.setdefault(b, []).append(r)
        return sorted(
            (
                (b, rows)
                for b, rows in groups.items()
                if (start is None or b >= start) and (end is None or b <= end)
            ),
            key=lambda item: -item[0],
        )

    def _klines(self, query: Mapping[str, str]) -> RestReply:
        """``GET /v5/market/kline``: candles of the hourly prices, newest first."""
        q = self._history_query(query, "start", "end", 1000, 200, default_category="linear")
        if isinstance(q, str):
            return self._error(q)
        category, inst, start, end, limit = q
        size = _KLINE_INTERVALS.get(query.get("interval", ""))
        if size is None:
            return self._error("params error: invalid interval")
        rows = []
        for b, hours in self._buckets(inst.symbol, size, start, end, "price")[:limit]:
            prices = [h.price for h in hours]
            rows.append(
                [
                    str(b),
                    _num(prices[0]),
                    _num(max(prices)),
                    _num(min(prices)),
                    _num(prices[-1]),
                    "0",
                    "0",
                ]
            )
        return self._ok({"symbol": inst.symbol, "category": category, "list": rows})

    def _open_interest(self, query: Mapping[str, str]) -> RestReply:
        """``GET /v5/market/open-interest``: the last open interest of each interval, newest
        first; ``nextPageCursor`` continues with older rows."""
        q = self._history_query(query, "startTime", "endTime", 200, 50)
        if isinstance(q, str):
            return self._error(q)
        category, inst, start, end, limit = q
        size = _OI_INTERVALS.get(query.get("intervalTime", ""))
        if size is None:
            return self._error("params error: invalid intervalTime")
        cursor = query.get("cursor", "")
        if cursor:
            if not cursor.startswith(_CURSOR_PREFIX):
                return self._error("params error: invalid cursor")
            before = int(cursor.removeprefix(_CURSOR_PREFIX)) - 1
            end = before if end is None else min(end, before)
        buckets = self._buckets(inst.symbol, size, start, end, "oi")
        page = buckets[:limit]
        rows = []
        for b, hours in page:
            last = hours[-1]
            single = last.oi_usd if inst.inverse else last.oi_base
            rows.append(
                {
                    "openInterest": f"{2 * single:.8f}",
                    "singleOpenInterest": _num(single),
                    "timestamp": str(b),
                }
            )
        more = len(buckets) > limit
        return self._ok(
            {
                "symbol": inst.symbol,
                "category": category,
                "list": rows,
                "nextPageCursor": f"{_CURSOR_PREFIX}{page[-1][0]}" if more else "",
            }
        )


def _reply(success: bool, ret_msg: str, conn_id: str, req_id: str, op: str) -> str:
    return msgspec.json.encode(
        {"success": success, "ret_msg": ret_msg, "conn_id": conn_id, "req_id": req_id, "op": op}
    ).decode()


def _push(topic: str, kind: str, ts_ms: int, data: object) -> str:
    return msgspec.json.encode({"topic": topic, "type": kind, "ts": ts_ms, "data": data}).decode()


def _contracts(inst: Instrument, size: float, notional_usd: float) -> float:
    """Bybit's size field: base coin (linear) or USD contracts (inverse)."""
    if inst.inverse:
        return notional_usd / inst.contract_size
    return size / inst.contract_size


def _book_contracts(inst: Instrument, size: float, price: float) -> float:
    if inst.inverse:
        return size * price / inst.contract_size
    return size / inst.contract_size
