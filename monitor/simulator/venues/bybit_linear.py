"""Bybit v5 public websockets on the simulator: ``/v5/public/linear`` and ``/v5/public/inverse``.

Speaks the ``{"op":"subscribe","args":[...]}`` handshake with Bybit's linear/inverse ack shape
(:class:`~monitor.simulator.venues.bybit_streams.BybitStreamsSim`), answers ``{"op":"ping"}``
with the documented pong (``"op":"ping","ret_msg":"pong"``), rejects the removed
``liquidation.{symbol}`` topic with "handler not found", and serves ``tickers`` as one snapshot
followed by deltas that carry only the changed fields.

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
from typing import NamedTuple

import msgspec

from monitor.instruments import Instrument
from monitor.simulator.base import HourRow, RestReply, SimSession, hour_buckets, ohlc
from monitor.simulator.venues.bybit_streams import BybitStreamsSim
from streams.events import Event, Funding, Liquidation, OpenInterest, Quote, Trade
from streams.units import MS_PER_HOUR, MS_PER_MINUTE, NS_PER_MS

__all__ = ["BybitLinearSim"]

_TOPIC_KINDS = ("publicTrade", "allLiquidation", "tickers", "orderbook")
#: kline ``interval`` → candle length, ms (``M``, calendar months, is not simulated)
_KLINE_INTERVALS = {
    **{str(m): m * MS_PER_MINUTE for m in (1, 3, 5, 15, 30, 60, 120, 240, 360, 720)},
    "D": 24 * MS_PER_HOUR,
    "W": 7 * 24 * MS_PER_HOUR,
}
#: open-interest ``intervalTime`` → bucket length, ms
_OI_INTERVALS = {
    "5min": 5 * MS_PER_MINUTE,
    "15min": 15 * MS_PER_MINUTE,
    "30min": 30 * MS_PER_MINUTE,
    "1h": MS_PER_HOUR,
    "4h": 4 * MS_PER_HOUR,
    "1d": 24 * MS_PER_HOUR,
}
_CURSOR_PREFIX = "sim-before-"


class _HistoryQuery(NamedTuple):
    """A validated kline or open-interest history query."""

    category: str
    inst: Instrument
    start: int | None
    end: int | None
    limit: int
    size_ms: int  # candle / bucket length


class BybitLinearSim(BybitStreamsSim):
    """Bybit's public linear and inverse endpoints."""

    venue = "bybit-linear"
    ws_paths = ("/v5/public/linear", "/v5/public/inverse")
    serves_history = True  # the kline and the open-interest history

    def __init__(self) -> None:
        super().__init__()
        self._tickers: dict[str, dict[str, str]] = {}
        self._ticker_ts: dict[str, int] = {}
        self._seq = itertools.count(1_783_284_617)

    # ------------------------------------------------------------------ protocol

    def accept(self, session: SimSession, topics: list[str]) -> tuple[list[str], list[str]]:
        inverse = session.path.endswith("/inverse")
        bad: list[str] = []
        snapshots: list[str] = []
        for topic in topics:
            kind, _, symbol = topic.partition(".")
            if kind not in _TOPIC_KINDS or symbol.endswith("USD") != inverse:
                bad.append(topic)
                continue
            session.subscriptions.add(topic)
            if kind == "tickers" and symbol in self._tickers:
                snapshots.append(self._ticker_frame(symbol, "snapshot", self._tickers[symbol]))
        return bad, snapshots

    def unknown_frame(self) -> str:
        return (
            '{"topic":"adlAlert.USDT","type":"snapshot","ts":1781416439080,'
            '"data":[{"c":"USDT","s":"BTCUSDT","b":"1.0","bw":"0.1"}]}'
        )

    # ------------------------------------------------------------------ events

    def render(self, event: Event, inst: Instrument) -> list[tuple[str, str]]:
        sym = event.symbol
        ts_ms = event.ts_event // NS_PER_MS
        if isinstance(event, Trade):
            trade = {
                "T": ts_ms,
                "s": sym,
                "S": "Buy" if event.side == "buy" else "Sell",
                "v": self.num(inst.contracts_for(event.size, event.notional_usd)),
                "p": self.num(event.price * inst.multiplier),
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
                "v": self.num(inst.contracts_for(event.size, event.notional_usd)),
                "p": self.num(event.price * inst.multiplier),
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
                "markPrice": self.num(event.mark_price * inst.multiplier),
                "fundingRate": self.num(event.rate),
                "fundingIntervalHour": self.num(event.interval_h),
                "nextFundingTime": str((event.next_funding_ts or 0) // NS_PER_MS),
            }
        if isinstance(event, OpenInterest):
            single = inst.contracts_for(event.size, event.notional_usd)
            mark = state.get("markPrice") or self.num(
                event.notional_usd / event.size * inst.multiplier
            )
            value = event.size if inst.inverse else event.notional_usd  # BTC for inverse
            return {
                "markPrice": mark,
                "openInterest": self.num(2 * single),  # both sides
                "openInterestValue": self.num(2 * value),
                "singleOpenInterest": self.num(single),
                "singleOpenInterestValue": self.num(value),
            }
        if isinstance(event, Quote):
            m = inst.multiplier
            out = {"bid1Price": self.num(event.bid * m), "ask1Price": self.num(event.ask * m)}
            if event.bid_size is not None:
                out["bid1Size"] = self._book_size(inst, event.bid_size, event.bid)
            if event.ask_size is not None:
                out["ask1Size"] = self._book_size(inst, event.ask_size, event.ask)
            return out
        return None

    def _book_size(self, inst: Instrument, size: float, price: float) -> str:
        """A quote level's size: base coin (linear) or USD contracts (inverse)."""
        return self.num(inst.contracts_for(size, size * price))

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
        return _envelope(0, "OK", result, self.clock_ns // NS_PER_MS)

    def _error(self, msg: str) -> RestReply:
        return _envelope(10001, msg, {}, self.clock_ns // NS_PER_MS)

    def _instruments(self, query: Mapping[str, str]) -> RestReply:
        category = query.get("category", "")
        if category not in ("linear", "inverse"):
            return _envelope(10001, "Illegal category", {}, 0)
        inverse = category == "inverse"
        rows = [
            {
                "symbol": i.symbol,
                "contractType": "InversePerpetual" if i.inverse else "LinearPerpetual",
                "status": "Trading",
                "baseCoin": i.symbol[: -len(i.quote)] if i.multiplier != 1 else i.base,
                "quoteCoin": i.quote,
                "settleCoin": i.base if i.inverse else i.quote,
                "fundingInterval": int(i.funding_interval_h * 60),
                "priceScale": "2",
            }
            for i in self.instruments.values()
            if i.inverse == inverse
        ]
        return _envelope(0, "OK", {"category": category, "list": rows, "nextPageCursor": ""}, 0)

    def _history_query(
        self,
        query: Mapping[str, str],
        span: tuple[str, str],
        limits: tuple[int, int],
        interval: tuple[str, Mapping[str, int]],
        default_category: str = "",
    ) -> _HistoryQuery | str:
        """Validate a history query, or return the error message.

        Args:
            query: the request's parameters.
            span: the names of its start and end parameters.
            limits: the largest and the default ``limit``.
            interval: the name of its interval parameter and the intervals it takes (→ ms).
            default_category: the category when the query names none.
        """
        category = query.get("category", default_category)
        if category not in ("linear", "inverse"):
            return "Illegal category"
        inst = self.instruments.get(query.get("symbol", ""))
        if inst is None or inst.inverse != (category == "inverse"):
            return "params error: symbol invalid"
        start_key, end_key = span
        max_limit, default_limit = limits
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
        interval_key, intervals = interval
        size_ms = intervals.get(query.get(interval_key, ""))
        if size_ms is None:
            return f"params error: invalid {interval_key}"
        return _HistoryQuery(category, inst, start, end, limit, size_ms)

    def _buckets(
        self, symbol: str, size_ms: int, start: int | None, end: int | None, keep: str
    ) -> list[tuple[int, list[HourRow]]]:
        """Hourly rows with a ``keep`` value (``price`` or ``oi``), grouped into buckets of
        ``size_ms``, with ``start <= bucket <= end``; newest first."""
        rows = (
            r
            for r in self.hourly.rows(symbol)
            if (r.price if keep == "price" else r.oi_base or r.oi_usd) > 0
        )
        return [
            (b, hours)
            for b, hours in reversed(hour_buckets(rows, size_ms))
            if (start is None or b >= start) and (end is None or b <= end)
        ]

    def _klines(self, query: Mapping[str, str]) -> RestReply:
        """``GET /v5/market/kline``: candles of the hourly prices, newest first."""
        q = self._history_query(
            query, ("start", "end"), (1000, 200), ("interval", _KLINE_INTERVALS), "linear"
        )
        if isinstance(q, str):
            return self._error(q)
        buckets = self._buckets(q.inst.symbol, q.size_ms, q.start, q.end, "price")
        rows = []
        for b, hours in buckets[: q.limit]:
            rows.append([str(b), *map(self.num, ohlc(hours)), "0", "0"])
        return self._ok({"symbol": q.inst.symbol, "category": q.category, "list": rows})

    def _open_interest(self, query: Mapping[str, str]) -> RestReply:
        """``GET /v5/market/open-interest``: the last open interest of each interval, newest
        first; ``nextPageCursor`` continues with older rows."""
        q = self._history_query(
            query, ("startTime", "endTime"), (200, 50), ("intervalTime", _OI_INTERVALS)
        )
        if isinstance(q, str):
            return self._error(q)
        inst, end, limit = q.inst, q.end, q.limit
        cursor = query.get("cursor", "")
        if cursor:
            if not cursor.startswith(_CURSOR_PREFIX):
                return self._error("params error: invalid cursor")
            before = int(cursor.removeprefix(_CURSOR_PREFIX)) - 1
            end = before if end is None else min(end, before)
        buckets = self._buckets(inst.symbol, q.size_ms, q.start, end, "oi")
        page = buckets[:limit]
        rows = []
        for b, hours in page:
            last = hours[-1]
            single = inst.contracts_for(last.oi_base, last.oi_usd)
            rows.append(
                {
                    "openInterest": f"{2 * single:.8f}",
                    "singleOpenInterest": self.num(single),
                    "timestamp": str(b),
                }
            )
        more = len(buckets) > limit
        return self._ok(
            {
                "symbol": inst.symbol,
                "category": q.category,
                "list": rows,
                "nextPageCursor": f"{_CURSOR_PREFIX}{page[-1][0]}" if more else "",
            }
        )


def _envelope(code: int, msg: str, result: Mapping[str, object], time_ms: int) -> RestReply:
    """Bybit's REST envelope (HTTP 200 for errors too: ``retCode`` says)."""
    return RestReply(
        200,
        {"retCode": code, "retMsg": msg, "result": result, "retExtInfo": {}, "time": time_ms},
    )


def _push(topic: str, kind: str, ts_ms: int, data: object) -> str:
    return msgspec.json.encode({"topic": topic, "type": kind, "ts": ts_ms, "data": data}).decode()
