"""Coinbase Exchange [coinbase]: USD-quoted stablecoin books (``ws-feed.exchange.coinbase.com``).

Channels: quotes (``ticker``: best bid/ask, sent on each match, so a book without trades is
silent), trades (``matches``), plus ``heartbeat`` for every product (1/s, so a quiet product is
told from a dead connection). A subscribe must arrive within 5 s of connecting.

USDC: Coinbase treats USDC 1:1 with USD (balances convert freely), so there is no USDC-USD
market; "-USDC" products are aliases of the "-USD" books. USDC's peg is therefore not observable
here; use Kraken/Bitstamp USDC/USD.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from monitor.instruments import Instrument
from monitor.venues.base import ConnectionPlan, Stream, VenueEndpoints, VenueSpec
from monitor.venues.coinbase.parse import VENUE_ID, CoinbaseParser
from monitor.venues.coinbase.schemas import CoinbaseProduct
from monitor.venues.planning import json_frame, one_connection, spot, symbols_of

__all__ = ["VENUE", "CoinbaseParser", "parse_instruments", "plan_connections"]

WS_PATH = "/"  # the feed is served at the root


def plan_connections(endpoints: VenueEndpoints, streams: Sequence[Stream]) -> list[ConnectionPlan]:
    """One connection, one subscribe: ``ticker`` + ``heartbeat`` (+ ``matches`` for trades)."""
    kept = [s for s in streams if s.channel in ("quotes", "trades") and s.symbol != "*"]
    if not kept:
        return []
    quotes = symbols_of(kept, "quotes")
    trades = symbols_of(kept, "trades")
    everything = sorted({s.symbol for s in kept})
    channels: list[dict[str, object]] = [{"name": "heartbeat", "product_ids": everything}]
    if quotes:
        channels.append({"name": "ticker", "product_ids": quotes})
    if trades:
        channels.append({"name": "matches", "product_ids": trades})
    frame = json_frame({"type": "subscribe", "channels": channels})
    return one_connection(endpoints.ws_url(WS_PATH), "feed", [frame], kept)


def parse_instruments(body: bytes) -> list[Instrument]:
    """Read spot products from ``GET /products``."""
    rows = msgspec.json.decode(body, type=list[CoinbaseProduct], strict=False)
    return [
        spot(VENUE_ID, p.id, p.base_currency.upper(), p.quote_currency.upper())
        for p in rows
        if p.status in ("online", "")
    ]


VENUE = VenueSpec(
    venue=VENUE_ID,
    kind="spot",
    endpoints=VenueEndpoints(
        ws="wss://ws-feed.exchange.coinbase.com", rest="https://api.exchange.coinbase.com"
    ),
    # keep-alive: the heartbeat channel sends one message per product per second
    channels=("trades", "quotes"),
    default_symbols=("USDT-USD", "DAI-USD", "PYUSD-USD", "USDS-USD"),
    plan=plan_connections,
    make_parser=CoinbaseParser,
    instruments_url="/products",
    parse_instruments=parse_instruments,
    quiet_s={"quotes": 900.0, "trades": 900.0},
    notes=(
        "Spot only. No USDC-USD market (USDC is 1:1 with USD at Coinbase; -USDC products alias "
        "-USD books). Quotes come from the ticker channel, which only sends on trades."
    ),
)
