"""Hyperliquid perpetuals [hyperliquid] (USDC-margined: instruments ``<COIN>-USDC-PERP``).

Channels on ``/ws`` (docs: Hyperliquid GitBook, "Websocket → Subscriptions"), one subscription
message per coin per channel:

* trades: ``trades`` (``side`` "B" = the aggressor bought, "A" = sold; about 30 recent trades are
  back-filled on every subscribe and dropped by the parser);
* funding and open interest: ``activeAssetCtx`` (``funding`` is the HOURLY rate, so
  ``interval_h`` = 1 and ``rate_8h`` = 8 × rate; ``openInterest`` in coins, valued at
  ``markPx``; the context has no timestamp, so ``ts_event`` is the receive time);
* quotes: ``bbo``.

**No liquidations**: Hyperliquid publishes no market-wide liquidation feed (liquidations appear
only in user-scoped ``userEvents``/``userFills``), so ``liquidations`` is not among the channels.

Keep-alive: the server closes a connection it has sent nothing to for 60 s; the client sends
``{"method":"ping"}`` (answered by ``{"channel":"pong"}``) every 30 s. Instrument metadata comes
from ``POST /info`` with the body ``{"type":"meta"}``.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from monitor.instruments import Instrument
from monitor.venues.base import ConnectionPlan, Heartbeat, Stream, VenueEndpoints, VenueSpec
from monitor.venues.deriving import derive_perp, split_multiplier
from monitor.venues.hyperliquid.parse import FUNDING_INTERVAL_H, VENUE_ID, HyperliquidParser
from monitor.venues.hyperliquid.schemas import HlMeta
from monitor.venues.planning import json_frame, perp, plan_chunks, topics_of

__all__ = [
    "INSTRUMENTS_BODY",
    "VENUE",
    "HyperliquidParser",
    "derive_instrument",
    "parse_instruments",
    "plan_connections",
    "subscription",
]

WS_PATH = "/ws"
INSTRUMENTS_BODY = b'{"type":"meta"}'  # POST body of instruments_url
MAX_SUBSCRIPTIONS_PER_CONNECTION = 100  # HL: 1000 subscriptions and ≤10 connections per IP

_SUBSCRIPTION_TYPES = {
    "trades": "trades",
    "funding": "activeAssetCtx",
    "open_interest": "activeAssetCtx",
    "quotes": "bbo",
}


def subscription(stream: Stream) -> tuple[str, str] | None:
    """Return the ``(type, coin)`` subscription of a stream, or None (no such public feed)."""
    kind = _SUBSCRIPTION_TYPES.get(stream.channel)
    if kind is None or stream.symbol == "*":
        return None
    return kind, stream.symbol


def plan_connections(endpoints: VenueEndpoints, streams: Sequence[Stream]) -> list[ConnectionPlan]:
    """One subscribe message per (coin, type); at most 100 subscriptions per connection."""

    def frame(subs: list[tuple[str, str]], _: int) -> str:
        ((kind, coin),) = subs
        return json_frame({"method": "subscribe", "subscription": {"type": kind, "coin": coin}})

    return plan_chunks(
        endpoints.ws_url(WS_PATH),
        "ws",
        topics_of(streams, subscription),
        MAX_SUBSCRIPTIONS_PER_CONNECTION,
        1,
        frame,
    )


_meta_decoder = msgspec.json.Decoder(HlMeta, strict=False)
_meta_and_ctxs_decoder = msgspec.json.Decoder(tuple[HlMeta, msgspec.Raw], strict=False)


def parse_instruments(body: bytes) -> list[Instrument]:
    """Read perps from ``POST /info`` ``{"type":"meta"}`` (or ``metaAndAssetCtxs``).

    ``kPEPE`` (sizes and prices per 1000 PEPE) becomes PEPE with multiplier 1000.
    """
    try:
        meta = _meta_decoder.decode(body)
    except msgspec.ValidationError:
        meta = _meta_and_ctxs_decoder.decode(body)[0]
    out = []
    for a in meta.universe:
        if not a.isDelisted:
            coin, multiplier = split_multiplier(a.name, lower_k=True)
            out.append(
                perp(
                    VENUE_ID,
                    a.name,
                    coin,
                    "USDC",
                    funding_interval_h=FUNDING_INTERVAL_H,
                    multiplier=multiplier,
                )
            )
    return out


def derive_instrument(symbol: str) -> Instrument | None:
    """A perp read from a coin missing from the meta (every perp is USDC-margined, sizes in
    coins; ``kPEPE`` is 1000 PEPE). Names that are not plain coins (``@107``) give None."""
    return derive_perp(
        VENUE_ID, symbol, (("", "USDC"),), funding_interval_h=FUNDING_INTERVAL_H, lower_k=True
    )


VENUE = VenueSpec(
    venue=VENUE_ID,
    kind="derivatives",
    endpoints=VenueEndpoints(ws="wss://api.hyperliquid.xyz", rest="https://api.hyperliquid.xyz"),
    heartbeat=Heartbeat(interval_s=30.0, message='{"method":"ping"}'),
    channels=("trades", "funding", "open_interest", "quotes"),
    default_symbols=("BTC", "ETH", "SOL", "XRP", "DOGE", "HYPE"),
    plan=plan_connections,
    make_parser=HyperliquidParser,
    instruments_url="/info",
    instruments_body=INSTRUMENTS_BODY,
    parse_instruments=parse_instruments,
    derive_instrument=derive_instrument,
    quiet_s={"trades": 120.0, "funding": 60.0, "open_interest": 60.0, "quotes": 60.0},
    notes=(
        "No public liquidation feed: Hyperliquid reports liquidations only in user-scoped "
        "streams, so liquidation totals exclude Hyperliquid. Funding is hourly (rate_8h = 8 x). "
        "Open interest is in coins as published (third-party sources call it two-sided: "
        "unverified). activeAssetCtx has no timestamp: ts_event = receive time."
    ),
)
