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
    CHANNELS,
    BackfillRequest,
    Channel,
    ConnectionPlan,
    RestPoll,
    Stream,
    VenueEndpoints,
    VenueSpec,
)
from monitor.venues.binance_usdm.parse import VENUE_ID, BinanceUsdmParser
from monitor.venues.deriving import derive_perp, split_multiplier
from monitor.venues.planning import json_frame, perp, plan_chunks, symbols_of
from streams.units import NS_PER_MS

__all__ = [
    "VENUE",
    "BinanceUsdmParser",
    "derive_instrument",
    "parse_funding_info",
    "plan_connections",
    "plan_polls",
    "stream_name",
    "subscribe_frame",
]

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


def subscribe_frame(names: list[str], k: int) -> str:
    """The ``k``-th ``SUBSCRIBE`` request of a connection (Binance futures and spot alike)."""
    return json_frame({"method": "SUBSCRIBE", "params": names, "id": k + 1})


def plan_connections(endpoints: VenueEndpoints, streams: Sequence[Stream]) -> list[ConnectionPlan]:
    """Split streams over ``/market`` and ``/public`` connections of at most 200 streams each.

    Open interest (REST, in contracts) is valued at the mark price, so a symbol whose open
    interest is wanted also gets its ``markPrice`` stream.
    """
    groups: dict[str, list[tuple[str, list[Stream]]]] = {"market": [], "public": []}
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
            groups["public" if st.channel in _PUBLIC_CHANNELS else "market"].append((name, [st]))
    return [
        plan
        for path, topics in groups.items()
        for plan in plan_chunks(
            endpoints.ws_url(f"/{path}/stream"),
            path,
            topics,
            MAX_STREAMS_PER_CONNECTION,
            PARAMS_PER_SUBSCRIBE,
            subscribe_frame,
        )
    ]


def plan_polls(endpoints: VenueEndpoints, streams: Sequence[Stream]) -> list[RestPoll]:
    """Poll ``/fapi/v1/openInterest`` (weight 1) per symbol, within the REST weight budget."""
    symbols = symbols_of(streams, "open_interest")
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
        out.append((int(close_ms) * NS_PER_MS, float(close)))
    return out


def parse_open_interest_hist(body: bytes) -> list[tuple[int, float]]:
    """``GET /futures/data/openInterestHist`` rows → ``(ts ns, open interest USD)``."""
    return [
        (r.timestamp * NS_PER_MS, r.sumOpenInterestValue) for r in _oi_hist_decoder.decode(body)
    ]


def plan_backfill(
    endpoints: VenueEndpoints,
    symbols: Sequence[str],
    *,
    now_ms: int | None = None,
    since_ms: int | None = None,
) -> list[BackfillRequest]:
    """90 days of 2 h klines and 30 days of hourly open-interest value per symbol.

    Without ``since_ms`` the requests ask for the newest ``limit`` rows, which end at the
    venue's own now, so ``now_ms`` is not needed. With it (a gap after a restart) they ask for
    the rows from ``since_ms`` to ``now_ms`` (``startTime``/``endTime``), at most ``limit``.
    """
    base = endpoints.rest.rstrip("/")
    window = ""
    if since_ms is not None:
        window = f"&startTime={since_ms}" + (f"&endTime={now_ms}" if now_ms is not None else "")
    out: list[BackfillRequest] = []
    for sym in symbols:
        out.append(
            BackfillRequest(
                "price",
                sym,
                f"{base}/fapi/v1/klines?symbol={sym}&interval={KLINE_INTERVAL}"
                f"&limit={KLINE_LIMIT}{window}",
                parse_klines,
            )
        )
        out.append(
            BackfillRequest(
                "open_interest",
                sym,
                f"{base}/futures/data/openInterestHist?symbol={sym}&period={OI_HIST_PERIOD}"
                f"&limit={OI_HIST_LIMIT}{window}",
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
    """Read perpetuals from ``GET /fapi/v1/exchangeInfo``.

    A bundled base asset (``1000PEPE``) becomes the coin with its multiplier (PEPE × 1000).
    """
    info = msgspec.json.decode(body, type=_ExchangeInfo)
    out = []
    for s in info.symbols:
        if s.contractType == "PERPETUAL" and s.status in ("TRADING", ""):
            coin, multiplier = split_multiplier(s.baseAsset)
            out.append(
                perp(
                    VENUE_ID,
                    s.symbol,
                    coin,
                    s.quoteAsset,
                    funding_interval_h=8.0,
                    multiplier=multiplier,
                )
            )
    return out


#: quote suffixes of USD-M perpetual symbols, longest first
DERIVED_QUOTES = (("FDUSD", "FDUSD"), ("USDT", "USDT"), ("USDC", "USDC"), ("BUSD", "BUSD"))


def derive_instrument(symbol: str) -> Instrument | None:
    """A perpetual read from a symbol missing from the instrument list (sizes are in coins)."""
    return derive_perp(VENUE_ID, symbol, DERIVED_QUOTES, funding_interval_h=8.0)


class _FundingInfo(msgspec.Struct):
    symbol: str
    fundingIntervalHours: float


_funding_info_decoder = msgspec.json.Decoder(list[_FundingInfo])


def parse_funding_info(body: bytes) -> dict[str, float]:
    """Per-symbol funding intervals from ``GET /fapi/v1/fundingInfo``.

    Binance lists only the symbols whose cap, floor or interval was adjusted (4 h and 1 h
    intervals among them); every other perpetual settles every 8 h, as its listing says.
    """
    return {
        f.symbol: f.fundingIntervalHours
        for f in _funding_info_decoder.decode(body)
        if f.fundingIntervalHours > 0
    }


VENUE = VenueSpec(
    venue=VENUE_ID,
    kind="derivatives",
    endpoints=VenueEndpoints(ws="wss://fstream.binance.com", rest="https://fapi.binance.com"),
    # keep-alive: the server pings every 3 min; websockets answers with pongs
    lifetime_s=24 * 3600.0,
    channels=CHANNELS,
    default_symbols=("BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT", "BNBUSDT", "DOGEUSDT"),
    plan=plan_connections,
    polls=plan_polls,
    make_parser=BinanceUsdmParser,
    instruments_url="/fapi/v1/exchangeInfo",
    parse_instruments=parse_instruments,
    funding_intervals=("/fapi/v1/fundingInfo", parse_funding_info),
    derive_instrument=derive_instrument,
    all_market_channels=frozenset({"liquidations", "funding"}),
    backfill=plan_backfill,
    quiet_s={"trades": 60.0, "funding": 10.0, "liquidations": 3600.0, "open_interest": 120.0},
    notes="forceOrder sends at most one liquidation per symbol per second: sums are lower bounds.",
)
