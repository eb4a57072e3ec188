"""Binance USD-M futures [binance-usdm].

Channels: trades (``aggTrade``), liquidations (``forceOrder``: at most one per symbol per second,
so sums are lower bounds), funding (``markPrice@1s``), quotes (``bookTicker``), open interest (REST
``/fapi/v1/openInterest`` only: Binance publishes no open-interest stream).

Since the 2026 base-URL split, ``aggTrade``/``markPrice``/``forceOrder`` are served on ``/market``
and ``bookTicker`` on ``/public``; the legacy paths accept subscriptions and then send nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from monitor.instruments import Instrument
from monitor.venues.base import (
    BackfillRequest,
    Channel,
    ConnectionPlan,
    Heartbeat,
    RestPoll,
    Stream,
    VenueEndpoints,
    VenueSpec,
)
from monitor.venues.binance_usdm.parse import VENUE_ID, BinanceUsdmParser

__all__ = ["VENUE", "BinanceUsdmParser", "plan_connections", "plan_polls", "stream_name"]

MAX_STREAMS_PER_CONNECTION = 200  # Binance allows 1024; smaller connections fail smaller
PARAMS_PER_SUBSCRIBE = 50  # keep each SUBSCRIBE small; Binance allows 10 messages/s
REST_WEIGHT_BUDGET_PER_MIN = 600  # a quarter of the 2400/min IP limit, the rest for others
MIN_OI_INTERVAL_S = 5.0

_PUBLIC_CHANNELS: frozenset[Channel] = frozenset({"quotes"})


def stream_name(stream: Stream) -> str | None:
    """Return Binance's stream name for a subscription, or None if it has no websocket stream."""
    sym = stream.symbol.lower()
    if stream.channel == "trades":
        return f"{sym}@aggTrade"
    if stream.channel == "liquidations":
        return "!forceOrder@arr" if stream.symbol == "*" else f"{sym}@forceOrder"
    if stream.channel == "funding":
        return "!markPrice@arr@1s" if stream.symbol == "*" else f"{sym}@markPrice@1s"
    if stream.channel == "quotes":
        return f"{sym}@bookTicker"
    return None  # open interest: REST only


def plan_connections(endpoints: VenueEndpoints, streams: Sequence[Stream]) -> list[ConnectionPlan]:
    """Split streams over ``/market`` and ``/public`` connections of at most 200 streams each.

    Open interest (REST, in contracts) is valued at the mark price, so a symbol whose open
    interest is wanted also gets its ``markPrice`` stream.
    """
    groups: dict[str, list[tuple[Stream, str]]] = {"market": [], "public": []}
    marks = {s.symbol for s in streams if s.channel == "funding"}
    if "*" not in marks:
        streams = [
            *streams,
            *(
                Stream("funding", sym)
                for sym in sorted({s.symbol for s in streams if s.channel == "open_interest"})
                if sym not in marks and sym != "*"
            ),
        ]
    for st in streams:
        name = stream_name(st)
        if name is not None:
            groups["public" if st.channel in _PUBLIC_CHANNELS else "market"].append((st, name))
    plans: list[ConnectionPlan] = []
    base = endpoints.ws.rstrip("/")
    for path, items in groups.items():
        for i in range(0, len(items), MAX_STREAMS_PER_CONNECTION):
            chunk = items[i : i + MAX_STREAMS_PER_CONNECTION]
            names = [n for _, n in chunk]
            subs = tuple(
                msgspec.json.encode(
                    {
                        "method": "SUBSCRIBE",
                        "params": names[j : j + PARAMS_PER_SUBSCRIBE],
                        "id": j // PARAMS_PER_SUBSCRIBE + 1,
                    }
                ).decode()
                for j in range(0, len(names), PARAMS_PER_SUBSCRIBE)
            )
            plans.append(
                ConnectionPlan(
                    key=f"{path}-{i // MAX_STREAMS_PER_CONNECTION}",
                    url=f"{base}/{path}/stream",
                    subscribe=subs,
                    streams=tuple(st for st, _ in chunk),
                )
            )
    return plans


def plan_polls(endpoints: VenueEndpoints, streams: Sequence[Stream]) -> list[RestPoll]:
    """Poll ``/fapi/v1/openInterest`` (weight 1) per symbol, within the REST weight budget."""
    symbols = sorted(
        {s.symbol for s in streams if s.channel == "open_interest" and s.symbol != "*"}
    )
    if not symbols:
        return []
    interval = max(MIN_OI_INTERVAL_S, 60.0 * len(symbols) / REST_WEIGHT_BUDGET_PER_MIN)
    base = endpoints.rest.rstrip("/")
    return [
        RestPoll(
            key=f"open_interest:{sym}",
            url=f"{base}/fapi/v1/openInterest?symbol={sym}",
            interval_s=interval,
            weight=1,
            streams=(Stream("open_interest", sym),),
        )
        for sym in symbols
    ]


KLINE_INTERVAL = "2h"
KLINE_LIMIT = 1080  # 90 days of 2 h klines: the price processor's rolling-high window
OI_HIST_PERIOD = "1h"
OI_HIST_LIMIT = 500  # Binance keeps only the latest 30 days of open-interest history

_klines_decoder = msgspec.json.Decoder(list[list[str | int | float]])


class _OpenInterestHist(msgspec.Struct):
    sumOpenInterestValue: float  # USD
    timestamp: int  # ms


_oi_hist_decoder = msgspec.json.Decoder(list[_OpenInterestHist], strict=False)


def parse_klines(body: bytes) -> list[tuple[int, float]]:
    """``GET /fapi/v1/klines`` rows → ``(close time ns, close price)``."""
    out = []
    for row in _klines_decoder.decode(body):
        close_ms, close = row[6], row[4]
        out.append((int(close_ms) * 1_000_000, float(close)))
    return out


def parse_open_interest_hist(body: bytes) -> list[tuple[int, float]]:
    """``GET /futures/data/openInterestHist`` rows → ``(ts ns, open interest USD)``."""
    return [
        (r.timestamp * 1_000_000, r.sumOpenInterestValue) for r in _oi_hist_decoder.decode(body)
    ]


def plan_backfill(endpoints: VenueEndpoints, symbols: Sequence[str]) -> list[BackfillRequest]:
    """90 days of 2 h klines and 30 days of hourly open-interest value per symbol."""
    base = endpoints.rest.rstrip("/")
    out: list[BackfillRequest] = []
    for sym in symbols:
        out.append(
            BackfillRequest(
                "price",
                sym,
                f"{base}/fapi/v1/klines?symbol={sym}&interval={KLINE_INTERVAL}&limit={KLINE_LIMIT}",
                parse_klines,
            )
        )
        out.append(
            BackfillRequest(
                "open_interest",
                sym,
                f"{base}/futures/data/openInterestHist?symbol={sym}&period={OI_HIST_PERIOD}"
                f"&limit={OI_HIST_LIMIT}",
                parse_open_interest_hist,
            )
        )
    return out


class _ExchangeInfoSymbol(msgspec.Struct):
    symbol: str
    baseAsset: str
    quoteAsset: str
    contractType: str = ""
    status: str = ""


class _ExchangeInfo(msgspec.Struct):
    symbols: list[_ExchangeInfoSymbol]


def parse_instruments(body: bytes) -> list[Instrument]:
    """Read perpetuals from ``GET /fapi/v1/exchangeInfo``."""
    info = msgspec.json.decode(body, type=_ExchangeInfo)
    return [
        Instrument(
            venue=VENUE_ID,
            symbol=s.symbol,
            instrument=f"{s.baseAsset}-{s.quoteAsset}-PERP",
            base=s.baseAsset,
            quote=s.quoteAsset,
            kind="perp",
            funding_interval_h=8.0,
        )
        for s in info.symbols
        if s.contractType == "PERPETUAL" and s.status in ("TRADING", "")
    ]


VENUE = VenueSpec(
    venue=VENUE_ID,
    kind="derivatives",
    endpoints=VenueEndpoints(ws="wss://fstream.binance.com", rest="https://fapi.binance.com"),
    heartbeat=Heartbeat(),  # the server pings every 3 min; websockets answers with pongs
    lifetime_s=24 * 3600.0,
    channels=("trades", "liquidations", "funding", "open_interest", "quotes"),
    default_symbols=("BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT", "BNBUSDT", "DOGEUSDT"),
    plan=plan_connections,
    polls=plan_polls,
    make_parser=BinanceUsdmParser,
    instruments_url="/fapi/v1/exchangeInfo",
    parse_instruments=parse_instruments,
    backfill=plan_backfill,
    quiet_s={"trades": 60.0, "funding": 10.0, "liquidations": 3600.0, "open_interest": 120.0},
    notes="forceOrder sends at most one liquidation per symbol per second: sums are lower bounds.",
)
