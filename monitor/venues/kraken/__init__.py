"""Kraken Spot v2 [kraken]: USD-quoted stablecoin books for peg monitoring.

Channels: quotes (``ticker`` with ``event_trigger: "bbo"``: one update per best-bid/offer
change), trades (``trade``, subscribed with ``snapshot: false`` so a reconnect does not replay the
last 50 trades). No derivatives channels. ``notional_usd`` of a trade is price * qty in the quote
currency (USD, or USDT taken at par for USDT-quoted pairs).

Keep-alive: the server sends ``{"channel":"heartbeat"}`` about once a second when a connection
is otherwise idle; the client sends ``{"method":"ping"}`` every 30 s (answered by
``{"method":"pong",...}``).
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from monitor.instruments import Instrument
from monitor.venues.base import ConnectionPlan, Heartbeat, Stream, VenueEndpoints, VenueSpec
from monitor.venues.kraken.parse import VENUE_ID, KrakenParser
from monitor.venues.kraken.schemas import KrakenAssetPairs
from monitor.venues.planning import json_frame, one_connection, spot, symbols_of

__all__ = ["VENUE", "KrakenParser", "parse_instruments", "plan_connections"]

WS_PATH = "/v2"
SYMBOLS_PER_SUBSCRIBE = 50
_ALIASES = {"XBT": "BTC", "XDG": "DOGE"}


def plan_connections(endpoints: VenueEndpoints, streams: Sequence[Stream]) -> list[ConnectionPlan]:
    """One connection: a ``ticker`` (bbo) and a ``trade`` subscribe per 50 symbols."""
    frames: list[str] = []
    rid = 0
    for channel, symbols in (
        ("ticker", symbols_of(streams, "quotes")),
        ("trade", symbols_of(streams, "trades")),
    ):
        for i in range(0, len(symbols), SYMBOLS_PER_SUBSCRIBE):
            rid += 1
            params: dict[str, object] = {
                "channel": channel,
                "symbol": symbols[i : i + SYMBOLS_PER_SUBSCRIBE],
            }
            if channel == "ticker":
                params["event_trigger"] = "bbo"
            else:
                params["snapshot"] = False
            frames.append(json_frame({"method": "subscribe", "params": params, "req_id": rid}))
    kept = (s for s in streams if s.channel in ("quotes", "trades") and s.symbol != "*")
    return one_connection(endpoints.ws_url(WS_PATH), "v2", frames, kept)


def _asset(code: str) -> str:
    code = code.upper()
    return _ALIASES.get(code, code)


def parse_instruments(body: bytes) -> list[Instrument]:
    """Read spot pairs from ``GET /0/public/AssetPairs`` (symbol = the ``wsname``)."""
    pairs = msgspec.json.decode(body, type=KrakenAssetPairs, strict=False)
    out: list[Instrument] = []
    for p in pairs.result.values():
        if "/" not in p.wsname:
            continue
        base_code, quote_code = p.wsname.split("/", 1)
        base, quote = _asset(base_code), _asset(quote_code)
        symbol = f"{base}/{quote}"  # v2 names XBT as BTC
        out.append(spot(VENUE_ID, symbol, base, quote))
    return out


VENUE = VenueSpec(
    venue=VENUE_ID,
    kind="spot",
    endpoints=VenueEndpoints(ws="wss://ws.kraken.com", rest="https://api.kraken.com"),
    heartbeat=Heartbeat(interval_s=30.0, message='{"method":"ping"}'),
    channels=("trades", "quotes"),
    default_symbols=("USDT/USD", "USDC/USD", "DAI/USD", "PYUSD/USD", "USDS/USD", "USDC/USDT"),
    plan=plan_connections,
    make_parser=KrakenParser,
    instruments_url="/0/public/AssetPairs",
    parse_instruments=parse_instruments,
    quiet_s={"quotes": 600.0, "trades": 1800.0},
    notes=(
        "Spot only: quotes and trades. Stablecoin books can sit unchanged for minutes; the "
        "1 s server heartbeat tells a quiet book from a dead connection."
    ),
)
