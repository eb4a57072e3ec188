"""Binance Spot [binance-spot]: USDT-quoted stablecoin books (USDC, FDUSD, USDe vs USDT).

Channels: quotes (``<symbol>@bookTicker``, no event time: ``ts_event`` is the receive time),
trades (``<symbol>@aggTrade``). These are relative prices: the instrument keeps USDT as quote
(``USDC-USDT-SPOT``) so the peg processor chains them through a USD-quoted USDT book.

Connections: combined streams on ``/stream``, subscribed with ``SUBSCRIBE`` (at most 5 incoming
messages per second, 1024 streams per connection), rotated before the 24 h lifetime. The server
pings every 20 s; the websocket client answers with pongs.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from monitor.instruments import Instrument
from monitor.venues.base import (
    ConnectionPlan,
    Heartbeat,
    RestPoll,
    Stream,
    VenueEndpoints,
    VenueSpec,
)
from monitor.venues.binance_spot.parse import VENUE_ID, BinanceSpotParser
from monitor.venues.binance_spot.schemas import BinanceSpotExchangeInfo

__all__ = [
    "VENUE",
    "BinanceSpotParser",
    "parse_instruments",
    "plan_connections",
    "plan_polls",
    "stream_name",
]

WS_PATH = "/stream"
MAX_STREAMS_PER_CONNECTION = 200
PARAMS_PER_SUBSCRIBE = 50


def stream_name(stream: Stream) -> str | None:
    """Return the Binance stream of a subscription, or None if the channel is not served."""
    sym = stream.symbol.lower()
    if stream.channel == "quotes":
        return f"{sym}@bookTicker"
    if stream.channel == "trades":
        return f"{sym}@aggTrade"
    return None


def plan_connections(endpoints: VenueEndpoints, streams: Sequence[Stream]) -> list[ConnectionPlan]:
    """Split streams over ``/stream`` connections of at most 200 streams each."""
    items = [(st, n) for st in streams if st.symbol != "*" and (n := stream_name(st)) is not None]
    url = endpoints.ws.rstrip("/") + WS_PATH
    plans: list[ConnectionPlan] = []
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
                key=f"stream-{i // MAX_STREAMS_PER_CONNECTION}",
                url=url,
                subscribe=subs,
                streams=tuple(st for st, _ in chunk),
            )
        )
    return plans


def plan_polls(endpoints: VenueEndpoints, streams: Sequence[Stream]) -> list[RestPoll]:
    """Binance Spot needs no REST polling."""
    return []


def parse_instruments(body: bytes) -> list[Instrument]:
    """Read trading spot pairs from ``GET /api/v3/exchangeInfo``."""
    info = msgspec.json.decode(body, type=BinanceSpotExchangeInfo, strict=False)
    return [
        Instrument(
            venue=VENUE_ID,
            symbol=s.symbol,
            instrument=f"{s.baseAsset}-{s.quoteAsset}-SPOT",
            base=s.baseAsset,
            quote=s.quoteAsset,
            kind="spot",
        )
        for s in info.symbols
        if s.status in ("TRADING", "")
    ]


VENUE = VenueSpec(
    venue=VENUE_ID,
    kind="spot",
    endpoints=VenueEndpoints(ws="wss://stream.binance.com:9443", rest="https://api.binance.com"),
    heartbeat=Heartbeat(),  # the server pings every 20 s; websockets answers with pongs
    lifetime_s=24 * 3600.0,
    channels=("trades", "quotes"),
    default_symbols=("USDCUSDT", "FDUSDUSDT", "USDEUSDT"),
    plan=plan_connections,
    polls=plan_polls,
    make_parser=BinanceSpotParser,
    instruments_url="/api/v3/exchangeInfo",
    parse_instruments=parse_instruments,
    quiet_s={"quotes": 60.0, "trades": 600.0},
    notes=(
        "Spot only, USDT-quoted (relative pegs). bookTicker has no event time: ts_event is the "
        "receive time."
    ),
)
