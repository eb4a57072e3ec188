"""BitMEX [bitmex]: inverse XBTUSD and linear USDT perpetuals on ``/realtime``.

Channels: trades (``trade:SYM``), liquidations (``liquidation:SYM``: open liquidation ORDERS, no
timestamps, counted once when they appear), funding and open interest (``instrument:SYM``, merged
partial + updates), quotes (``quote:SYM``). Sizes are contracts, converted with the instrument's
multipliers. Quanto contracts (ETHUSD) are left out of the registry: their base exposure depends on
the XBT price. The settled-funding ``funding`` table is not used (``instrument`` carries the
live rate).

Keep-alive (bitmex.com/app/wsAPI, "Heartbeats"): after about 5 s without a message send the text
``ping``; the server answers ``pong``.

Packaged metadata: XBTUSD from recorded instrument rows (multiplier -100000000,
underlyingToSettleMultiplier -100000000); XBTUSDT 1e-6 BTC, ETHUSDT 1e-5 ETH, XRPUSDT 0.01 XRP per
contract (underlyingToPositionMultiplier 1000000 / 100000 / 100, recorded specs 2026-05); SOLUSDT
1e-4 SOL per contract is from a secondary source and is refreshed from REST at start-up.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from monitor.instruments import Instrument
from monitor.venues.base import (
    CHANNELS,
    Channel,
    ConnectionPlan,
    Heartbeat,
    Stream,
    VenueEndpoints,
    VenueSpec,
)
from monitor.venues.bitmex.parse import VENUE_ID, BitmexParser, interval_hours
from monitor.venues.bitmex.schemas import BitmexInstrumentRow
from monitor.venues.planning import json_frame, perp, plan_chunks, topics_of

__all__ = [
    "VENUE",
    "BitmexParser",
    "asset_of",
    "parse_instruments",
    "plan_connections",
    "topic",
]

WS_PATH = "/realtime"
MAX_TOPICS_PER_CONNECTION = 200
ARGS_PER_SUBSCRIBE = 20

_TABLES: dict[Channel, str] = {
    "trades": "trade",
    "liquidations": "liquidation",
    "funding": "instrument",
    "open_interest": "instrument",
    "quotes": "quote",
}
_ASSET_ALIASES = {"XBT": "BTC"}


def asset_of(code: str) -> str:
    """Return the normalized asset of a BitMEX currency code (XBT -> BTC)."""
    code = code.upper()
    return _ASSET_ALIASES.get(code, code)


def topic(stream: Stream) -> str:
    """Return the ``table:SYMBOL`` subscription of a stream (``table`` for all symbols)."""
    table = _TABLES[stream.channel]
    return table if stream.symbol == "*" else f"{table}:{stream.symbol}"


def plan_connections(endpoints: VenueEndpoints, streams: Sequence[Stream]) -> list[ConnectionPlan]:
    """Subscribe ``{"op":"subscribe","args":[...]}`` in chunks of 20 topics."""
    return plan_chunks(
        endpoints.ws_url(WS_PATH),
        "realtime",
        topics_of(streams, topic),
        MAX_TOPICS_PER_CONNECTION,
        ARGS_PER_SUBSCRIBE,
        lambda names, _: json_frame({"op": "subscribe", "args": names}),
    )


def parse_instruments(body: bytes) -> list[Instrument]:
    """Read open perpetuals from ``GET /api/v1/instrument/active``.

    Inverse: ``contract_size`` = USD per contract = ``multiplier / underlyingToSettleMultiplier``
    (1 for XBTUSD). Linear: base units per contract = ``1 / underlyingToPositionMultiplier``.
    Quanto contracts and rows missing those multipliers are skipped (never guessed).
    """
    rows = msgspec.json.decode(body, type=list[BitmexInstrumentRow], strict=False)
    out: list[Instrument] = []
    for r in rows:
        if not (r.typ or "").startswith("FFWCS") or r.state not in (None, "Open"):
            continue  # perpetual swaps only
        if r.isQuanto:
            continue
        if r.isInverse:
            if not r.multiplier or not r.underlyingToSettleMultiplier:
                continue
            contract_size = r.multiplier / r.underlyingToSettleMultiplier
        else:
            if not r.underlyingToPositionMultiplier:
                continue
            contract_size = 1.0 / r.underlyingToPositionMultiplier
        base = asset_of(r.underlying or r.rootSymbol or "")
        quote = (r.quoteCurrency or "").upper()
        if not base or not quote or contract_size <= 0:
            continue
        out.append(
            perp(
                VENUE_ID,
                r.symbol,
                base,
                quote,
                inverse=bool(r.isInverse),
                contract_size=contract_size,
                funding_interval_h=interval_hours(r.fundingInterval) if r.fundingInterval else 8.0,
            )
        )
    return out


VENUE = VenueSpec(
    venue=VENUE_ID,
    kind="derivatives",
    endpoints=VenueEndpoints(ws="wss://ws.bitmex.com", rest="https://www.bitmex.com"),
    heartbeat=Heartbeat(interval_s=5.0, message="ping", idle_only=True),
    channels=CHANNELS,
    default_symbols=("XBTUSD", "XBTUSDT", "ETHUSDT", "SOLUSDT"),
    plan=plan_connections,
    make_parser=BitmexParser,
    instruments_url="/api/v1/instrument/active",
    parse_instruments=parse_instruments,
    all_market_channels=frozenset({"liquidations"}),
    quiet_s={
        "trades": 120.0,
        "liquidations": 6 * 3600.0,
        "funding": 60.0,
        "open_interest": 60.0,
        "quotes": 60.0,
    },
    notes=(
        "Liquidations are open liquidation ORDERS without timestamps, counted once when they "
        "appear at leavesQty and order price (ts_event = receive time), not fills. Quanto "
        "contracts (ETHUSD) are not covered."
    ),
)
