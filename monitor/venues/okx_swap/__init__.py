"""OKX v5 perpetual swaps [okx-swap]: linear (``BTC-USDT-SWAP``) and inverse (``BTC-USD-SWAP``).

Channels on ``/ws/v5/public`` (docs: OKX v5 API, "Public data → WebSocket"):

* trades: ``trades`` (may aggregate several fills; ``side`` is the taker side);
* liquidations: ``liquidation-orders`` with ``instType=SWAP``: every swap instrument on one
  channel, and SAMPLED ("doesn't represent the total number of liquidations", at most one order
  per contract per second), so totals are lower bounds. The liquidated position is ``posSide``
  in hedge mode, else (``net``) a ``sell`` order closes a long;
* funding: ``funding-rate`` (every 30-90 s; the interval, 1-8 h, is ``nextFundingTime -
  fundingTime``) with the mark price from ``mark-price``;
* open interest: ``open-interest`` (``oi`` contracts, ``oiCcy`` coin, ``oiUsd``);
* quotes: ``tickers`` (best bid/ask).

Sizes are contracts × ``ctVal`` × ``ctMult`` (the instrument's ``contract_size``): base coin for
linear swaps, USD for inverse swaps (base = USD / price). Keep-alive: the text ``ping`` after 25 s
without a frame; the server answers ``pong`` and drops connections silent for 30 s.

Start-up backfill (:func:`plan_backfill`, REST, docs: "Market data → Get candlesticks history",
"Trading statistics → Get contract open interest history"): 90 days of 4-hour candle closes
(``/api/v5/market/history-candles``) and 60 days of 4-hour open interest in USD (``oiUsd`` of
``/api/v5/rubik/stat/contracts/open-interest-history``), for linear and inverse swaps alike.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from functools import partial
from urllib.parse import urlencode

import msgspec
import structlog

from monitor.instruments import Instrument
from monitor.venues.base import (
    BackfillRequest,
    ConnectionPlan,
    Heartbeat,
    Stream,
    VenueEndpoints,
    VenueSpec,
)
from monitor.venues.okx_swap.parse import VENUE_ID, OkxSwapParser, base_and_notional
from monitor.venues.okx_swap.schemas import OkxInstruments
from monitor.venues.planning import connection_plan, frame_matches, json_frame, perp
from streams.units import MS_PER_HOUR, NS_PER_MS

__all__ = [
    "VENUE",
    "OkxSwapParser",
    "base_and_notional",
    "channel_args",
    "history_windows",
    "parse_candles",
    "parse_instruments",
    "parse_open_interest_history",
    "plan_backfill",
    "plan_connections",
    "requests_reconnect",
]

log = structlog.get_logger(__name__)

WS_PATH = "/ws/v5/public"
MAX_ARGS_PER_CONNECTION = 300  # smaller connections fail smaller
ARGS_PER_SUBSCRIBE = 100  # ~6 KB per request, far below OKX's 64 KB; 480 requests/h/connection
_LIQUIDATIONS_ARG = (("channel", "liquidation-orders"), ("instType", "SWAP"))

Arg = tuple[tuple[str, str], ...]


def channel_args(stream: Stream) -> list[Arg]:
    """Return the OKX subscribe args a stream needs (funding and OI also need ``mark-price``)."""
    if stream.channel == "liquidations":
        return [_LIQUIDATIONS_ARG]
    if stream.symbol == "*":
        return []
    inst = ("instId", stream.symbol)
    mark = (("channel", "mark-price"), inst)
    if stream.channel == "trades":
        return [(("channel", "trades"), inst)]
    if stream.channel == "funding":
        return [(("channel", "funding-rate"), inst), mark]
    if stream.channel == "open_interest":
        return [(("channel", "open-interest"), inst), mark]
    return [(("channel", "tickers"), inst)]


def _subscribe(id_prefix: str, args: list[dict[str, str]], k: int) -> str:
    return json_frame({"id": f"{id_prefix}{k}", "op": "subscribe", "args": args})


def plan_connections(endpoints: VenueEndpoints, streams: Sequence[Stream]) -> list[ConnectionPlan]:
    """Keep each instrument's args on one connection; ≤300 args per connection, ≤100 per request.

    ``liquidation-orders`` (all swaps) is subscribed once, on the first connection.
    """
    groups: dict[str, dict[Arg, list[Stream]]] = {}
    for st in streams:
        args = channel_args(st)
        if not args:
            log.warning("okx.wildcard_unsupported", channel=st.channel)
            continue
        key = "*" if st.channel == "liquidations" else st.symbol
        group = groups.setdefault(key, {})
        for arg in args:
            group.setdefault(arg, []).append(st)
    # liquidation-orders first, so that it lands on the first connection
    ordered = sorted(groups.items(), key=lambda kv: (kv[0] != "*", kv[0]))
    chunks: list[dict[Arg, list[Stream]]] = []
    for _, group in ordered:
        if not chunks or len(chunks[-1]) + len(group) > MAX_ARGS_PER_CONNECTION:
            chunks.append({})
        chunks[-1].update(group)
    url = endpoints.ws_url(WS_PATH)
    plans: list[ConnectionPlan] = []
    for n, chunk in enumerate(chunks):
        plans.append(
            connection_plan(
                url,
                f"public-{n}",
                [dict(a) for a in chunk],
                dict.fromkeys(s for ss in chunk.values() for s in ss),
                ARGS_PER_SUBSCRIBE,
                partial(_subscribe, f"{n}x"),
            )
        )
    return plans


_instruments_decoder = msgspec.json.Decoder(OkxInstruments, strict=False)


def parse_instruments(body: bytes) -> list[Instrument]:
    """Read swaps from ``GET /api/v5/public/instruments?instType=SWAP``.

    ``contract_size`` = ``ctVal × ctMult``: base coin (linear) or USD (inverse). The funding
    interval is left 0 (unknown): OKX intervals vary, each ``funding-rate`` frame states it.
    """
    info = _instruments_decoder.decode(body)
    out: list[Instrument] = []
    for i in info.data:
        family = i.instFamily or i.uly
        base, _, quote = family.partition("-")
        if i.instType != "SWAP" or not i.ctVal or not base or not quote:
            continue  # pre-listing instruments have empty fields
        try:
            contract_size = float(i.ctVal) * (float(i.ctMult) if i.ctMult else 1.0)
        except ValueError:
            log.warning("okx.bad_instrument", inst_id=i.instId, ct_val=i.ctVal, ct_mult=i.ctMult)
            continue
        out.append(
            perp(
                VENUE_ID,
                i.instId,
                base,
                quote,
                inverse=i.ctType == "inverse",
                contract_size=contract_size,
                funding_interval_h=0.0,
            )
        )
    return out


CANDLES_PATH = "/api/v5/market/history-candles"  # "recent years"; /market/candles: last 1,440
CANDLE_BAR = "4H"
CANDLE_BAR_MS = 4 * MS_PER_HOUR
CANDLE_LIMIT = 300  # the documented maximum per request
PRICE_SPAN_MS = 90 * 24 * MS_PER_HOUR  # the price processor's rolling-high window
OI_HISTORY_PATH = "/api/v5/rubik/stat/contracts/open-interest-history"
OI_PERIOD = "4H"
OI_PERIOD_MS = 4 * MS_PER_HOUR
OI_LIMIT = 100  # the documented maximum per request
OI_SPAN_MS = 60 * 24 * MS_PER_HOUR  # the open-interest processor's peak window
# rubik: "10 requests per 2 seconds, IP + Instrument ID" today, 5 per 2 s per IP in older docs;
# pace every backfill request at the stricter rule (history-candles allows 20 per 2 s per IP)
BACKFILL_RATE = 2.5


class _RestRows(msgspec.Struct):
    """A REST answer whose ``data`` is rows of strings (candles, open-interest history)."""

    code: str
    msg: str = ""
    data: list[list[str]] = msgspec.field(default_factory=list)


_rest_rows_decoder = msgspec.json.Decoder(_RestRows)


def _rows(body: bytes, what: str, row_name: str, min_len: int) -> list[list[str]]:
    """The ``data`` rows of an OKX answer, each of at least ``min_len`` fields.

    Raises:
        ValueError: an error answer (code not 0), or a shorter row.
    """
    reply = _rest_rows_decoder.decode(body)
    if reply.code != "0":
        raise ValueError(f"OKX {what} error {reply.code}: {reply.msg}")
    for row in reply.data:
        if len(row) < min_len:
            raise ValueError(f"OKX {row_name} row too short: {row!r}")
    return reply.data


def parse_candles(body: bytes, bar_ms: int = CANDLE_BAR_MS) -> list[tuple[int, float]]:
    """Candle rows ``[ts, o, h, l, c, vol, volCcy, volCcyQuote, confirm]`` → ``(ts ns, close)``.

    A candle is stamped at its close time, ``ts`` (the open) + ``bar_ms`` − 1 ms, like Binance's
    kline ``closeTime``. Uncompleted candles (``confirm`` ``0``, the newest one) are dropped: their
    close is not a close yet and their close time lies in the future; the live stream covers the
    present. Oldest first.

    Raises:
        ValueError: an error answer (``code`` not ``0``) or a malformed row.
    """
    return sorted(
        ((int(row[0]) + bar_ms - 1) * NS_PER_MS, float(row[4]))
        for row in _rows(body, "candles", "candle", 5)
        if not (len(row) >= 9 and row[8] == "0")
    )


def parse_open_interest_history(body: bytes) -> list[tuple[int, float]]:
    """Open-interest history rows ``[ts, oi, oiCcy, oiUsd]`` → ``(ts ns, oiUsd)``, oldest first.

    ``ts`` is kept as OKX gives it (documented only as "Timestamp": the period's start, as a
    candle's; Binance's ``openInterestHist`` timestamps are kept alike). ``oiUsd`` is in USD for
    linear and inverse swaps alike.

    Raises:
        ValueError: an error answer (``code`` not ``0``) or a malformed row.
    """
    rows = _rows(body, "open-interest history", "open-interest", 4)
    return sorted((int(row[0]) * NS_PER_MS, float(row[3])) for row in rows)


def history_windows(now_ms: int, bar_ms: int, span_ms: int, limit: int) -> list[tuple[int, int]]:
    """Split the bars of the last ``span_ms`` before ``now_ms`` into ``(lower, upper)`` bounds.

    The bars are the one open at ``now_ms`` and the ``ceil(span_ms / bar_ms)`` before it, so the
    oldest opens at or before ``now_ms - span_ms``. Windows are newest first, at most ``limit``
    bars each; the first ends at ``now_ms`` and each next one ends where the previous begins.
    Every other bound falls mid-bar, so no bar opens on a bound and each bar is in exactly one
    window whether the venue reads bounds as inclusive or exclusive (OKX documents them as
    exclusive: records "earlier than" / "newer than" the given ``ts``).
    """
    anchor = now_ms // bar_ms * bar_ms
    n_bars = -(-span_ms // bar_ms) + 1
    half = bar_ms // 2
    out = []
    for i in range(0, n_bars, limit):
        j = min(i + limit, n_bars)
        upper = now_ms if i == 0 else anchor - i * bar_ms + half
        out.append((anchor - j * bar_ms + half, upper))
    return out


def plan_backfill(
    endpoints: VenueEndpoints,
    symbols: Sequence[str],
    *,
    now_ms: int | None = None,
    since_ms: int | None = None,
) -> list[BackfillRequest]:
    """90 days of 4-hour candle closes and 60 days of 4-hour open interest (USD) per symbol.

    With ``since_ms`` (the gap after a restart) each span is cut to the bars from the one open
    at ``since_ms`` on.

    Every page is one URL with an explicit time window ending at ``now_ms`` (default: now), so
    no cursor is followed. Trade-offs, within OKX's documented limits:

    * price: ``history-candles`` reaches years back (``/market/candles`` only the latest 1,440
      bars) at up to 300 bars a request: 4-hour bars need 2 requests for 90 days, 1-hour bars 8.
      The rolling high is then read from 4-hourly closes, missing intra-bar highs (as it
      misses them between Binance's 2 h closes).
    * open interest: the rubik endpoint keeps the latest 1,440 rows at up to 100 a request and
      allows 5-10 requests per 2 s: 60 days at ``1H`` is 1,440 rows (all it keeps) in 15
      requests, at ``4H`` 360 rows in 4 requests. The 60-day peak is then read from 4-hourly
      values, so a peak shorter than 4 h can be missed.

    Six requests per symbol, paced by ``VENUE.backfill_rate``.
    """
    now = int(time.time() * 1000) if now_ms is None else now_ms
    gap = max(PRICE_SPAN_MS, OI_SPAN_MS) if since_ms is None else max(0, now - since_ms)
    base = endpoints.rest.rstrip("/")
    price_windows = history_windows(now, CANDLE_BAR_MS, min(PRICE_SPAN_MS, gap), CANDLE_LIMIT)
    oi_windows = history_windows(now, OI_PERIOD_MS, min(OI_SPAN_MS, gap), OI_LIMIT)
    out: list[BackfillRequest] = []
    for sym in symbols:
        for lower, upper in price_windows:
            q = {"instId": sym, "bar": CANDLE_BAR, "after": upper, "before": lower}
            url = f"{base}{CANDLES_PATH}?{urlencode({**q, 'limit': CANDLE_LIMIT})}"
            out.append(BackfillRequest("price", sym, url, parse_candles))
        for lower, upper in oi_windows:
            q = {"instId": sym, "period": OI_PERIOD, "begin": lower, "end": upper}
            url = f"{base}{OI_HISTORY_PATH}?{urlencode({**q, 'limit': OI_LIMIT})}"
            out.append(
                BackfillRequest("open_interest", sym, url, parse_open_interest_history, unit="usd")
            )
    return out


def requests_reconnect(frame: str) -> bool:
    """True for the service-upgrade notice (64008) that precedes a server-side disconnect."""
    return frame_matches(frame, code="64008", event="notice")


VENUE = VenueSpec(
    venue=VENUE_ID,
    kind="derivatives",
    endpoints=VenueEndpoints(ws="wss://ws.okx.com:8443", rest="https://www.okx.com"),
    heartbeat=Heartbeat(interval_s=25.0, message="ping", idle_only=True),
    channels=("trades", "liquidations", "funding", "open_interest", "quotes"),
    default_symbols=(
        "BTC-USDT-SWAP",
        "ETH-USDT-SWAP",
        "SOL-USDT-SWAP",
        "XRP-USDT-SWAP",
        "DOGE-USDT-SWAP",
        "BTC-USD-SWAP",
        "ETH-USD-SWAP",
    ),
    plan=plan_connections,
    make_parser=OkxSwapParser,
    instruments_url="/api/v5/public/instruments?instType=SWAP",
    parse_instruments=parse_instruments,
    all_market_channels=frozenset({"liquidations"}),
    backfill=plan_backfill,
    backfill_rate=BACKFILL_RATE,
    quiet_s={
        "trades": 120.0,
        "liquidations": 3600.0,
        "funding": 180.0,
        "open_interest": 120.0,
        "quotes": 60.0,
    },
    reconnect_on=requests_reconnect,
    notes=(
        "liquidation-orders is sampled (at most one order per contract per second, 'doesn't "
        "represent the total'): liquidation totals are lower bounds. It covers every SWAP "
        "instrument, whatever symbols are configured. Funding intervals vary (1-8 h) and are read "
        "from each funding-rate frame. A service-upgrade notice (64008) makes the connection "
        "manager reconnect at once. Start-up backfill: 90 days of 4-hour candle closes and 60 "
        "days of 4-hour open interest (oiUsd), paced at 2.5 requests/s for the rubik limit."
    ),
)
