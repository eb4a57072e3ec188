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
from monitor.venues.base import (
    ConnectionPlan,
    Heartbeat,
    RestPoll,
    Stream,
    VenueEndpoints,
    VenueSpec,
)
from monitor.venues.hyperliquid.parse import FUNDING_INTERVAL_H, VENUE_ID, HyperliquidParser
from monitor.venues.hyperliquid.schemas import HlMeta

__all__ = [
    "INSTRUMENTS_BODY",
    "VENUE",
    "HyperliquidParser",
    "parse_instruments",
    "plan_connections",
    "plan_polls",
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
    subs: dict[tuple[str, str], list[Stream]] = {}
    for st in streams:
        sub = subscription(st)
        if sub is not None:
            subs.setdefault(sub, []).append(st)
    items = list(subs.items())
    base = endpoints.ws.rstrip("/")
    plans: list[ConnectionPlan] = []
    for n, i in enumerate(range(0, len(items), MAX_SUBSCRIPTIONS_PER_CONNECTION)):
        chunk = items[i : i + MAX_SUBSCRIPTIONS_PER_CONNECTION]
        plans.append(
            ConnectionPlan(
                key=f"ws-{n}",
                url=f"{base}{WS_PATH}",
                subscribe=tuple(
                    msgspec.json.encode(
                        {"method": "subscribe", "subscription": {"type": kind, "coin": coin}}
                    ).decode()
                    for (kind, coin), _ in chunk
                ),
                streams=tuple(st for _, sts in chunk for st in sts),
            )
        )
    return plans


def plan_polls(endpoints: VenueEndpoints, streams: Sequence[Stream]) -> list[RestPoll]:
    """Hyperliquid streams every channel it has over websockets: nothing to poll."""
    return []


_meta_decoder = msgspec.json.Decoder(HlMeta, strict=False)
_meta_and_ctxs_decoder = msgspec.json.Decoder(tuple[HlMeta, msgspec.Raw], strict=False)


def parse_instruments(body: bytes) -> list[Instrument]:
    """Read perps from ``POST /info`` ``{"type":"meta"}`` (or ``metaAndAssetCtxs``)."""
    try:
        meta = _meta_decoder.decode(body)
    except msgspec.ValidationError:
        meta = _meta_and_ctxs_decoder.decode(body)[0]
    return [
        Instrument(
            venue=VENUE_ID,
            symbol=a.name,
            instrument=f"{a.name}-USDC-PERP",
            base=a.name,
            quote="USDC",
            kind="perp",
            contract_size=1.0,
            funding_interval_h=FUNDING_INTERVAL_H,
        )
        for a in meta.universe
        if not a.isDelisted
    ]


VENUE = VenueSpec(
    venue=VENUE_ID,
    kind="derivatives",
    endpoints=VenueEndpoints(ws="wss://api.hyperliquid.xyz", rest="https://api.hyperliquid.xyz"),
    heartbeat=Heartbeat(interval_s=30.0, message='{"method":"ping"}'),
    lifetime_s=None,
    channels=("trades", "funding", "open_interest", "quotes"),
    default_symbols=("BTC", "ETH", "SOL", "XRP", "DOGE", "HYPE"),
    plan=plan_connections,
    polls=plan_polls,
    make_parser=HyperliquidParser,
    instruments_url="/info",
    instruments_body=INSTRUMENTS_BODY,
    parse_instruments=parse_instruments,
    quiet_s={"trades": 120.0, "funding": 60.0, "open_interest": 60.0, "quotes": 60.0},
    notes=(
        "No public liquidation feed: Hyperliquid reports liquidations only in user-scoped "
        "streams, so liquidation totals exclude Hyperliquid. Funding is hourly (rate_8h = 8 x). "
        "Open interest is in coins as published (third-party sources call it two-sided: "
        "unverified). activeAssetCtx has no timestamp: ts_event = receive time."
    ),
)
