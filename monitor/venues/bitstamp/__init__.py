"""Bitstamp [bitstamp]: USD-quoted stablecoin books (``wss://ws.bitstamp.net``).

Channels: quotes (``order_book_{pair}``: top 100 levels on every change; we keep the first),
trades (``live_trades_{pair}``). One ``bts:subscribe`` frame per channel. Keep-alive: the client
sends ``{"event":"bts:heartbeat"}`` (answered with ``bts:heartbeat`` status success). The server
may send ``bts:request_reconnect`` before maintenance: the connection should be re-established
(the parser returns ``[]``; see the note to the connection manager). Connections live at most
90 days.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from monitor.instruments import Instrument
from monitor.venues.base import ConnectionPlan, Heartbeat, Stream, VenueEndpoints, VenueSpec
from monitor.venues.bitstamp.parse import (
    BOOK_PREFIX,
    RECONNECT_EVENT,
    TRADES_PREFIX,
    VENUE_ID,
    BitstampParser,
)
from monitor.venues.bitstamp.schemas import BitstampPair
from monitor.venues.planning import frame_matches, json_frame, one_connection, spot

__all__ = [
    "RECONNECT_EVENT",
    "VENUE",
    "BitstampParser",
    "parse_instruments",
    "plan_connections",
    "requests_reconnect",
]

WS_PATH = "/"
HEARTBEAT_MESSAGE = '{"event":"bts:heartbeat"}'


def plan_connections(endpoints: VenueEndpoints, streams: Sequence[Stream]) -> list[ConnectionPlan]:
    """One connection, one ``bts:subscribe`` frame per channel."""
    channels: dict[str, list[Stream]] = {}
    for st in streams:
        if st.symbol == "*":
            continue
        if st.channel == "quotes":
            channels.setdefault(BOOK_PREFIX + st.symbol.lower(), []).append(st)
        elif st.channel == "trades":
            channels.setdefault(TRADES_PREFIX + st.symbol.lower(), []).append(st)
    frames = [json_frame({"event": "bts:subscribe", "data": {"channel": ch}}) for ch in channels]
    kept = (st for sts in channels.values() for st in sts)
    return one_connection(endpoints.ws_url(WS_PATH), "ws", frames, kept)


def parse_instruments(body: bytes) -> list[Instrument]:
    """Read pairs from ``GET /api/v2/trading-pairs-info/`` (symbol = ``url_symbol``)."""
    rows = msgspec.json.decode(body, type=list[BitstampPair], strict=False)
    out: list[Instrument] = []
    for p in rows:
        if "/" not in p.name or p.trading != "Enabled":
            continue
        base, quote = (x.upper() for x in p.name.split("/", 1))
        out.append(spot(VENUE_ID, p.url_symbol, base, quote))
    return out


def requests_reconnect(frame: str) -> bool:
    """True for ``bts:request_reconnect`` (maintenance ahead: reconnect now)."""
    return frame_matches(frame, event=RECONNECT_EVENT)


VENUE = VenueSpec(
    venue=VENUE_ID,
    kind="spot",
    endpoints=VenueEndpoints(ws="wss://ws.bitstamp.net", rest="https://www.bitstamp.net"),
    heartbeat=Heartbeat(interval_s=10.0, message=HEARTBEAT_MESSAGE),
    lifetime_s=90 * 24 * 3600.0,
    channels=("trades", "quotes"),
    default_symbols=("usdtusd", "usdcusd", "daiusd", "pyusdusd", "usdcusdt"),
    plan=plan_connections,
    make_parser=BitstampParser,
    instruments_url="/api/v2/trading-pairs-info/",
    parse_instruments=parse_instruments,
    quiet_s={"quotes": 300.0, "trades": 1800.0},
    reconnect_on=requests_reconnect,
    notes="Spot only. bts:request_reconnect makes the connection manager reconnect at once.",
)
