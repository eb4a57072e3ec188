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
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec
import structlog

from monitor.instruments import Instrument
from monitor.venues.base import (
    ConnectionPlan,
    Heartbeat,
    RestPoll,
    Stream,
    VenueEndpoints,
    VenueSpec,
)
from monitor.venues.bybit_linear.parse import VENUE_ID, BybitLinearParser
from monitor.venues.bybit_linear.schemas import BybitInstrumentsInfo

__all__ = [
    "VENUE",
    "BybitLinearParser",
    "is_inverse_symbol",
    "parse_instruments",
    "plan_connections",
    "plan_polls",
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


def topic_name(stream: Stream) -> str | None:
    """Return Bybit's topic for a subscription (funding, OI and quotes share ``tickers``)."""
    if stream.symbol == "*":
        return None
    if stream.channel == "trades":
        return f"publicTrade.{stream.symbol}"
    if stream.channel == "liquidations":
        return f"allLiquidation.{stream.symbol}"
    return f"tickers.{stream.symbol}"


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
    base = endpoints.ws.rstrip("/")
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
            subs = tuple(
                msgspec.json.encode(
                    {
                        "req_id": f"{label}-{n}-{j // TOPICS_PER_SUBSCRIBE}",
                        "op": "subscribe",
                        "args": chunk[j : j + TOPICS_PER_SUBSCRIBE],
                    }
                ).decode()
                for j in range(0, len(chunk), TOPICS_PER_SUBSCRIBE)
            )
            plans.append(
                ConnectionPlan(
                    key=f"{label}-{n}",
                    url=f"{base}{path}",
                    subscribe=subs,
                    streams=tuple(st for topic in chunk for st in topics[topic]),
                )
            )
    return plans


def plan_polls(endpoints: VenueEndpoints, streams: Sequence[Stream]) -> list[RestPoll]:
    """Bybit streams every channel over websockets: nothing to poll."""
    return []


_instruments_decoder = msgspec.json.Decoder(BybitInstrumentsInfo, strict=False)
_PERPETUALS = {"LinearPerpetual": False, "InversePerpetual": True}


def parse_instruments(body: bytes) -> list[Instrument]:
    """Read perpetuals from ``GET /v5/market/instruments-info`` (category linear or inverse).

    Linear contracts are one base coin; inverse contracts are one USD (``contract_size`` 1 USD).
    """
    info = _instruments_decoder.decode(body)
    out: list[Instrument] = []
    for i in info.result.items:
        inverse = _PERPETUALS.get(i.contractType)
        if inverse is None or i.status != "Trading":
            continue
        out.append(
            Instrument(
                venue=VENUE_ID,
                symbol=i.symbol,
                instrument=f"{i.baseCoin}-{i.quoteCoin}-PERP",
                base=i.baseCoin,
                quote=i.quoteCoin,
                kind="perp",
                inverse=inverse,
                contract_size=1.0,
                funding_interval_h=i.fundingInterval / 60.0,
            )
        )
    return out


VENUE = VenueSpec(
    venue=VENUE_ID,
    kind="derivatives",
    endpoints=VenueEndpoints(ws="wss://stream.bybit.com", rest="https://api.bybit.com"),
    heartbeat=Heartbeat(interval_s=20.0, message='{"op":"ping"}'),
    lifetime_s=None,
    channels=("trades", "liquidations", "funding", "open_interest", "quotes"),
    default_symbols=("BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT", "DOGEUSDT", "BNBUSDT", "BTCUSD"),
    plan=plan_connections,
    polls=plan_polls,
    make_parser=BybitLinearParser,
    instruments_url="/v5/market/instruments-info?category=linear&limit=1000",
    extra_instruments_urls=("/v5/market/instruments-info?category=inverse&limit=1000",),
    parse_instruments=parse_instruments,
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
        "2026-06). Instruments are read for both categories (linear, inverse). No '*' streams."
    ),
)
