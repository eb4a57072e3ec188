"""Bybit v5 [bybit-linear] start-up backfill: parsers, request plan, simulator over HTTP."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Sequence
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest

from monitor.backfill import backfill_venue
from monitor.simulator.server import ExchangeSimulator
from monitor.simulator.venues.bybit_linear import BybitLinearSim
from monitor.venues import get_venue, load_registry, packaged_instruments
from monitor.venues.base import BackfillRequest, VenueEndpoints
from monitor.venues.bybit_linear import (
    VENUE,
    parse_klines,
    parse_open_interest,
    plan_backfill,
)
from streams.events import Event, Funding, OpenInterest, Trade
from streams.processors import default_processors
from tests.helpers import SeedRecorder

V = "bybit-linear"
MS = 1_000_000
H_MS = 3_600_000
H = H_MS * MS
DAY_MS = 24 * H_MS
EP = VenueEndpoints(ws="wss://stream.bybit.com", rest="https://api.bybit.com/")

# ---------------------------------------------------------------------- documented examples

# docs/v5/market/kline.mdx, "Response Example" (GET /v5/market/kline?category=inverse&symbol=BTCUSD
# &interval=60&start=1670601600000&end=1670608800000)
KLINE_DOC = b"""{
    "retCode": 0,
    "retMsg": "OK",
    "result": {
        "symbol": "BTCUSD",
        "category": "inverse",
        "list": [
            ["1670608800000", "17071", "17073", "17027", "17055.5", "268611", "15.74462667"],
            ["1670605200000", "17071.5", "17071.5", "17061", "17071", "4177", "0.24469757"],
            ["1670601600000", "17086.5", "17088", "16978", "17071.5", "6356", "0.37288112"]
        ]
    },
    "retExtInfo": {},
    "time": 1672025956592
}"""

# https://bybit-exchange.github.io/docs/v5/market/open-interest, "Response Example" (GET
# /v5/market/open-interest?limit=5&category=inverse&intervalTime=1d&symbol=BTCUSD): the first
# four rows as published (the fifth is cut off in the stored page)
OI_DOC = b"""{
    "retCode": 0,
    "retMsg": "OK",
    "result": {
        "symbol": "BTCUSD",
        "category": "inverse",
        "list": [
            {"openInterest": "63910691.00000000", "singleOpenInterest": "31955346",
             "timestamp": "1780963200000"},
            {"openInterest": "63910691.00000000", "singleOpenInterest": "31955346",
             "timestamp": "1780876800000"},
            {"openInterest": "63910691.00000000", "singleOpenInterest": "31955346",
             "timestamp": "1780790400000"},
            {"openInterest": "63942311.00000000", "singleOpenInterest": "31971156",
             "timestamp": "1780704000000"}
        ],
        "nextPageCursor": ""
    },
    "retExtInfo": {},
    "time": 1672053548579
}"""

# docs/v5/market/open-interest.mdx before singleOpenInterest (intervalTime=5min)
OI_DOC_OLD = b"""{
    "retCode": 0,
    "retMsg": "OK",
    "result": {
        "symbol": "BTCUSD",
        "category": "inverse",
        "list": [
            {"openInterest": "461134384.00000000", "timestamp": "1669571400000"},
            {"openInterest": "461134292.00000000", "timestamp": "1669571100000"}
        ],
        "nextPageCursor": ""
    },
    "retExtInfo": {},
    "time": 1672053548579
}"""

ERROR_BODY = b'{"retCode":10001,"retMsg":"Illegal category","result":{},"retExtInfo":{},"time":1}'


def test_parse_klines_documented_example() -> None:
    """Each candle gives its close at its close time (start + interval - 1 ms), newest first."""
    assert parse_klines(KLINE_DOC, interval_ms=H_MS) == [
        ((1670608800000 + H_MS - 1) * MS, 17055.5),
        ((1670605200000 + H_MS - 1) * MS, 17071.0),
        ((1670601600000 + H_MS - 1) * MS, 17071.5),
    ]
    # the planned requests are 2 h candles: that is the default interval
    assert parse_klines(KLINE_DOC)[0] == ((1670608800000 + 2 * H_MS - 1) * MS, 17055.5)


def test_parse_open_interest_documented_examples() -> None:
    """``singleOpenInterest`` (one side) is taken; without it ``openInterest`` as published."""
    assert parse_open_interest(OI_DOC) == [
        (1780963200000 * MS, 31955346.0),
        (1780876800000 * MS, 31955346.0),
        (1780790400000 * MS, 31955346.0),
        (1780704000000 * MS, 31971156.0),
    ]
    assert parse_open_interest(OI_DOC_OLD) == [
        (1669571400000 * MS, 461134384.0),
        (1669571100000 * MS, 461134292.0),
    ]


@pytest.mark.parametrize("parse", [parse_klines, parse_open_interest])
def test_parsers_raise_value_error_on_errors(parse: object) -> None:
    """``retCode != 0`` (HTTP 200) and malformed bodies raise ValueError, which the backfill
    logs and skips."""
    assert callable(parse)
    with pytest.raises(ValueError, match=r"retCode 10001 \(Illegal category\)"):
        parse(ERROR_BODY)
    with pytest.raises(ValueError):
        parse(b"<html>bad gateway</html>")
    with pytest.raises(ValueError):
        parse(b'{"retCode":0,"result":{"list":[["1670608800000","1"]]}}')
    empty = b'{"retCode":0,"retMsg":"OK","result":{"list":[]},"retExtInfo":{},"time":1}'
    assert parse(empty) == []


# ---------------------------------------------------------------------- plan


def _params(req: BackfillRequest) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(req.url).query, strict_parsing=True).items()}


def _windows(reqs: Sequence[BackfillRequest], start: str, end: str) -> list[tuple[int, int]]:
    return [(int(_params(r)[start]), int(_params(r)[end])) for r in reqs]


def test_plan_backfill_windows_and_categories() -> None:
    """60 days of hourly OI in 200-hour windows and 90 days of 2 h klines, ending at now."""
    now = 1_780_000_123_456  # not on an hour
    reqs = plan_backfill(EP, ["BTCUSDT", "BTCUSD"], now_ms=now)
    assert reqs == plan_backfill(EP, ["BTCUSDT", "BTCUSD"], now_ms=now)  # deterministic
    for sym, category, unit in (("BTCUSDT", "linear", "base"), ("BTCUSD", "inverse", "usd")):
        prices = [r for r in reqs if r.symbol == sym and r.kind == "price"]
        ois = [r for r in reqs if r.symbol == sym and r.kind == "open_interest"]
        assert len(prices) == 6  # 1080 candles / 200
        assert len(ois) == 8  # 1440 h / 200 h
        for r in prices:
            assert urlsplit(r.url).path == "/v5/market/kline"
            assert r.url.startswith("https://api.bybit.com/v5/")
            p = _params(r)
            assert (p["category"], p["symbol"], p["interval"], p["limit"]) == (
                category,
                sym,
                "120",
                "200",
            )
            assert r.parse is parse_klines
        for r in ois:
            assert urlsplit(r.url).path == "/v5/market/open-interest"
            p = _params(r)
            assert (p["category"], p["symbol"], p["intervalTime"], p["limit"]) == (
                category,
                sym,
                "1h",
                "200",
            )
            assert r.unit == unit
            assert r.parse is parse_open_interest
        for wins, span, total in (
            (_windows(prices, "start", "end"), 200 * 2 * H_MS, 90 * DAY_MS),
            (_windows(ois, "startTime", "endTime"), 200 * H_MS, 60 * DAY_MS),
        ):
            assert wins[0][0] == now - total
            assert wins[-1][1] == now
            for (_, end), (nxt, _) in itertools.pairwise(wins):
                assert nxt == end + 1  # no gap, no overlap (both bounds inclusive)
            assert all(0 <= e - s < span for s, e in wins)  # at most one request's rows


def test_plan_backfill_default_now_and_spec() -> None:
    """The daemon calls ``spec.backfill(endpoints, symbols)``: the windows end at the clock."""
    assert VENUE.backfill is plan_backfill
    assert get_venue(V).backfill is plan_backfill
    before = int(time.time() * 1000)
    reqs = VENUE.backfill(EP, ["ETHUSDT"])
    after = int(time.time() * 1000)
    assert before <= int(_params(reqs[-1])["endTime"]) <= after
    assert plan_backfill(EP, []) == []


# ---------------------------------------------------------------------- simulator


def _inst_fields(symbol: str) -> dict[str, str]:
    inst = {i.symbol: i for i in packaged_instruments(V)}[symbol]
    return {"venue": V, "symbol": symbol, "instrument": inst.instrument, "asset": inst.base}


def _funding(symbol: str, ts: int, mark: float) -> Event:
    return Funding(
        **_inst_fields(symbol),
        ts_event=ts,
        ts_recv=0,
        rate=0.0001,
        interval_h=8.0,
        rate_8h=0.0001,
        mark_price=mark,
    )


def _trade(symbol: str, ts: int, price: float) -> Event:
    return Trade(
        **_inst_fields(symbol),
        ts_event=ts,
        ts_recv=0,
        price=price,
        size=1.0,
        notional_usd=price,
        side="buy",
    )


def _oi(symbol: str, ts: int, size: float, usd: float) -> Event:
    return OpenInterest(**_inst_fields(symbol), ts_event=ts, ts_recv=0, size=size, notional_usd=usd)


def _body(reply: object) -> dict[str, object]:
    body = getattr(reply, "body", None)
    assert isinstance(body, dict)
    return body


def test_sim_serves_history_in_bybit_envelope() -> None:
    """Newest first, start/end and limit honoured, cursor paging, 10001 for bad parameters."""
    sim = BybitLinearSim()
    t0 = 1_780_000_000_000 // (4 * H_MS) * (4 * H_MS)  # a 4 h boundary, ms
    for h in range(6):
        ts = (t0 + h * H_MS) * MS
        sim.encode(_funding("BTCUSDT", ts, 100.0 + h))
        sim.encode(_oi("BTCUSDT", ts, 10.0 + h, (10.0 + h) * (100.0 + h)))
        sim.encode(_oi("BTCUSD", ts, 1.0, 5000.0 + h))
    kl = _body(
        sim.rest(
            "/v5/market/kline",
            {"category": "linear", "symbol": "BTCUSDT", "interval": "240", "start": str(t0)},
        )
    )
    assert kl["retCode"] == 0
    assert kl["retMsg"] == "OK"
    assert kl["retExtInfo"] == {}
    assert kl["result"] == {
        "symbol": "BTCUSDT",
        "category": "linear",
        "list": [
            [str(t0 + 4 * H_MS), "104", "105", "104", "105", "0", "0"],
            [str(t0), "100", "103", "100", "103", "0", "0"],
        ],
    }
    one = _body(
        sim.rest(
            "/v5/market/kline",
            {"category": "linear", "symbol": "BTCUSDT", "interval": "60", "limit": "2"},
        )
    )
    assert [r[0] for r in one["result"]["list"]] == [  # type: ignore[index]
        str(t0 + 5 * H_MS),
        str(t0 + 4 * H_MS),
    ]
    q = {
        "category": "inverse",
        "symbol": "BTCUSD",
        "intervalTime": "1h",
        "startTime": str(t0 + H_MS),
        "endTime": str(t0 + 4 * H_MS),
        "limit": "3",
    }
    page1 = _body(sim.rest("/v5/market/open-interest", q))["result"]
    assert isinstance(page1, dict)
    assert page1["list"] == [
        {
            "openInterest": f"{2 * (5000.0 + h):.8f}",
            "singleOpenInterest": str(5000 + h),
            "timestamp": str(t0 + h * H_MS),
        }
        for h in (4, 3, 2)
    ]
    assert page1["nextPageCursor"]
    page2 = _body(sim.rest("/v5/market/open-interest", {**q, "cursor": page1["nextPageCursor"]}))
    assert page2["result"] == {
        "symbol": "BTCUSD",
        "category": "inverse",
        "list": [
            {
                "openInterest": f"{2 * 5001.0:.8f}",
                "singleOpenInterest": "5001",
                "timestamp": str(t0 + H_MS),
            }
        ],
        "nextPageCursor": "",
    }
    linear = _body(
        sim.rest(
            "/v5/market/open-interest",
            {"category": "linear", "symbol": "BTCUSDT", "intervalTime": "1h", "limit": "1"},
        )
    )["result"]
    assert linear["list"] == [  # type: ignore[index]
        {"openInterest": "30.00000000", "singleOpenInterest": "15", "timestamp": str(t0 + 5 * H_MS)}
    ]
    bad = [
        ("/v5/market/kline", {"category": "spot", "symbol": "BTCUSDT", "interval": "60"}),
        ("/v5/market/kline", {"category": "inverse", "symbol": "BTCUSDT", "interval": "60"}),
        ("/v5/market/kline", {"category": "linear", "symbol": "BTCUSDT", "interval": "7"}),
        ("/v5/market/kline", {"symbol": "BTCUSDT", "interval": "60", "limit": "1001"}),
        ("/v5/market/open-interest", {"symbol": "BTCUSDT", "intervalTime": "1h"}),
        (
            "/v5/market/open-interest",
            {"category": "linear", "symbol": "BTCUSDT", "intervalTime": "1h", "limit": "201"},
        ),
        (
            "/v5/market/open-interest",
            {"category": "linear", "symbol": "BTCUSDT", "intervalTime": "2h"},
        ),
    ]
    for path, query in bad:
        reply = sim.rest(path, query)
        assert reply is not None
        assert reply.status == 200
        body = _body(reply)
        assert body["retCode"] == 10001, (path, query)
        assert body["result"] == {}
        with pytest.raises(ValueError, match="retCode 10001"):
            (parse_klines if path.endswith("kline") else parse_open_interest)(
                json.dumps(body).encode()
            )
    inst = _body(sim.rest("/v5/market/instruments-info", {"category": "inverse"}))
    assert {r["symbol"] for r in inst["result"]["list"]} == {"BTCUSD", "ETHUSD"}  # type: ignore[index]


N_HOURS = 300  # more than one 200-hour page


async def test_backfill_end_to_end_over_http() -> None:
    """Linear OI (base coin) is valued at the kline closes, inverse OI is USD; pages join."""
    now_h = time.time_ns() // H * H
    hours = [now_h - (N_HOURS - 1 - i) * H for i in range(N_HOURS)]  # ending at this hour
    px = {t: 100_000.0 + 10.0 * i for i, t in enumerate(hours)}
    base = {t: 50_000.0 + i for i, t in enumerate(hours)}
    inv = {t: 4e8 + 1e5 * i for i, t in enumerate(hours)}
    sim = BybitLinearSim()
    for t in hours:
        sim.encode(_funding("BTCUSDT", t, px[t]))
        sim.encode(_oi("BTCUSDT", t, base[t], base[t] * px[t]))
        sim.encode(_trade("BTCUSD", t, px[t] - 5.0))
        sim.encode(_oi("BTCUSD", t, inv[t] / px[t], inv[t]))
    price, oi_rec = SeedRecorder(), SeedRecorder()
    async with ExchangeSimulator([sim]) as server, aiohttp.ClientSession() as http:
        n = await backfill_venue(
            get_venue(V),
            VenueEndpoints(ws=server.ws_base(V), rest=server.rest_base(V)),
            ["BTCUSDT", "BTCUSD", "*"],
            load_registry(V),
            http,
            {"price": price, "open_interest": oi_rec},
        )

    # 2 h candles: the close of each (the last hour's price) at start + 2 h - 1 ms
    two_h = 2 * H
    buckets = sorted({t // two_h * two_h for t in hours})

    def closes(shift: float) -> list[tuple[int, float]]:
        return [
            (b + two_h - MS, max(px[t] for t in hours if t // two_h * two_h == b) - shift)
            for b in buckets
        ]

    # one price series per asset: the longest (BTCUSDT's, listed first; BTCUSD's has as many)
    assert [(a, v) for a, v, _ in price.seeds] == [("BTC", V)]
    assert price.seeds[0][2] == closes(0.0)

    # linear: base size x the nearest 2 h close (a candle's start hour takes the previous
    # candle's close, 1 ms before it; its second hour takes its own close, the hour's price)
    first_close = closes(0.0)[0][1]

    def valued(t: int) -> float:
        if t % two_h == 0:
            return base[t] * px.get(t - H, first_close)
        return base[t] * px[t]

    # one open-interest series per asset: linear (valued) + inverse (USD), as live totals are
    assert [(a, v) for a, v, _ in oi_rec.seeds] == [("BTC", V)]
    total = oi_rec.seeds[0][2]
    assert [t for t, _ in total] == hours  # continuous across the 200-hour windows
    assert total == [(t, pytest.approx(valued(t) + inv[t], rel=1e-12)) for t in hours]
    assert all(b - a == H for (a, _), (b, _) in itertools.pairwise(total))
    assert n == len(buckets) + N_HOURS


async def test_backfill_seeds_real_processors_for_drawdown() -> None:
    """Seeded linear OI history (valued at the closes) makes the 60-day peak meaningful."""
    procs = {p.name: p for p in default_processors()}
    now_h = time.time_ns() // H * H
    sim = BybitLinearSim()
    for i in range(250):
        t = now_h - (250 - i) * H
        sim.encode(_funding("BTCUSDT", t, 100_000.0))
        sim.encode(_oi("BTCUSDT", t, 100_000.0, 10e9))
    async with ExchangeSimulator([sim]) as server, aiohttp.ClientSession() as http:
        await backfill_venue(
            get_venue(V),
            VenueEndpoints(ws=server.ws_base(V), rest=server.rest_base(V)),
            ["BTCUSDT"],
            load_registry(V),
            http,
            {"open_interest": procs["open_interest"]},  # type: ignore[dict-item]
        )
    oi = procs["open_interest"]
    now = now_h + 60 * 1_000_000_000
    oi.on_event(_oi("BTCUSDT", now, 70_000.0, 7e9))
    signals = oi.on_tick(now + 1_000_000_000)
    dd = [s.value for s in signals if s.name == "oi_drawdown_pct" and s.labels["asset"] == "BTC"]
    assert dd
    assert round(dd[-1], 6) == -30.0
