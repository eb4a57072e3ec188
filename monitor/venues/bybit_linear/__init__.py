"""Bybit v5 perpetuals [bybit-linear]: USDT/USDC linear perps, plus inverse perps (``BTCUSD``).

Channels (docs: bybit-exchange/docs ``docs/v5/websocket/public/*.mdx``):

* trades: ``publicTrade.{symbol}`` (``S`` is the taker side);
* liquidations: ``allLiquidation.{symbol}`` (500 ms batches, all liquidations). The old
  ``liquidation.{symbol}`` topic was removed (2025-11-19) and answers "handler not found". Its
  ``S`` is the liquidated POSITION side ("Buy" = a long was liquidated), the opposite of
  Binance's order side;
* funding, open interest, quotes: ``tickers.{symbol}`` (100 ms, one snapshot then deltas in which
  a missing field is unchanged). Open interest uses ``singleOpenInterest`` (one side) when present.

Linear symbols connect to ``/v5/public/linear``, inverse ones (``...USD``, sizes in USD contracts)
to ``/v5/public/inverse``. Keep-alive: ``{"op":"ping"}`` every 20 s (the server cuts a connection
with neither ping-pong nor data after 10 min). There is no all-market wildcard: ``"*"`` streams
are ignored.

Start-up backfill (:func:`plan_backfill`; docs ``docs/v5/market/kline.mdx`` and
``docs/v5/market/open-interest.mdx``):

* price: ``GET /v5/market/kline?category=&symbol=&interval=120&start=&end=&limit=200``, 90 days of
  2 h candles (1080) in six requests. ``result.list`` holds string arrays ``[startTime, open, high,
  low, close, volume, turnover]``, newest first; a point is the close at the candle's close time
  (start + 2 h - 1 ms, as Binance's ``closeTime``). The published docs page gives ``limit`` as
  [1, 1000] but revisions of the docs repository say [1, 200]: pages of 200 are right under
  either reading (a page of 1000 against a cap of 200 would leave gaps).
* open interest: ``GET /v5/market/open-interest?category=&symbol=&intervalTime=1h&startTime=
  &endTime=&limit=200``, 60 days hourly. At most 200 rows a request, so the range is planned as
  200-hour windows with explicit ``startTime``/``endTime`` (both inclusive) instead of following
  ``nextPageCursor``. Each row is ``{"openInterest", "singleOpenInterest", "timestamp"}``; the
  current docs define ``openInterest`` as the sum of both sides and ``singleOpenInterest`` as one
  side, in base coin for linear symbols (BTCUSDT: BTC) and in USD for inverse ones (BTCUSD: USD).
  ``singleOpenInterest`` is used (the :class:`~streams.events.OpenInterest` contract is one side,
  as the websocket parser), else ``openInterest`` as published (older responses had only that
  field, then documented as one side). Linear history is valued at the kline closes by the
  generic backfill (``unit="base"``); inverse history is already USD.

Errors come back as HTTP 200 with ``retCode != 0``: the parsers raise :class:`ValueError`, and
the backfill logs and skips that request.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Generic, TypeVar

import msgspec
import structlog

from monitor.instruments import Instrument
from monitor.venues.base import (
    BackfillRequest,
    Channel,
    ConnectionPlan,
    Heartbeat,
    Stream,
    VenueEndpoints,
    VenueSpec,
)
from monitor.venues.bybit_linear.parse import VENUE_ID, BybitLinearParser
from monitor.venues.bybit_linear.schemas import BybitInstrumentsInfo
from monitor.venues.deriving import derive_perp, split_multiplier
from monitor.venues.planning import connection_plan, json_frame, perp
from streams.units import MS_PER_HOUR, MS_PER_MINUTE, NS_PER_MS

__all__ = [
    "TOPICS",
    "VENUE",
    "BybitLinearParser",
    "category_of",
    "derive_instrument",
    "is_inverse_symbol",
    "parse_instruments",
    "parse_klines",
    "parse_open_interest",
    "plan_backfill",
    "plan_connections",
    "topic_name",
]

log = structlog.get_logger(__name__)

MAX_ARGS_CHARS_PER_CONNECTION = 20_000  # Bybit: the args of one public connection ≤ 21,000 chars
MAX_TOPICS_PER_CONNECTION = 300  # smaller connections fail smaller
TOPICS_PER_SUBSCRIBE = 100  # keep each subscribe request small
PATH_LINEAR = "/v5/public/linear"
PATH_INVERSE = "/v5/public/inverse"


def is_inverse_symbol(symbol: str) -> bool:
    """Return True for Bybit inverse perpetuals (``BTCUSD``, ``ETHUSD``; linear end in USDT/...)."""
    return symbol.endswith("USD")


#: the topic of each channel on the linear and inverse endpoints (funding, OI and quotes share
#: ``tickers``)
TOPICS: dict[Channel, str] = {
    "trades": "publicTrade",
    "liquidations": "allLiquidation",
    "funding": "tickers",
    "open_interest": "tickers",
    "quotes": "tickers",
}


def topic_name(stream: Stream, topics: Mapping[Channel, str] = TOPICS) -> str | None:
    """Return Bybit's topic ``<topic>.<symbol>`` for a subscription, or None when there is none
    (a ``"*"`` stream, a channel ``topics`` lacks). ``topics``: the linear ones by default; the
    spot endpoint names its own (:mod:`monitor.venues.bybit_spot`)."""
    topic = topics.get(stream.channel)
    if topic is None or stream.symbol == "*":
        return None
    return f"{topic}.{stream.symbol}"


def _subscribe(req_prefix: str, args: list[str], k: int) -> str:
    return json_frame({"req_id": f"{req_prefix}-{k}", "op": "subscribe", "args": args})


def plan_connections(endpoints: VenueEndpoints, streams: Sequence[Stream]) -> list[ConnectionPlan]:
    """Group topics by category path, then split connections within Bybit's args limits."""
    by_path: dict[str, dict[str, list[Stream]]] = {PATH_LINEAR: {}, PATH_INVERSE: {}}
    for st in streams:
        topic = topic_name(st)
        if topic is None:
            log.warning("bybit.wildcard_unsupported", channel=st.channel)
            continue
        path = PATH_INVERSE if is_inverse_symbol(st.symbol) else PATH_LINEAR
        by_path[path].setdefault(topic, []).append(st)
    plans: list[ConnectionPlan] = []
    for path, topics in by_path.items():
        chunks: list[list[str]] = []
        chars = 0
        for topic in topics:
            cost = len(topic) + 3  # quotes and comma in the JSON array
            if (
                not chunks
                or len(chunks[-1]) >= MAX_TOPICS_PER_CONNECTION
                or (chars + cost > MAX_ARGS_CHARS_PER_CONNECTION)
            ):
                chunks.append([])
                chars = 0
            chunks[-1].append(topic)
            chars += cost
        label = path.rsplit("/", 1)[-1]
        for n, chunk in enumerate(chunks):
            plans.append(
                connection_plan(
                    endpoints.ws_url(path),
                    f"{label}-{n}",
                    chunk,
                    (st for topic in chunk for st in topics[topic]),
                    TOPICS_PER_SUBSCRIBE,
                    partial(_subscribe, f"{label}-{n}"),
                )
            )
    return plans


KLINE_INTERVAL = "120"  # minutes
KLINE_INTERVAL_MS = 120 * MS_PER_MINUTE
KLINE_LIMIT = 200  # candles per request: the smaller of the two documented maxima
PRICE_HISTORY_MS = 90 * 24 * MS_PER_HOUR  # the price processor's rolling-high window
OI_INTERVAL = "1h"
OI_INTERVAL_MS = MS_PER_HOUR
OI_LIMIT = 200  # the most open-interest rows a request returns
OI_HISTORY_MS = 60 * 24 * MS_PER_HOUR  # the open-interest processor's peak window


def category_of(symbol: str) -> str:
    """Return the v5 REST ``category`` of a perpetual: ``inverse`` or ``linear``."""
    return "inverse" if is_inverse_symbol(symbol) else "linear"


def _windows(start_ms: int, end_ms: int, span_ms: int) -> list[tuple[int, int]]:
    """Split ``[start_ms, end_ms]`` into consecutive inclusive windows of ``span_ms``, oldest
    first: no gap, no overlap, the last one ending at ``end_ms``."""
    out = []
    s = start_ms
    while s <= end_ms:
        out.append((s, min(s + span_ms - 1, end_ms)))
        s += span_ms
    return out


Row = TypeVar("Row")


class _Kline(msgspec.Struct, array_like=True):
    """One ``result.list`` row of ``GET /v5/market/kline`` (volume and turnover ignored)."""

    start: int  # ms
    open: float
    high: float
    low: float
    close: float  # the last price while the candle is open


class _OpenInterestRow(msgspec.Struct):
    openInterest: float  # both sides (current docs); base coin (linear) / USD (inverse)
    timestamp: int  # ms
    singleOpenInterest: float | None = None  # one side, same unit


class _Result(msgspec.Struct, Generic[Row]):
    """``result`` of a V5 market answer: the rows under ``list`` (and the page cursor)."""

    rows: list[Row] = msgspec.field(default_factory=list, name="list")
    category: str = ""
    symbol: str = ""
    nextPageCursor: str = ""


class _Body(msgspec.Struct, Generic[Row]):
    """A V5 REST answer: ``retCode`` 0 for success, else ``retMsg`` says why."""

    retCode: int
    retMsg: str = ""
    result: _Result[Row] = msgspec.field(default_factory=_Result)


_klines_decoder = msgspec.json.Decoder(_Body[_Kline], strict=False)
_oi_decoder = msgspec.json.Decoder(_Body[_OpenInterestRow], strict=False)


def _check(endpoint: str, ret_code: int, ret_msg: str) -> None:
    if ret_code != 0:
        raise ValueError(f"Bybit {endpoint}: retCode {ret_code} ({ret_msg})")


def parse_klines(body: bytes, interval_ms: int = KLINE_INTERVAL_MS) -> list[tuple[int, float]]:
    """``GET /v5/market/kline`` → ``(close time ns, close price)``, in the venue's order.

    The close time is ``startTime + interval_ms - 1`` ms (Binance's ``closeTime`` convention).
    Raises ValueError on a malformed body or ``retCode != 0``.
    """
    doc = _klines_decoder.decode(body)
    _check("kline", doc.retCode, doc.retMsg)
    return [((k.start + interval_ms - 1) * NS_PER_MS, k.close) for k in doc.result.rows]


def parse_open_interest(body: bytes) -> list[tuple[int, float]]:
    """``GET /v5/market/open-interest`` → ``(ts ns, one-side open interest)``.

    ``singleOpenInterest`` when present, else ``openInterest`` as published; base coin for
    linear symbols, USD for inverse ones. Raises ValueError on a malformed body or
    ``retCode != 0``.
    """
    doc = _oi_decoder.decode(body)
    _check("open-interest", doc.retCode, doc.retMsg)
    return [
        (
            r.timestamp * NS_PER_MS,
            r.singleOpenInterest if r.singleOpenInterest is not None else r.openInterest,
        )
        for r in doc.result.rows
    ]


def plan_backfill(
    endpoints: VenueEndpoints,
    symbols: Sequence[str],
    *,
    now_ms: int | None = None,
    since_ms: int | None = None,
) -> list[BackfillRequest]:
    """90 days of 2 h klines and 60 days of hourly open interest per symbol, ending at now
    (from ``since_ms`` instead, when that is later: the gap after a restart).

    Each history is split into windows of at most one request's rows (200 candles, 200
    open-interest rows) with explicit start and end times; the backfill merges the pages.
    Linear open interest is in base coin (``unit="base"``), inverse in USD.

    Args:
        endpoints: the REST base.
        symbols: venue symbols.
        now_ms: the end of the windows (Unix ms); the current time when None.
        since_ms: the earliest start of the windows (Unix ms); None for the full history.
    """
    now = int(time.time() * 1000) if now_ms is None else now_ms
    floor = since_ms if since_ms is not None else 0
    base = endpoints.rest.rstrip("/")
    kline_windows = _windows(
        max(now - PRICE_HISTORY_MS, floor), now, KLINE_LIMIT * KLINE_INTERVAL_MS
    )
    oi_windows = _windows(max(now - OI_HISTORY_MS, floor), now, OI_LIMIT * OI_INTERVAL_MS)
    out: list[BackfillRequest] = []
    for sym in symbols:
        cat = category_of(sym)
        out.extend(
            BackfillRequest(
                "price",
                sym,
                f"{base}/v5/market/kline?category={cat}&symbol={sym}&interval={KLINE_INTERVAL}"
                f"&start={start}&end={end}&limit={KLINE_LIMIT}",
                parse_klines,
            )
            for start, end in kline_windows
        )
        out.extend(
            BackfillRequest(
                "open_interest",
                sym,
                f"{base}/v5/market/open-interest?category={cat}&symbol={sym}"
                f"&intervalTime={OI_INTERVAL}&startTime={start}&endTime={end}&limit={OI_LIMIT}",
                parse_open_interest,
                unit="usd" if cat == "inverse" else "base",
            )
            for start, end in oi_windows
        )
    return out


_instruments_decoder = msgspec.json.Decoder(BybitInstrumentsInfo, strict=False)
_PERPETUALS = {"LinearPerpetual": False, "InversePerpetual": True}


def parse_instruments(body: bytes) -> list[Instrument]:
    """Read perpetuals from ``GET /v5/market/instruments-info`` (category linear or inverse).

    Linear contracts are one base coin; inverse contracts are one USD (``contract_size`` 1 USD).
    A bundled base coin (``1000PEPE``, ``SHIB1000``) becomes the coin with its multiplier.
    """
    info = _instruments_decoder.decode(body)
    out: list[Instrument] = []
    for i in info.result.items:
        inverse = _PERPETUALS.get(i.contractType)
        if inverse is None or i.status != "Trading":
            continue
        coin, multiplier = split_multiplier(i.baseCoin)
        out.append(
            perp(
                VENUE_ID,
                i.symbol,
                coin,
                i.quoteCoin,
                inverse=inverse,
                funding_interval_h=i.fundingInterval / 60.0,
                multiplier=multiplier,
            )
        )
    return out


#: quote suffixes of linear perpetual symbols (USDC perpetuals were named ``<COIN>PERP``)
DERIVED_QUOTES = (("USDT", "USDT"), ("USDC", "USDC"), ("PERP", "USDC"))


def derive_instrument(symbol: str) -> Instrument | None:
    """A linear perpetual read from a symbol missing from the instrument lists.

    Inverse symbols (``...USD``, sizes in USD contracts) and dated futures are not derived.
    """
    if is_inverse_symbol(symbol) or "-" in symbol:
        return None
    return derive_perp(VENUE_ID, symbol, DERIVED_QUOTES, funding_interval_h=8.0)


VENUE = VenueSpec(
    venue=VENUE_ID,
    kind="derivatives",
    endpoints=VenueEndpoints(ws="wss://stream.bybit.com", rest="https://api.bybit.com"),
    heartbeat=Heartbeat(interval_s=20.0, message='{"op":"ping"}'),
    channels=("trades", "liquidations", "funding", "open_interest", "quotes"),
    default_symbols=("BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT", "DOGEUSDT", "BNBUSDT", "BTCUSD"),
    plan=plan_connections,
    make_parser=BybitLinearParser,
    instruments_url="/v5/market/instruments-info?category=linear&limit=1000",
    extra_instruments_urls=("/v5/market/instruments-info?category=inverse&limit=1000",),
    parse_instruments=parse_instruments,
    derive_instrument=derive_instrument,
    listed_channels=frozenset({"liquidations"}),
    backfill=plan_backfill,
    quiet_s={
        "trades": 120.0,
        "liquidations": 3600.0,
        "funding": 60.0,
        "open_interest": 120.0,
        "quotes": 60.0,
    },
    notes=(
        "Liquidations come from allLiquidation (all liquidations, 500 ms batches; the removed "
        "liquidation.{symbol} topic is not used). Open interest is singleOpenInterest (one side) "
        "when the venue sends it, else openInterest as published (documented as both sides since "
        "2026-06). Instruments are read for both categories (linear, inverse). No '*' streams. "
        "Start-up backfill: 90 days of 2 h kline closes and 60 days of hourly open interest "
        "(singleOpenInterest; base coin valued at the closes for linear, USD for inverse) in "
        "200-hour windows."
    ),
)
