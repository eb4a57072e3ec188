"""OKX v5 public websocket on the simulator: ``/ws/v5/public``.

Speaks OKX's ``{"op":"subscribe","args":[{"channel":..,"instId":..}]}`` handshake (one
``"event":"subscribe"`` ack per arg, ``"event":"error"`` for unknown channels), answers the text
``ping`` with ``pong``, and renders events in contracts (``size / ctVal``; inverse swaps: USD /
ctVal). A funding event also pushes a ``mark-price`` frame, since ``funding-rate`` has no mark.

REST: the instrument list, candles (``/api/v5/market/candles`` and ``history-candles``) and the
contract open-interest history (``/api/v5/rubik/stat/contracts/open-interest-history``), served
from the hourly history of the published events in OKX's ``{"code","msg","data"}`` envelope.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping

import msgspec

from monitor.instruments import Instrument
from monitor.simulator.base import (
    HourRow,
    RestReply,
    SimSession,
    SimVenue,
    hour_buckets,
    json_object,
    ohlc,
)
from streams.events import Event, Funding, Liquidation, OpenInterest, Quote, Trade
from streams.units import MS_PER_HOUR, NS_PER_MS

__all__ = ["OkxSwapSim"]

_INST_CHANNELS = frozenset({"trades", "funding-rate", "open-interest", "mark-price", "tickers"})
_INST_TYPES = frozenset({"SWAP", "FUTURES", "MARGIN", "OPTION"})
_CANDLE_PATHS = frozenset({"/api/v5/market/candles", "/api/v5/market/history-candles"})
_OI_HISTORY_PATH = "/api/v5/rubik/stat/contracts/open-interest-history"
_CANDLE_LIMIT = 300
_OI_LIMIT = 100
_UTC8_MS = 8 * MS_PER_HOUR
# bar / period → (length, alignment offset): 6H and longer open on UTC+8 boundaries unless
# "utc"; bars shorter than an hour cannot be built from hourly history and are refused
_BARS: dict[str, tuple[int, int]] = {
    "1H": (MS_PER_HOUR, 0),
    "2H": (2 * MS_PER_HOUR, 0),
    "4H": (4 * MS_PER_HOUR, 0),
    "6H": (6 * MS_PER_HOUR, _UTC8_MS),
    "12H": (12 * MS_PER_HOUR, _UTC8_MS),
    "1D": (24 * MS_PER_HOUR, _UTC8_MS),
    "6Hutc": (6 * MS_PER_HOUR, 0),
    "12Hutc": (12 * MS_PER_HOUR, 0),
    "1Dutc": (24 * MS_PER_HOUR, 0),
}


class OkxSwapSim(SimVenue):
    """OKX's public websocket and its instrument, candle and open-interest-history REST
    endpoints."""

    venue = "okx-swap"
    ws_paths = ("/ws/v5/public",)
    serves_history = True  # the candles and the open-interest history

    def __init__(self) -> None:
        super().__init__()
        self._trade_id = itertools.count(2_701_364_977)

    # ------------------------------------------------------------------ protocol

    def on_message(self, session: SimSession, text: str) -> list[str]:
        conn_id = f"{id(session) & 0xFFFFFFFF:08x}"
        if text == "ping":
            session.pings += 1
            return ["pong"]
        req = json_object(text)
        if req is None:
            return [_error("", "60012", f"Invalid request: {text[:64]}", conn_id)]
        rid = str(req.get("id", ""))
        op = req.get("op")
        if op not in ("subscribe", "unsubscribe"):
            return [_error(rid, "60019", f"Invalid op: {op}", conn_id)]
        out: list[str] = []
        for arg in req.get("args") or []:
            if not isinstance(arg, dict):
                out.append(_error(rid, "60012", "Invalid request", conn_id))
                continue
            topic = _topic(arg)
            if topic is None:
                msg = (
                    f"Wrong URL or channel:{arg.get('channel')},instId:{arg.get('instId')} "
                    "doesn't exist. Please use the correct URL, channel and parameters "
                    "referring to API document."
                )
                out.append(_error(rid, "60018", msg, conn_id))
                continue
            if op == "subscribe":
                session.subscriptions.add(topic)
            else:
                session.subscriptions.discard(topic)
            ack: dict[str, object] = {"event": op, "arg": arg, "connId": conn_id}
            if rid:
                ack = {"id": rid, **ack}
            out.append(msgspec.json.encode(ack).decode())
        return out

    def unknown_frame(self) -> str:
        return (
            '{"arg":{"channel":"adl-warning","instType":"SWAP","instFamily":"BTC-USDT"},'
            '"data":[{"instType":"SWAP","instFamily":"BTC-USDT","state":"normal","bal":"280",'
            '"ccy":"USDT","ts":"1781416439080"}]}'
        )

    # ------------------------------------------------------------------ events

    def render(self, event: Event, inst: Instrument) -> list[tuple[str, str]]:
        sym = event.symbol
        ts = str(event.ts_event // NS_PER_MS)
        if isinstance(event, Trade):
            data = {
                "instId": sym,
                "tradeId": str(next(self._trade_id)),
                "px": self.num(event.price),
                "sz": self.num(inst.contracts_for(event.size, event.notional_usd)),
                "side": event.side,
                "ts": ts,
                "count": "1",
                "source": "0",
                "seqId": next(self._trade_id),
            }
            return [_push(f"trades:{sym}", {"channel": "trades", "instId": sym}, [data])]
        if isinstance(event, Liquidation):
            family = f"{inst.base}-{inst.quote}"
            detail = {
                "bkLoss": "0",
                "bkPx": self.num(event.price),
                "ccy": "",
                "posSide": "net",
                "side": "sell" if event.side == "long" else "buy",  # net mode: order side
                "sz": self.num(inst.contracts_for(event.size, event.notional_usd)),
                "ts": ts,
            }
            data = {
                "details": [detail],
                "instFamily": family,
                "instId": sym,
                "instType": "SWAP",
                "uly": family,
            }
            arg = {"channel": "liquidation-orders", "instType": "SWAP"}
            return [_push("liquidation-orders:SWAP", arg, [data])]
        if isinstance(event, Funding):
            funding_ms = (event.next_funding_ts or event.ts_event) // NS_PER_MS
            data = {
                "formulaType": "noRate",
                "fundingRate": self.num(event.rate),
                "fundingTime": str(funding_ms),
                "impactValue": "",
                "instId": sym,
                "instType": "SWAP",
                "interestRate": "",
                "method": "current_period",
                "maxFundingRate": "0.00375",
                "minFundingRate": "-0.00375",
                "nextFundingRate": "",
                "nextFundingTime": str(funding_ms + round(event.interval_h * MS_PER_HOUR)),
                "premium": "0",
                "settFundingRate": self.num(event.rate),
                "settState": "settled",
                "ts": ts,
            }
            mark = {
                "instId": sym,
                "instType": "SWAP",
                "markPx": self.num(event.mark_price),
                "ts": ts,
            }
            return [
                _push(f"mark-price:{sym}", {"channel": "mark-price", "instId": sym}, [mark]),
                _push(f"funding-rate:{sym}", {"channel": "funding-rate", "instId": sym}, [data]),
            ]
        if isinstance(event, OpenInterest):
            data = {
                "instId": sym,
                "instType": "SWAP",
                "oi": self.num(inst.contracts_for(event.size, event.notional_usd)),
                "oiCcy": self.num(event.size),
                "oiUsd": self.num(event.notional_usd),
                "ts": ts,
            }
            arg = {"channel": "open-interest", "instId": sym}
            return [_push(f"open-interest:{sym}", arg, [data])]
        if isinstance(event, Quote):
            data = {
                "instType": "SWAP",
                "instId": sym,
                "last": self.num((event.bid + event.ask) / 2),
                "lastSz": "1",
                "askPx": self.num(event.ask),
                "askSz": self._book_size(inst, event.ask_size, event.ask),
                "bidPx": self.num(event.bid),
                "bidSz": self._book_size(inst, event.bid_size, event.bid),
                "open24h": self.num(event.bid),
                "high24h": self.num(event.ask),
                "low24h": self.num(event.bid),
                "volCcy24h": "0",
                "vol24h": "0",
                "sodUtc0": self.num(event.bid),
                "sodUtc8": self.num(event.bid),
                "ts": ts,
            }
            return [_push(f"tickers:{sym}", {"channel": "tickers", "instId": sym}, [data])]
        return []

    def _book_size(self, inst: Instrument, size: float | None, price: float) -> str:
        """A quote level's ``sz`` in contracts (empty when the quote has none)."""
        if size is None:
            return ""
        return self.num(inst.contracts_for(size, size * price))

    # ------------------------------------------------------------------ REST

    def rest(self, path: str, query: Mapping[str, str]) -> RestReply | None:
        if path in _CANDLE_PATHS:
            return self._candles(query)
        if path == _OI_HISTORY_PATH:
            return self._open_interest_history(query)
        if path != "/api/v5/public/instruments":
            return None
        if query.get("instType") != "SWAP":
            return _rest_error(400, "51000", "Parameter instType error")
        rows = []
        for i in self.instruments.values():
            family = f"{i.base}-{i.quote}"
            rows.append(
                {
                    "instType": "SWAP",
                    "instId": i.symbol,
                    "uly": family,
                    "instFamily": family,
                    "baseCcy": "",
                    "quoteCcy": "",
                    "settleCcy": i.base if i.inverse else i.quote,
                    "ctVal": self.num(i.contract_size),
                    "ctMult": "1",
                    "ctValCcy": "USD" if i.inverse else i.base,
                    "ctType": "inverse" if i.inverse else "linear",
                    "state": "live",
                    "listTime": "1606468572000",
                    "lotSz": "0.01",
                    "minSz": "0.01",
                    "tickSz": "0.1",
                }
            )
        return RestReply(200, {"code": "0", "msg": "", "data": rows})

    def _candles(self, query: Mapping[str, str]) -> RestReply:
        """``[ts, o, h, l, c, vol, volCcy, volCcyQuote, confirm]`` per bar, newest first.

        ``after`` / ``before`` keep bars opening earlier / later than them (exclusive); the newest
        ``limit`` (≤300, default 100) of those are served. A bar is confirmed once it has ended by
        the venue's clock (the newest event published). Volumes are not simulated (``0``).
        """
        req = _history_request(query, "bar", "after", "before", _CANDLE_LIMIT, self.instruments)
        if isinstance(req, RestReply):
            return req
        sym, bar_ms, offset, upper, lower, limit = req
        rows = [r for r in self.hourly.rows(sym) if r.price > 0]
        clock_ms = self.clock_ns // NS_PER_MS
        data = []
        for start, block in _select(hour_buckets(rows, bar_ms, offset), upper, lower, limit):
            confirmed = "1" if start + bar_ms <= clock_ms else "0"
            data.append([str(start), *map(self.num, ohlc(block)), "0", "0", "0", confirmed])
        return RestReply(200, {"code": "0", "msg": "", "data": data})

    def _open_interest_history(self, query: Mapping[str, str]) -> RestReply:
        """``[ts, oi, oiCcy, oiUsd]`` per period (the last hourly value in it), newest first.

        ``end`` / ``begin`` keep periods starting earlier / later than them (exclusive); the
        newest ``limit`` (≤100, default 100) of those are served. ``oi`` is in contracts.
        """
        req = _history_request(query, "period", "end", "begin", _OI_LIMIT, self.instruments)
        if isinstance(req, RestReply):
            return req
        sym, bar_ms, offset, upper, lower, limit = req
        inst = self.instruments[sym]
        rows = [r for r in self.hourly.rows(sym) if r.oi_usd > 0]
        data = []
        for start, block in _select(hour_buckets(rows, bar_ms, offset), upper, lower, limit):
            last = block[-1]
            data.append(
                [
                    str(start),
                    self.num(inst.contracts_for(last.oi_base, last.oi_usd)),
                    self.num(last.oi_base),
                    self.num(last.oi_usd),
                ]
            )
        return RestReply(200, {"code": "0", "msg": "", "data": data})


_HistoryRequest = tuple[str, int, int, int | None, int | None, int]


def _history_request(
    query: Mapping[str, str],
    bar_key: str,
    upper_key: str,
    lower_key: str,
    max_limit: int,
    instruments: Mapping[str, Instrument],
) -> _HistoryRequest | RestReply:
    """Validate a history query: ``(instId, bar ms, offset ms, upper, lower, limit)``, or the
    error OKX answers (50014 missing instId, 51001 unknown instrument, 51000 bad parameter)."""
    sym = query.get("instId", "")
    if not sym:
        return _rest_error(400, "50014", "Parameter instId can not be empty.")
    if sym not in instruments:
        return _rest_error(
            200, "51001", "Instrument ID, Instrument ID code, or Spread ID doesn't exist."
        )
    bar = _BARS.get(query.get(bar_key, "5m" if bar_key == "period" else "1m"))
    if bar is None:
        return _rest_error(400, "51000", f"Parameter {bar_key} error")
    bounds: dict[str, int | None] = {}
    for key in (upper_key, lower_key):
        raw = query.get(key, "")
        if raw and not raw.isdigit():
            return _rest_error(400, "51000", f"Parameter {key} error")
        bounds[key] = int(raw) if raw else None
    raw_limit = query.get("limit", "100")
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= max_limit:
        return _rest_error(400, "51000", "Parameter limit error")
    return sym, bar[0], bar[1], bounds[upper_key], bounds[lower_key], int(raw_limit)


def _select(
    blocks: list[tuple[int, list[HourRow]]], upper: int | None, lower: int | None, limit: int
) -> list[tuple[int, list[HourRow]]]:
    """The newest ``limit`` blocks with ``lower < start < upper``, newest first."""
    kept = [
        b for b in blocks if (upper is None or b[0] < upper) and (lower is None or b[0] > lower)
    ]
    return kept[::-1][:limit]


def _rest_error(status: int, code: str, msg: str) -> RestReply:
    return RestReply(status, {"code": code, "msg": msg, "data": []})


def _topic(arg: Mapping[str, object]) -> str | None:
    channel = arg.get("channel")
    if channel == "liquidation-orders":
        inst_type = arg.get("instType")
        return f"liquidation-orders:{inst_type}" if inst_type in _INST_TYPES else None
    inst_id = arg.get("instId")
    if channel in _INST_CHANNELS and isinstance(inst_id, str) and inst_id:
        return f"{channel}:{inst_id}"
    return None


def _push(topic: str, arg: Mapping[str, str], data: object) -> tuple[str, str]:
    return topic, msgspec.json.encode({"arg": arg, "data": data}).decode()


def _error(rid: str, code: str, msg: str, conn_id: str) -> str:
    body: dict[str, str] = {"event": "error", "code": code, "msg": msg, "connId": conn_id}
    if rid:
        body = {"id": rid, **body}
    return msgspec.json.encode(body).decode()
