"""Parse Deribit JSON-RPC frames into normalized events.

Units (docs.deribit.com ``trades.*``/``ticker.*``; support articles "Inverse Perpetual",
"Linear Perpetual"):

- inverse perps (``BTC-PERPETUAL``): trade ``amount``, book amounts and ``open_interest`` are USD,
  so base size = USD / price (mark price for open interest) and ``notional_usd`` = the USD amount;
- linear perps (``BTC_USDC-PERPETUAL``): the same fields are in the base coin, never contracts.

Liquidations are flagged inside trades: ``liquidation`` = ``"T"`` (the taker was liquidated),
``"M"`` (the maker was), ``"MT"`` (both). ``direction`` is the taker side, so the liquidation
ORDER side is ``direction`` for ``T`` and the opposite for ``M``; a sell liquidation order closes
a long. ``MT`` yields two Liquidation events (one long, one short), each of the full fill size.
A liquidation trade yields its Trade and its Liquidation event(s).

Funding: the ticker carries two figures. ``current_funding`` is the live rate, stated per 8 h but
accrued continuously ("Funding Specifications"); ``funding_8h`` is what funding came to over the
trailing 8 hours, Deribit's own 8-hour figure. ``rate`` is ``current_funding`` and ``rate_8h`` is
``funding_8h`` (``current_funding`` is 0 in a real 2019 frame whose ``funding_8h`` is 1.6 bp, so
the live rate is no stand-in for it); only a ticker without ``funding_8h`` falls back to
``current_funding``. ``interval_h`` is 8. There is no discrete funding time, so
``next_funding_ts`` is None.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import msgspec

from monitor.instruments import Instrument
from monitor.venues.base import ParseError, UnknownMessageError
from monitor.venues.deribit.schemas import DeribitFrame, DeribitTicker, DeribitTrade
from monitor.venues.parsing import Route, VenueParser, decode, dispatch
from streams.events import Event, Funding, OpenInterest, PositionSide, rate_8h
from streams.units import NS_PER_MS

__all__ = ["FUNDING_INTERVAL_H", "VENUE_ID", "DeribitParser"]

VENUE_ID = "deribit"
FUNDING_INTERVAL_H = 8.0

_frame_decoder = msgspec.json.Decoder(DeribitFrame, strict=False)
_trades_decoder = msgspec.json.Decoder(list[DeribitTrade], strict=False)
_ticker_decoder = msgspec.json.Decoder(DeribitTicker, strict=False)


class DeribitParser(VenueParser):
    """Stateless parser of Deribit notifications."""

    venue = VENUE_ID

    def parse(self, frame: str, ts_recv: int) -> list[Event]:
        """Parse one frame: notifications become events, replies and heartbeats ``[]``."""
        msg = decode(_frame_decoder, frame)
        if msg.method == "subscription":
            params = msg.params
            if params is None or params.channel is None or not params.data:
                raise ParseError("subscription notification without channel or data")
            channel = params.channel
            kind = channel.split(".", 1)[0]
            return dispatch(_ROUTES, self, kind, channel, params.data, ts_recv)
        if msg.method == "heartbeat":
            return []  # "heartbeat" / "test_request": answered by VENUE.respond
        if msg.method is not None:
            raise UnknownMessageError(f"unknown notification method {msg.method!r}")
        if msg.error is not None:
            raise ParseError(f"request {msg.id} failed: {msg.error.code} {msg.error.message}")
        if msg.result or msg.id is not None:
            return []  # replies: subscribe channel list, set_heartbeat "ok", public/test version
        raise ParseError("neither a notification nor a reply")

    def _trades(self, trades: list[DeribitTrade], ts_recv: int) -> list[Event]:
        def events(t: DeribitTrade, inst: Instrument) -> Iterator[Event]:
            # amounts are USD (inverse) or base coin (linear), never contracts: contract_size 1
            ts_event = t.timestamp * NS_PER_MS
            yield self.trade(inst, ts_event, ts_recv, t.price, t.amount, t.direction)
            taker_sell = t.direction == "sell"
            for who in t.liquidation or "":
                # liquidated ORDER side: the taker's for "T", the maker's (opposite) for "M"
                order_sell = taker_sell if who == "T" else not taker_sell
                side: PositionSide = "long" if order_sell else "short"
                yield self.liquidation(inst, ts_event, ts_recv, t.price, t.amount, side)

        return self.each_row_events(trades, lambda t: t.instrument_name, events)

    def _ticker(self, tk: DeribitTicker, ts_recv: int) -> list[Event]:
        inst = self.instrument(tk.instrument_name)
        ts_event = tk.timestamp * NS_PER_MS
        header = self.header(inst, ts_event, ts_recv)
        out: list[Event] = []
        if tk.current_funding is not None:
            out.append(
                Funding(
                    **header,
                    rate=tk.current_funding,
                    interval_h=FUNDING_INTERVAL_H,
                    rate_8h=(
                        tk.funding_8h
                        if tk.funding_8h is not None
                        else rate_8h(tk.current_funding, FUNDING_INTERVAL_H)
                    ),
                    mark_price=tk.mark_price,
                    next_funding_ts=None,
                )
            )
        if tk.open_interest is not None and tk.mark_price > 0:
            oi_size, oi_usd = inst.size_and_notional(tk.open_interest, tk.mark_price)
            out.append(OpenInterest(**header, size=oi_size, notional_usd=oi_usd))
        bid, ask = tk.best_bid_price, tk.best_ask_price
        if bid and ask:
            out.append(
                self.quote(
                    inst,
                    ts_event,
                    ts_recv,
                    bid,
                    ask,
                    _book_size(tk.best_bid_amount, bid, inst),
                    _book_size(tk.best_ask_amount, ask, inst),
                )
            )
        return out


#: the payload of a ``<kind>.<instrument>...`` channel, by kind
_ROUTES: dict[str, Route[DeribitParser, Any]] = {
    "trades": Route(_trades_decoder, DeribitParser._trades, "trades payload"),
    "ticker": Route(_ticker_decoder, DeribitParser._ticker, "ticker payload"),
}


def _book_size(amount: float | None, price: float, inst: Instrument) -> float | None:
    if amount is None:
        return None
    return amount / price if inst.inverse else amount
