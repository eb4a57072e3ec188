"""OKX swaps [okx-swap] start-up backfill: parsers, the request plan, the simulator's history
endpoints, and the whole backfill over HTTP against the simulator."""

from __future__ import annotations

import time
from itertools import pairwise
from urllib.parse import parse_qs, urlsplit

import aiohttp
import msgspec
import pytest

from monitor.backfill import backfill_venue
from monitor.simulator.base import RestReply
from monitor.simulator.server import ExchangeSimulator
from monitor.simulator.venues.okx_swap import OkxSwapSim
from monitor.venues import get_venue, load_registry
from monitor.venues.base import BackfillRequest, VenueEndpoints
from monitor.venues.okx_swap import (
    VENUE,
    history_windows,
    parse_candles,
    parse_open_interest_history,
    plan_backfill,
)
from streams.events import Funding, OpenInterest, Trade
from tests.helpers import SeedRecorder

V = "okx-swap"
MS = 1_000_000  # ns per ms
HOUR = 3_600_000  # ms
BAR = 4 * HOUR
DAY = 24 * HOUR
NOW = 1_790_000_123_456  # a fixed "now" (ms), not on a bar boundary
T0 = 1_760_000_400_000 // BAR * BAR  # a 4-hour boundary in Oct 2025 (ms)
ENDPOINTS = VenueEndpoints(ws="wss://ws.okx.com:8443", rest="https://www.okx.com/")

# Response examples of OKX's docs (docs-v5 "Get candlesticks", "Get candlesticks history",
# "Get contract open interest history"), verbatim apart from whitespace.
CANDLES_DOC = b"""{"code":"0","msg":"","data":[
 ["1597026383085","3.721","3.743","3.677","3.708","8422410","22698348.04828491",
  "12698348.04828491","0"],
 ["1597026383085","3.731","3.799","3.494","3.72","24912403","67632347.24399722",
  "37632347.24399722","1"]]}"""
HISTORY_CANDLES_DOC = b"""{"code":"0","msg":"","data":[
 ["1597026383085","3.721","3.743","3.677","3.708","8422410","22698348.04828491",
  "12698348.04828491","1"],
 ["1597026383085","3.731","3.799","3.494","3.72","24912403","67632347.24399722",
  "37632347.24399722","1"]]}"""
OI_HISTORY_DOC = b"""{"code":"0","msg":"","data":[
 ["1701417600000","731377.57500501","111","8888888"],
 ["1701417500000","731377.57500501","111","8888888"]]}"""
UNKNOWN_INSTRUMENT = (
    b'{"code":"51001","msg":"Instrument ID, Instrument ID code, or Spread ID doesn\'t exist.",'
    b'"data":[]}'
)
RATE_LIMITED = b'{"msg":"Too Many Requests","code":"50011"}'


# ---------------------------------------------------------------------- parsers


def test_parse_candles_reads_the_documented_history_example() -> None:
    """Each row gives ``(open + 4 h - 1 ms, close)``: the close (index 4), not o/h/l/volumes."""
    close_ns = (1597026383085 + BAR - 1) * MS
    assert parse_candles(HISTORY_CANDLES_DOC) == [(close_ns, 3.708), (close_ns, 3.72)]


def test_parse_candles_drops_the_uncompleted_candle() -> None:
    """``confirm`` 0 (the newest candle of ``/market/candles``) is not a close yet."""
    assert parse_candles(CANDLES_DOC) == [((1597026383085 + BAR - 1) * MS, 3.72)]


def test_parse_candles_stamps_at_the_close_of_the_given_bar() -> None:
    assert parse_candles(HISTORY_CANDLES_DOC, bar_ms=HOUR)[0][0] == (1597026383085 + HOUR - 1) * MS


def test_parse_open_interest_history_reads_the_documented_example() -> None:
    """``[ts, oi, oiCcy, oiUsd]`` → ``(ts, oiUsd)``, oldest first; contracts and coin unused."""
    assert parse_open_interest_history(OI_HISTORY_DOC) == [
        (1701417500000 * MS, 8888888.0),
        (1701417600000 * MS, 8888888.0),
    ]


def test_empty_history_is_no_points() -> None:
    assert parse_candles(b'{"code":"0","msg":"","data":[]}') == []
    assert parse_open_interest_history(b'{"code":"0","msg":"","data":[]}') == []


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (UNKNOWN_INSTRUMENT, "51001: Instrument ID"),
        (RATE_LIMITED, "50011: Too Many Requests"),
    ],
)
def test_error_answers_raise_value_error(body: bytes, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        parse_candles(body)
    with pytest.raises(ValueError, match=match):
        parse_open_interest_history(body)


@pytest.mark.parametrize(
    "body",
    [
        b"<html>502 Bad Gateway</html>",
        b'{"code":"0","msg":"","data":[["1597026383085","3.721","3.743"]]}',
        b'{"code":"0","msg":"","data":[["1597026383085","x","y","z","w"]]}',
    ],
)
def test_malformed_bodies_raise_value_error(body: bytes) -> None:
    with pytest.raises(ValueError):
        parse_candles(body)
    with pytest.raises(ValueError):
        parse_open_interest_history(body)


# ---------------------------------------------------------------------- plan


def _query(req: BackfillRequest) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(req.url).query, strict_parsing=True).items()}


def _opens(lower: int, upper: int, bar: int) -> list[int]:
    """Bar opens strictly inside ``(lower, upper)``."""
    return list(range(lower // bar * bar + bar, upper, bar))


@pytest.mark.parametrize("now", [NOW, NOW // BAR * BAR, NOW // BAR * BAR + BAR - 1])
@pytest.mark.parametrize(
    ("kind", "path", "bar_key", "upper_key", "lower_key", "limit", "span", "pages"),
    [
        ("price", "/api/v5/market/history-candles", "bar", "after", "before", 300, 90 * DAY, 2),
        (
            "open_interest",
            "/api/v5/rubik/stat/contracts/open-interest-history",
            "period",
            "end",
            "begin",
            100,
            60 * DAY,
            4,
        ),
    ],
)
def test_plan_backfill_windows_tile_the_span_up_to_now(
    now: int,
    kind: str,
    path: str,
    bar_key: str,
    upper_key: str,
    lower_key: str,
    limit: int,
    span: int,
    pages: int,
) -> None:
    """Pages end at now, meet without gaps or overlaps, hold ≤ limit bars and reach the span."""
    reqs = [r for r in plan_backfill(ENDPOINTS, ["BTC-USDT-SWAP"], now_ms=now) if r.kind == kind]
    assert len(reqs) == pages
    windows = []
    for r in reqs:
        assert r.symbol == "BTC-USDT-SWAP"
        assert r.unit == "usd"
        assert r.url.startswith(f"https://www.okx.com{path}?")
        q = _query(r)
        assert q["instId"] == "BTC-USDT-SWAP"
        assert q[bar_key] == "4H"
        assert q["limit"] == str(limit)
        assert set(q) == {"instId", bar_key, upper_key, lower_key, "limit"}
        windows.append((int(q[lower_key]), int(q[upper_key])))
    assert windows[0][1] == now
    for (lower, _), (_, upper) in pairwise(windows):
        assert upper == lower  # the next (older) page ends where this one begins
    bounds = [b for w in windows for b in w if b != now]
    assert all(b % BAR != 0 for b in bounds)  # inclusive or exclusive reads agree
    per_page = [_opens(lower, upper, BAR) for lower, upper in windows]
    assert all(0 < len(p) <= limit for p in per_page)
    every = sorted(o for p in per_page for o in p)
    assert len(every) == len(set(every))
    assert every == list(range(every[0], every[-1] + BAR, BAR))  # contiguous
    assert every[-1] == (now - 1) // BAR * BAR  # the newest bar opening before now
    assert now - span - BAR < every[0] <= now - span  # reaches the whole span back


def test_plan_backfill_pages_every_symbol_alike_and_deterministically() -> None:
    syms = ["BTC-USDT-SWAP", "BTC-USD-SWAP"]
    reqs = plan_backfill(ENDPOINTS, syms, now_ms=NOW)
    assert reqs == plan_backfill(ENDPOINTS, syms, now_ms=NOW)
    assert [(r.kind, r.symbol) for r in reqs] == [
        (kind, sym) for sym in syms for kind in ["price"] * 2 + ["open_interest"] * 4
    ]
    assert [r.url.replace("BTC-USD-SWAP", "BTC-USDT-SWAP") for r in reqs[6:]] == [
        r.url for r in reqs[:6]
    ]
    assert plan_backfill(ENDPOINTS, [], now_ms=NOW) == []


def test_history_windows_split_at_the_limit() -> None:
    """541 four-hour bars (90 days and the bar open now) in pages of 300 and 241."""
    windows = history_windows(NOW, BAR, 90 * DAY, 300)
    assert [len(_opens(lo, hi, BAR)) for lo, hi in windows] == [300, 241]


def test_venue_spec_plans_backfill_from_two_arguments_at_the_current_time() -> None:
    """The daemon calls ``spec.backfill(endpoints, symbols)``: the windows end at the clock."""
    assert VENUE.backfill is plan_backfill
    assert VENUE.backfill_rate <= 2.5  # the rubik endpoint's 5 requests per 2 s per IP
    before = int(time.time() * 1000)
    reqs = VENUE.backfill(ENDPOINTS, ["ETH-USDT-SWAP"])
    after = int(time.time() * 1000)
    assert len(reqs) == 6
    assert before <= int(_query(reqs[0])["after"]) <= after
    assert before <= int(_query(reqs[2])["end"]) <= after


# ---------------------------------------------------------------------- simulator


def _funding(symbol: str, ts_ms: int, mark: float) -> Funding:
    return Funding(
        venue=V,
        symbol=symbol,
        instrument=symbol.removesuffix("-SWAP") + "-PERP",
        asset="BTC",
        ts_event=ts_ms * MS,
        ts_recv=0,
        rate=0.0001,
        interval_h=8.0,
        rate_8h=0.0001,
        mark_price=mark,
    )


def _trade(symbol: str, ts_ms: int, price: float) -> Trade:
    return Trade(
        venue=V,
        symbol=symbol,
        instrument=symbol.removesuffix("-SWAP") + "-PERP",
        asset="BTC",
        ts_event=ts_ms * MS,
        ts_recv=0,
        price=price,
        size=0.01,
        notional_usd=0.01 * price,
        side="buy",
    )


def _oi(symbol: str, ts_ms: int, usd: float, price: float) -> OpenInterest:
    return OpenInterest(
        venue=V,
        symbol=symbol,
        instrument=symbol.removesuffix("-SWAP") + "-PERP",
        asset="BTC",
        ts_event=ts_ms * MS,
        ts_recv=0,
        size=usd / price,
        notional_usd=usd,
    )


def _ok(reply: RestReply | None) -> list[list[str]]:
    assert reply is not None
    assert reply.status == 200
    assert isinstance(reply.body, dict)
    assert reply.body["code"] == "0"
    assert reply.body["msg"] == ""
    data = reply.body["data"]
    assert isinstance(data, list)
    return data


def _sim_with_hours(hours: int, symbol: str = "BTC-USDT-SWAP") -> OkxSwapSim:
    """Hour ``h`` (from T0): trades at 100 + h and 200 + h, OI 1e9 + 1e6 h USD at price 50 000."""
    sim = OkxSwapSim()
    for h in range(hours):
        ts = T0 + h * HOUR
        sim.encode(_trade(symbol, ts, 200.0 + h))
        sim.encode(_trade(symbol, ts + 60_000, 100.0 + h))  # the hour's last price
        sim.encode(_oi(symbol, ts + 120_000, 1e9 + 1e6 * h, 50_000.0))
    return sim


def test_sim_candles_aggregate_hours_into_bars_newest_first() -> None:
    """4H bars: open/high/low/close of the hourly prices; the bar still running is unconfirmed."""
    sim = _sim_with_hours(10)  # bars at T0 (hours 0-3), T0+4h (4-7), T0+8h (8-9, running)
    data = _ok(sim.rest("/api/v5/market/history-candles", {"instId": "BTC-USDT-SWAP", "bar": "4H"}))
    assert data == [
        [str(T0 + 2 * BAR), "108", "109", "108", "109", "0", "0", "0", "0"],
        [str(T0 + BAR), "104", "107", "104", "107", "0", "0", "0", "1"],
        [str(T0), "100", "103", "100", "103", "0", "0", "0", "1"],
    ]
    assert parse_candles(msgspec.json.encode({"code": "0", "msg": "", "data": data})) == [
        ((T0 + BAR - 1) * MS, 103.0),
        ((T0 + 2 * BAR - 1) * MS, 107.0),
    ]
    # /market/candles is served alike; 1H bars are the hours themselves
    hours = _ok(sim.rest("/api/v5/market/candles", {"instId": "BTC-USDT-SWAP", "bar": "1H"}))
    assert [r[0] for r in hours] == [str(T0 + h * HOUR) for h in range(9, -1, -1)]
    assert [r[8] for r in hours] == ["0"] + ["1"] * 9


def test_sim_candles_honour_after_before_and_limit() -> None:
    sim = _sim_with_hours(10)
    q = {"instId": "BTC-USDT-SWAP", "bar": "1H"}

    def opens(**extra: str) -> list[int]:
        data = _ok(sim.rest("/api/v5/market/history-candles", {**q, **extra}))
        return [(int(r[0]) - T0) // HOUR for r in data]

    assert opens(after=str(T0 + 5 * HOUR)) == [4, 3, 2, 1, 0]  # earlier than, exclusive
    assert opens(before=str(T0 + 5 * HOUR)) == [9, 8, 7, 6]  # newer than, exclusive
    assert opens(after=str(T0 + 7 * HOUR), before=str(T0 + 2 * HOUR)) == [6, 5, 4, 3]
    assert opens(after=str(T0 + 7 * HOUR), limit="2") == [6, 5]
    assert opens(before=str(T0), limit="3") == [9, 8, 7]  # "before" alone: the latest
    assert opens(after=str(T0)) == []


def test_sim_candles_align_daily_bars_to_utc_plus_8() -> None:
    sim = _sim_with_hours(48)
    data = _ok(sim.rest("/api/v5/market/candles", {"instId": "BTC-USDT-SWAP", "bar": "1D"}))
    assert all((int(r[0]) + 8 * HOUR) % DAY == 0 for r in data)
    utc = _ok(sim.rest("/api/v5/market/candles", {"instId": "BTC-USDT-SWAP", "bar": "1Dutc"}))
    assert all(int(r[0]) % DAY == 0 for r in utc)


def test_sim_open_interest_history_takes_each_periods_last_hour() -> None:
    """``[ts, oi (contracts: base / ctVal 0.01), oiCcy, oiUsd]``, newest first, ≤ limit."""
    sim = _sim_with_hours(10)
    q = {"instId": "BTC-USDT-SWAP", "period": "4H"}
    data = _ok(sim.rest("/api/v5/rubik/stat/contracts/open-interest-history", q))
    assert [(r[0], r[2], r[3]) for r in data] == [
        (str(T0 + 2 * BAR), "20180", "1009000000"),  # hour 9, the running period
        (str(T0 + BAR), "20140", "1007000000"),  # hour 7
        (str(T0), "20060", "1003000000"),  # hour 3
    ]
    assert [float(r[1]) for r in data] == pytest.approx([2_018_000, 2_014_000, 2_006_000])
    assert parse_open_interest_history(msgspec.json.encode({"code": "0", "data": data})) == [
        (T0 * MS, 1003e6),
        ((T0 + BAR) * MS, 1007e6),
        ((T0 + 2 * BAR) * MS, 1009e6),
    ]
    ranged = _ok(
        sim.rest(
            "/api/v5/rubik/stat/contracts/open-interest-history",
            {**q, "period": "1H", "end": str(T0 + 9 * HOUR), "begin": str(T0), "limit": "3"},
        )
    )
    assert [r[0] for r in ranged] == [str(T0 + h * HOUR) for h in (8, 7, 6)]


def test_sim_open_interest_history_of_an_inverse_swap_counts_usd_contracts() -> None:
    """BTC-USD-SWAP: a contract is 100 USD, so oi = oiUsd / 100."""
    sim = OkxSwapSim()
    sim.encode(_oi("BTC-USD-SWAP", T0, 5e8, 100_000.0))
    data = _ok(
        sim.rest(
            "/api/v5/rubik/stat/contracts/open-interest-history",
            {"instId": "BTC-USD-SWAP", "period": "1H"},
        )
    )
    assert data == [[str(T0), "5000000", "5000", "500000000"]]


@pytest.mark.parametrize(
    ("path", "query", "status", "code"),
    [
        ("/api/v5/market/history-candles", {"bar": "4H"}, 400, "50014"),
        ("/api/v5/market/history-candles", {"instId": "NOPE-USDT-SWAP"}, 200, "51001"),
        ("/api/v5/market/history-candles", {"instId": "BTC-USDT-SWAP", "bar": "4h"}, 400, "51000"),
        ("/api/v5/market/history-candles", {"instId": "BTC-USDT-SWAP", "bar": "5m"}, 400, "51000"),
        (
            "/api/v5/market/history-candles",
            {"instId": "BTC-USDT-SWAP", "bar": "4H", "limit": "301"},
            400,
            "51000",
        ),
        (
            "/api/v5/market/candles",
            {"instId": "BTC-USDT-SWAP", "bar": "4H", "after": "yesterday"},
            400,
            "51000",
        ),
        ("/api/v5/rubik/stat/contracts/open-interest-history", {}, 400, "50014"),
        (
            "/api/v5/rubik/stat/contracts/open-interest-history",
            {"instId": "NOPE-USDT-SWAP", "period": "4H"},
            200,
            "51001",
        ),
        (
            "/api/v5/rubik/stat/contracts/open-interest-history",
            {"instId": "BTC-USDT-SWAP"},  # the default period, 5m, is finer than the sim keeps
            400,
            "51000",
        ),
        (
            "/api/v5/rubik/stat/contracts/open-interest-history",
            {"instId": "BTC-USDT-SWAP", "period": "4H", "limit": "101"},
            400,
            "51000",
        ),
        (
            "/api/v5/rubik/stat/contracts/open-interest-history",
            {"instId": "BTC-USDT-SWAP", "period": "4H", "begin": "-1"},
            400,
            "51000",
        ),
    ],
)
def test_sim_history_endpoints_answer_bad_parameters_with_okx_errors(
    path: str, query: dict[str, str], status: int, code: str
) -> None:
    reply = _sim_with_hours(2).rest(path, query)
    assert reply is not None
    assert reply.status == status
    assert isinstance(reply.body, dict)
    assert reply.body["code"] == code
    assert reply.body["msg"]
    assert reply.body["data"] == []
    with pytest.raises(ValueError, match=code):
        parse_candles(msgspec.json.encode(reply.body))


def test_sim_keeps_serving_instruments() -> None:
    data = _ok(_sim_with_hours(1).rest("/api/v5/public/instruments", {"instType": "SWAP"}))
    assert any(r["instId"] == "BTC-USDT-SWAP" for r in data)


# ---------------------------------------------------------------------- end to end


N_HOURS = 92 * 24  # more than the 90 days planned, so the oldest hours must be left out


def _price(i: int) -> float:
    return 60_000.0 + 10.0 * i


def _oi_usd(i: int) -> float:
    return 5e9 + 1e6 * i


def _expected(
    now_ms: int, first_hour: int, last_hour: int
) -> tuple[list[tuple[int, float]], list[tuple[int, float]]]:
    """The points a backfill planned at ``now_ms`` must load from the hours published."""
    anchor = now_ms // BAR * BAR
    price = [
        ((b + BAR - 1) * MS, _price((b + 3 * HOUR - first_hour) // HOUR))
        for b in range(anchor - 540 * BAR, anchor + 1, BAR)
        if b + BAR <= last_hour  # confirmed by the simulator's clock (the last event)
    ]
    oi = [
        (b * MS, _oi_usd((min(b + 3 * HOUR, last_hour) - first_hour) // HOUR))
        for b in range(anchor - 360 * BAR, anchor + 1, BAR)
        if b <= last_hour
    ]
    return price, oi


async def test_backfill_pages_okx_history_from_the_simulator() -> None:
    """90 days of 4H closes (2 pages) and 60 days of 4H oiUsd (4 pages) arrive whole: every
    value and timestamp, with no gap or duplicate at the page boundaries."""
    t0 = int(time.time() * 1000)
    last_hour = t0 // HOUR * HOUR  # the simulated hours end with the current one
    first_hour = last_hour - (N_HOURS - 1) * HOUR
    sim = OkxSwapSim()
    for i in range(N_HOURS):
        ts = first_hour + i * HOUR
        sim.encode(_funding("BTC-USDT-SWAP", ts, _price(i)))
        sim.encode(_oi("BTC-USDT-SWAP", ts, _oi_usd(i), _price(i)))
    price, oi = SeedRecorder(), SeedRecorder()
    async with ExchangeSimulator([sim]) as server, aiohttp.ClientSession() as http:
        n = await backfill_venue(
            get_venue(V),
            VenueEndpoints(ws=server.ws_base(V), rest=server.rest_base(V)),
            ["BTC-USDT-SWAP", "*"],
            load_registry(V),
            http,
            {"price": price, "open_interest": oi},
        )
    t1 = int(time.time() * 1000)
    assert len(price.seeds) == 1
    assert len(oi.seeds) == 1
    assert price.seeds[0][:2] == ("BTC", V)
    assert oi.seeds[0][:2] == ("BTC", V)
    got = (price.seeds[0][2], oi.seeds[0][2])
    # the plan reads the clock between t0 and t1: a 4-hour boundary may pass in between
    assert got in [_expected(now, first_hour, last_hour) for now in {t0, t1}]
    got_price, got_oi = got
    assert n == len(got_price) + len(got_oi)
    assert len(got_price) >= 539  # > 300: the second page arrived
    assert len(got_oi) >= 360  # > 300: four pages arrived
    for points in got:
        steps = {b[0] - a[0] for a, b in pairwise(points)}
        assert steps == {BAR * MS}  # contiguous across page boundaries
    assert got_price[-1][0] < last_hour * MS  # the running bar is not a close yet
    assert got_oi[-1] == (last_hour // BAR * BAR * MS, _oi_usd(N_HOURS - 1))
    assert got_price[0][0] < (t1 - 90 * DAY + BAR) * MS  # the oldest bar opened 90 days ago
    assert got_oi[0][0] <= (t1 - 60 * DAY) * MS
