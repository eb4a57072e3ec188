"""Deribit [deribit]: inverse BTC/ETH perpetuals and linear USDC perpetuals (JSON-RPC 2.0).

Channels: trades (``trades.{instr}.100ms``), liquidations (the same trades, flagged with
``liquidation`` = M/T/MT: Deribit has no separate liquidation feed, and the flags are complete
for Deribit), funding, open interest and quotes (``ticker.{instr}.100ms``). Unauthenticated
clients must use ``100ms`` or ``agg2``: ``raw`` answers error 13778.

Keep-alive: the first frame of every connection is ``public/set_heartbeat {"interval": 30}``; the
server then sends ``{"method":"heartbeat","params":{"type":"test_request"}}`` which must be
answered with ``public/test`` (:func:`respond`), or the server closes the connection (code 4000
``heartbeat close``) about 10 s later.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import msgspec

from monitor.instruments import Instrument
from monitor.venues.base import CHANNELS, ConnectionPlan, Stream, VenueEndpoints, VenueSpec
from monitor.venues.deribit.parse import FUNDING_INTERVAL_H, VENUE_ID, DeribitParser
from monitor.venues.deribit.schemas import DeribitInstruments
from monitor.venues.planning import json_frame, perp, plan_chunks, topics_of

__all__ = [
    "HEARTBEAT_INTERVAL_S",
    "VENUE",
    "DeribitParser",
    "channel_name",
    "parse_instruments",
    "plan_connections",
    "respond",
]

WS_PATH = "/ws/api/v2"
HEARTBEAT_INTERVAL_S = 30  # public/set_heartbeat interval (the venue's minimum is 10)
INTERVAL = "100ms"  # raw needs authentication
MAX_CHANNELS_PER_CONNECTION = 400  # Deribit suggests batches of up to 500 channels per call
CHANNELS_PER_SUBSCRIBE = 100
_TEST_IDS = itertools.count(1_000_000)  # ids of public/test replies, apart from subscribe ids


def channel_name(stream: Stream) -> str:
    """Return the Deribit channel carrying ``stream`` (trades and liquidations share one)."""
    if stream.channel in ("trades", "liquidations"):
        return f"trades.{stream.symbol}.{INTERVAL}"
    return f"ticker.{stream.symbol}.{INTERVAL}"


def _rpc(rid: int, method: str, params: dict[str, object]) -> str:
    return json_frame({"jsonrpc": "2.0", "id": rid, "method": method, "params": params})


def plan_connections(endpoints: VenueEndpoints, streams: Sequence[Stream]) -> list[ConnectionPlan]:
    """One connection per 400 channels: ``set_heartbeat`` first, then ``public/subscribe``."""
    return plan_chunks(
        endpoints.ws_url(WS_PATH),
        "ws",
        topics_of(streams, lambda st: None if st.symbol == "*" else channel_name(st)),
        MAX_CHANNELS_PER_CONNECTION,
        CHANNELS_PER_SUBSCRIBE,
        lambda names, k: _rpc(k + 2, "public/subscribe", {"channels": names}),
        preamble=(_rpc(1, "public/set_heartbeat", {"interval": HEARTBEAT_INTERVAL_S}),),
    )


def respond(frame: str) -> str | None:
    """Answer a server ``test_request`` heartbeat with ``public/test``; None for anything else."""
    if "test_request" not in frame or '"heartbeat"' not in frame:
        return None
    return _rpc(next(_TEST_IDS), "public/test", {})


def parse_instruments(body: bytes) -> list[Instrument]:
    """Read perpetuals from ``GET /api/v2/public/get_instruments?currency=<C>&kind=future``.

    The lists are per settlement currency: BTC and ETH (inverse), USDC (linear perps).

    ``contract_size`` is stored as 1.0: Deribit states trade and book amounts in USD (inverse)
    or in the base coin (linear), never in contracts.
    """
    rows = msgspec.json.decode(body, type=DeribitInstruments, strict=False).result
    out: list[Instrument] = []
    for r in rows:
        if r.kind != "future" or r.settlement_period != "perpetual" or not r.is_active:
            continue
        out.append(
            perp(
                VENUE_ID,
                r.instrument_name,
                r.base_currency.upper(),
                r.quote_currency.upper(),
                inverse=r.instrument_type == "reversed",
                funding_interval_h=FUNDING_INTERVAL_H,
            )
        )
    return out


VENUE = VenueSpec(
    venue=VENUE_ID,
    kind="derivatives",
    endpoints=VenueEndpoints(ws="wss://www.deribit.com", rest="https://www.deribit.com"),
    # heartbeat: server-driven (set_heartbeat + test_request, answered by respond);
    # lifetime: none ("WebSocket connections have no fixed expiration timer")
    channels=CHANNELS,
    default_symbols=(
        "BTC-PERPETUAL",
        "ETH-PERPETUAL",
        "BTC_USDC-PERPETUAL",
        "ETH_USDC-PERPETUAL",
        "SOL_USDC-PERPETUAL",
    ),
    plan=plan_connections,
    make_parser=DeribitParser,
    instruments_url="/api/v2/public/get_instruments?currency=BTC&kind=future",
    extra_instruments_urls=(
        "/api/v2/public/get_instruments?currency=ETH&kind=future",
        "/api/v2/public/get_instruments?currency=USDC&kind=future",  # linear USDC perps
    ),
    parse_instruments=parse_instruments,
    respond=respond,
    quiet_s={
        "trades": 120.0,
        "liquidations": 6 * 3600.0,
        "funding": 10.0,
        "open_interest": 10.0,
        "quotes": 10.0,
    },
    notes=(
        "Liquidations are the trades flagged M/T/MT on the trades channel (complete for Deribit). "
        "Funding is current_funding, an 8-hour rate accrued continuously (no funding times). "
        "Inverse perps state sizes and open interest in USD; linear USDC perps in the base coin."
    ),
)
