"""Gate API v4 spot [gate-spot]: USDT-quoted stablecoin books (FDUSD, USDC and USDS vs USDT).

Gate quotes FDUSD against USDT, which neither OKX, Kraken, Coinbase nor Bitstamp list: it is the
third venue of FDUSD's peg quorum (with Binance and Bybit spot). It also quotes Sky's USDS (the
DAI successor, 2024) against USDT, one of USDS's quorum venues (see SOURCES.md). Channels on
``wss://api.gateio.ws/ws/v4/`` (Gate's websocket docs and SDK, gateio/gatews): quotes from
``spot.book_ticker`` (best bid and ask, sizes in base units), trades from ``spot.trades`` (taker
side). One subscribe request per channel carries every pair (``payload``); each request states
its send time (``time``, seconds), and the client pings with ``spot.ping`` every 10 s as Gate's
own clients do. These are relative prices: the instrument keeps USDT as quote
(``FDUSD-USDT-SPOT``) and the peg processor converts it through USDT's own USD deviation.
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
from monitor.venues.gate_spot.parse import VENUE_ID, GateSpotParser
from monitor.venues.gate_spot.schemas import GatePair
from monitor.venues.planning import json_frame, one_connection, spot, symbols_of

__all__ = ["VENUE", "GateSpotParser", "parse_instruments", "plan_connections", "stamp"]

WS_PATH = "/ws/v4/"
#: our channel -> Gate's
CHANNELS: dict[Channel, str] = {"quotes": "spot.book_ticker", "trades": "spot.trades"}
#: what a request states as its time until :func:`stamp` writes the send time
_UNSTAMPED = '"time":0,'


def _request(channel: str, pairs: list[str]) -> str:
    return json_frame({"time": 0, "channel": channel, "event": "subscribe", "payload": pairs})


def plan_connections(endpoints: VenueEndpoints, streams: Sequence[Stream]) -> list[ConnectionPlan]:
    """One connection: a subscribe request per channel with all its pairs."""
    frames = [
        _request(gate, pairs)
        for channel, gate in CHANNELS.items()
        if (pairs := symbols_of(streams, channel))
    ]
    kept = [s for s in streams if s.channel in CHANNELS and s.symbol != "*"]
    return one_connection(endpoints.ws_url(WS_PATH), "spot", frames, kept)


def stamp(frame: str, now_s: float) -> str:
    """A request with its send time (Gate requests carry ``time``, in seconds)."""
    return frame.replace(_UNSTAMPED, f'"time":{int(now_s)},', 1)


_pairs_decoder = msgspec.json.Decoder(list[GatePair], strict=False)


def parse_instruments(body: bytes) -> list[Instrument]:
    """Read tradable pairs from ``GET /api/v4/spot/currency_pairs``."""
    return [
        spot(VENUE_ID, p.id, p.base, p.quote)
        for p in _pairs_decoder.decode(body)
        if p.trade_status == "tradable"
    ]


VENUE = VenueSpec(
    venue=VENUE_ID,
    kind="spot",
    endpoints=VenueEndpoints(ws="wss://api.gateio.ws", rest="https://api.gateio.ws"),
    heartbeat=Heartbeat(interval_s=10.0, message='{"time":0,"channel":"spot.ping"}'),
    channels=("trades", "quotes"),
    default_symbols=("FDUSD_USDT", "USDC_USDT", "USDS_USDT"),
    plan=plan_connections,
    make_parser=GateSpotParser,
    instruments_url="/api/v4/spot/currency_pairs",
    parse_instruments=parse_instruments,
    stamp=stamp,
    quiet_s={"quotes": 60.0, "trades": 600.0},
    notes=(
        "Spot only, USDT-quoted (relative pegs): converted through USDT's USD deviation. "
        "No funding, liquidations or open interest on spot."
    ),
)
