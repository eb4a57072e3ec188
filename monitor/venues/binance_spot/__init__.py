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
from monitor.venues.base import ConnectionPlan, Stream, VenueEndpoints, VenueSpec
from monitor.venues.binance_spot.parse import VENUE_ID, BinanceSpotParser
from monitor.venues.binance_spot.schemas import BinanceSpotExchangeInfo
from monitor.venues.binance_usdm import subscribe_frame
from monitor.venues.planning import plan_chunks, spot

__all__ = [
    "VENUE",
    "BinanceSpotParser",
    "parse_instruments",
    "plan_connections",
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
    return plan_chunks(
        endpoints.ws_url(WS_PATH),
        "stream",
        [(n, [st]) for st in streams if st.symbol != "*" and (n := stream_name(st)) is not None],
        MAX_STREAMS_PER_CONNECTION,
        PARAMS_PER_SUBSCRIBE,
        subscribe_frame,
    )


def parse_instruments(body: bytes) -> list[Instrument]:
    """Read trading spot pairs from ``GET /api/v3/exchangeInfo``."""
    info = msgspec.json.decode(body, type=BinanceSpotExchangeInfo, strict=False)
    return [
        spot(VENUE_ID, s.symbol, s.baseAsset, s.quoteAsset)
        for s in info.symbols
        if s.status in ("TRADING", "")
    ]


VENUE = VenueSpec(
    venue=VENUE_ID,
    kind="spot",
    endpoints=VenueEndpoints(ws="wss://stream.binance.com:9443", rest="https://api.binance.com"),
    # keep-alive: the server pings every 20 s; websockets answers with pongs
    lifetime_s=24 * 3600.0,
    channels=("trades", "quotes"),
    default_symbols=("USDCUSDT", "FDUSDUSDT", "USDEUSDT"),
    plan=plan_connections,
    make_parser=BinanceSpotParser,
    instruments_url="/api/v3/exchangeInfo",
    parse_instruments=parse_instruments,
    quiet_s={"quotes": 60.0, "trades": 600.0},
    notes=(
        "Spot only, USDT-quoted (relative pegs). bookTicker has no event time: ts_event is the "
        "receive time."
    ),
)
