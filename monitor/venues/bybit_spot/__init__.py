"""Bybit v5 spot [bybit-spot]: USDT-quoted stablecoin books (USDC, FDUSD, USDe vs USDT).

Channels on ``/v5/public/spot`` (docs: bybit-exchange/docs ``docs/v5/websocket/public/
orderbook.mdx`` and ``trade.mdx``): quotes from ``orderbook.1.{symbol}`` (the spot ``tickers``
topic carries no bid/ask), trades from ``publicTrade.{symbol}``. At most 10 args per subscribe
request on spot; keep-alive ``{"op":"ping"}`` every 20 s, as on the linear endpoint. These are
relative prices: the instrument keeps USDT as quote (``USDE-USDT-SPOT``) and the peg processor
converts it through USDT's own USD deviation (``peg_via_rate{via="USDT"}``).
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from monitor.instruments import Instrument
from monitor.venues.base import (
    Channel,
    ConnectionPlan,
    Heartbeat,
    Stream,
    VenueEndpoints,
    VenueSpec,
)
from monitor.venues.bybit_linear import topic_name
from monitor.venues.bybit_spot.parse import VENUE_ID, BybitSpotParser
from monitor.venues.bybit_spot.schemas import BybitSpotInstruments
from monitor.venues.planning import json_frame, plan_chunks, spot

__all__ = ["TOPICS", "VENUE", "BybitSpotParser", "parse_instruments", "plan_connections", "topic"]

WS_PATH = "/v5/public/spot"
ARGS_PER_SUBSCRIBE = 10  # "spot: up to 10 args for each subscription request"
MAX_TOPICS_PER_CONNECTION = 200


TOPICS: dict[Channel, str] = {"quotes": "orderbook.1", "trades": "publicTrade"}


def topic(stream: Stream) -> str | None:
    """The Bybit topic of a subscription, or None if the channel is not served."""
    return topic_name(stream, TOPICS)


def _subscribe(args: list[str], k: int) -> str:
    return json_frame({"req_id": f"spot-{k}", "op": "subscribe", "args": args})


def plan_connections(endpoints: VenueEndpoints, streams: Sequence[Stream]) -> list[ConnectionPlan]:
    """Connections of at most 200 topics on ``/v5/public/spot``, 10 args per request."""
    return plan_chunks(
        endpoints.ws_url(WS_PATH),
        "spot",
        [(n, [st]) for st in streams if (n := topic(st)) is not None],
        MAX_TOPICS_PER_CONNECTION,
        ARGS_PER_SUBSCRIBE,
        _subscribe,
    )


_instruments_decoder = msgspec.json.Decoder(BybitSpotInstruments, strict=False)


def parse_instruments(body: bytes) -> list[Instrument]:
    """Read trading spot pairs from ``GET /v5/market/instruments-info?category=spot``."""
    info = _instruments_decoder.decode(body)
    return [
        spot(VENUE_ID, i.symbol, i.baseCoin, i.quoteCoin)
        for i in info.result.rows
        if i.status == "Trading"
    ]


VENUE = VenueSpec(
    venue=VENUE_ID,
    kind="spot",
    endpoints=VenueEndpoints(ws="wss://stream.bybit.com", rest="https://api.bybit.com"),
    heartbeat=Heartbeat(interval_s=20.0, message='{"op":"ping"}'),
    channels=("trades", "quotes"),
    default_symbols=("USDCUSDT", "FDUSDUSDT", "USDEUSDT"),
    plan=plan_connections,
    make_parser=BybitSpotParser,
    instruments_url="/v5/market/instruments-info?category=spot",
    parse_instruments=parse_instruments,
    quiet_s={"quotes": 60.0, "trades": 600.0},
    notes="Spot only, USDT-quoted (relative pegs): converted through USDT's USD deviation.",
)
