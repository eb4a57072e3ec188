"""OKX v5 perpetual swaps [okx-swap]: linear (``BTC-USDT-SWAP``) and inverse (``BTC-USD-SWAP``).

Channels on ``/ws/v5/public`` (docs: OKX v5 API, "Public data → WebSocket"):

* trades: ``trades`` (may aggregate several fills; ``side`` is the taker side);
* liquidations: ``liquidation-orders`` with ``instType=SWAP``: every swap instrument on one
  channel, and SAMPLED ("doesn't represent the total number of liquidations", at most one order
  per contract per second), so totals are lower bounds. The liquidated position is ``posSide``
  in hedge mode, else (``net``) a ``sell`` order closes a long;
* funding: ``funding-rate`` (every 30-90 s; the interval, 1-8 h, is ``nextFundingTime -
  fundingTime``) with the mark price from ``mark-price``;
* open interest: ``open-interest`` (``oi`` contracts, ``oiCcy`` coin, ``oiUsd``);
* quotes: ``tickers`` (best bid/ask).

Sizes are contracts × ``ctVal`` × ``ctMult`` (the instrument's ``contract_size``): base coin for
linear swaps, USD for inverse swaps (base = USD / price). Keep-alive: the text ``ping`` after 25 s
without a frame; the server answers ``pong`` and drops connections silent for 30 s.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec
import structlog

from monitor.instruments import Instrument
from monitor.venues.base import (
    ConnectionPlan,
    Heartbeat,
    RestPoll,
    Stream,
    VenueEndpoints,
    VenueSpec,
)
from monitor.venues.okx_swap.parse import VENUE_ID, OkxSwapParser, base_and_notional
from monitor.venues.okx_swap.schemas import OkxInstruments

__all__ = [
    "VENUE",
    "OkxSwapParser",
    "base_and_notional",
    "channel_args",
    "parse_instruments",
    "plan_connections",
    "plan_polls",
]

log = structlog.get_logger(__name__)

WS_PATH = "/ws/v5/public"
MAX_ARGS_PER_CONNECTION = 300  # smaller connections fail smaller
ARGS_PER_SUBSCRIBE = 100  # ~6 KB per request, far below OKX's 64 KB; 480 requests/h/connection
_LIQUIDATIONS_ARG = (("channel", "liquidation-orders"), ("instType", "SWAP"))

Arg = tuple[tuple[str, str], ...]


def channel_args(stream: Stream) -> list[Arg]:
    """Return the OKX subscribe args a stream needs (funding and OI also need ``mark-price``)."""
    if stream.channel == "liquidations":
        return [_LIQUIDATIONS_ARG]
    if stream.symbol == "*":
        return []
    inst = ("instId", stream.symbol)
    mark = (("channel", "mark-price"), inst)
    if stream.channel == "trades":
        return [(("channel", "trades"), inst)]
    if stream.channel == "funding":
        return [(("channel", "funding-rate"), inst), mark]
    if stream.channel == "open_interest":
        return [(("channel", "open-interest"), inst), mark]
    return [(("channel", "tickers"), inst)]


def plan_connections(endpoints: VenueEndpoints, streams: Sequence[Stream]) -> list[ConnectionPlan]:
    """Keep each instrument's args on one connection; ≤300 args per connection, ≤100 per request.

    ``liquidation-orders`` (all swaps) is subscribed once, on the first connection.
    """
    groups: dict[str, dict[Arg, list[Stream]]] = {}
    for st in streams:
        args = channel_args(st)
        if not args:
            log.warning("okx.wildcard_unsupported", channel=st.channel)
            continue
        key = "*" if st.channel == "liquidations" else st.symbol
        group = groups.setdefault(key, {})
        for arg in args:
            group.setdefault(arg, []).append(st)
    # liquidation-orders first, so that it lands on the first connection
    ordered = sorted(groups.items(), key=lambda kv: (kv[0] != "*", kv[0]))
    chunks: list[dict[Arg, list[Stream]]] = []
    for _, group in ordered:
        if not chunks or len(chunks[-1]) + len(group) > MAX_ARGS_PER_CONNECTION:
            chunks.append({})
        chunks[-1].update(group)
    base = endpoints.ws.rstrip("/")
    plans: list[ConnectionPlan] = []
    for n, chunk in enumerate(chunks):
        arg_dicts = [dict(a) for a in chunk]
        subs = tuple(
            msgspec.json.encode(
                {
                    "id": f"{n}x{j // ARGS_PER_SUBSCRIBE}",
                    "op": "subscribe",
                    "args": arg_dicts[j : j + ARGS_PER_SUBSCRIBE],
                }
            ).decode()
            for j in range(0, len(arg_dicts), ARGS_PER_SUBSCRIBE)
        )
        plans.append(
            ConnectionPlan(
                key=f"public-{n}",
                url=f"{base}{WS_PATH}",
                subscribe=subs,
                streams=tuple(dict.fromkeys(s for ss in chunk.values() for s in ss)),
            )
        )
    return plans


def plan_polls(endpoints: VenueEndpoints, streams: Sequence[Stream]) -> list[RestPoll]:
    """OKX streams every channel over websockets: nothing to poll."""
    return []


_instruments_decoder = msgspec.json.Decoder(OkxInstruments, strict=False)


def parse_instruments(body: bytes) -> list[Instrument]:
    """Read swaps from ``GET /api/v5/public/instruments?instType=SWAP``.

    ``contract_size`` = ``ctVal × ctMult``: base coin (linear) or USD (inverse). The funding
    interval is left 0 (unknown): OKX intervals vary, each ``funding-rate`` frame states it.
    """
    info = _instruments_decoder.decode(body)
    out: list[Instrument] = []
    for i in info.data:
        family = i.instFamily or i.uly
        base, _, quote = family.partition("-")
        if i.instType != "SWAP" or not i.ctVal or not base or not quote:
            continue  # pre-listing instruments have empty fields
        try:
            contract_size = float(i.ctVal) * (float(i.ctMult) if i.ctMult else 1.0)
        except ValueError:
            log.warning("okx.bad_instrument", inst_id=i.instId, ct_val=i.ctVal, ct_mult=i.ctMult)
            continue
        out.append(
            Instrument(
                venue=VENUE_ID,
                symbol=i.instId,
                instrument=f"{base}-{quote}-PERP",
                base=base,
                quote=quote,
                kind="perp",
                inverse=i.ctType == "inverse",
                contract_size=contract_size,
                funding_interval_h=0.0,
            )
        )
    return out


def requests_reconnect(frame: str) -> bool:
    """True for the service-upgrade notice (64008) that precedes a server-side disconnect."""
    if '"64008"' not in frame:
        return False
    try:
        msg = msgspec.json.decode(frame)
    except msgspec.DecodeError:
        return False
    return isinstance(msg, dict) and msg.get("event") == "notice" and msg.get("code") == "64008"


VENUE = VenueSpec(
    venue=VENUE_ID,
    kind="derivatives",
    endpoints=VenueEndpoints(ws="wss://ws.okx.com:8443", rest="https://www.okx.com"),
    heartbeat=Heartbeat(interval_s=25.0, message="ping", idle_only=True),
    lifetime_s=None,
    channels=("trades", "liquidations", "funding", "open_interest", "quotes"),
    default_symbols=(
        "BTC-USDT-SWAP",
        "ETH-USDT-SWAP",
        "SOL-USDT-SWAP",
        "XRP-USDT-SWAP",
        "DOGE-USDT-SWAP",
        "BTC-USD-SWAP",
        "ETH-USD-SWAP",
    ),
    plan=plan_connections,
    polls=plan_polls,
    make_parser=OkxSwapParser,
    instruments_url="/api/v5/public/instruments?instType=SWAP",
    parse_instruments=parse_instruments,
    quiet_s={
        "trades": 120.0,
        "liquidations": 3600.0,
        "funding": 180.0,
        "open_interest": 120.0,
        "quotes": 60.0,
    },
    reconnect_on=requests_reconnect,
    notes=(
        "liquidation-orders is sampled (at most one order per contract per second, 'doesn't "
        "represent the total'): liquidation totals are lower bounds. It covers every SWAP "
        "instrument, whatever symbols are configured. Funding intervals vary (1-8 h) and are read "
        "from each funding-rate frame. A service-upgrade notice (64008) makes the connection "
        "manager reconnect at once."
    ),
)
