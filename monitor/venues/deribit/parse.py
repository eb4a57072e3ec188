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

Funding: ``current_funding`` is the live funding rate, which Deribit states as an 8-hour rate
while accruing it continuously ("Funding Specifications": "expressed as an 8-hour interest rate,
however funding is actually calculated and paid/received continuously"). We publish it with
``interval_h = 8`` so ``rate_8h == rate``; ``funding_8h`` (the funding realised over the trailing
8 hours) is ignored. There is no discrete funding time, so ``next_funding_ts`` is None.
"""

from __future__ import annotations

import msgspec

from monitor.instruments import Instrument, InstrumentRegistry
from monitor.venues.base import (
    MissingMetadataError,
    ParseError,
    UnknownMessageError,
    require_instrument,
)
from monitor.venues.deribit.schemas import DeribitFrame, DeribitTicker, DeribitTrade
from streams.events import Event, Funding, Liquidation, OpenInterest, Quote, Trade

__all__ = ["FUNDING_INTERVAL_H", "VENUE_ID", "DeribitParser"]

VENUE_ID = "deribit"
FUNDING_INTERVAL_H = 8.0
_MS = 1_000_000

_frame_decoder = msgspec.json.Decoder(DeribitFrame, strict=False)
_trades_decoder = msgspec.json.Decoder(list[DeribitTrade], strict=False)
_ticker_decoder = msgspec.json.Decoder(DeribitTicker, strict=False)


class DeribitParser:
    """Stateless parser of Deribit notifications.

    Args:
        instruments: the venue's instrument registry.
    """

    venue = VENUE_ID

    def __init__(self, instruments: InstrumentRegistry) -> None:
        self.instruments = instruments

    def parse(self, frame: str, ts_recv: int) -> list[Event]:
        """Parse one frame: notifications become events, replies and heartbeats ``[]``."""
        try:
            msg = _frame_decoder.decode(frame)
        except msgspec.ValidationError as e:
            raise ParseError(f"unexpected message shape: {e}") from e
        except msgspec.DecodeError as e:
            raise ParseError(f"invalid JSON: {e}") from e
        if msg.method == "subscription":
            params = msg.params
            if params is None or params.channel is None or not params.data:
                raise ParseError("subscription notification without channel or data")
            return self._notification(params.channel, params.data, ts_recv)
        if msg.method == "heartbeat":
            return []  # "heartbeat" / "test_request": answered by VENUE.respond
        if msg.method is not None:
            raise UnknownMessageError(f"unknown notification method {msg.method!r}")
        if msg.error is not None:
            raise ParseError(f"request {msg.id} failed: {msg.error.code} {msg.error.message}")
        if msg.result or msg.id is not None:
            return []  # replies: subscribe channel list, set_heartbeat "ok", public/test version
        raise ParseError("neither a notification nor a reply")

    def _notification(self, channel: str, data: msgspec.Raw, ts_recv: int) -> list[Event]:
        kind = channel.split(".", 1)[0]
        try:
            if kind == "trades":
                return self._trades(_trades_decoder.decode(data), ts_recv)
            if kind == "ticker":
                return self._ticker(_ticker_decoder.decode(data), ts_recv)
        except msgspec.ValidationError as e:
            raise ParseError(f"bad {kind} payload: {e}") from e
        raise UnknownMessageError(f"unknown channel {channel!r}")

    def _trades(self, trades: list[DeribitTrade], ts_recv: int) -> list[Event]:
        out: list[Event] = []
        missing: MissingMetadataError | None = None
        for t in trades:
            try:
                inst = require_instrument(self.instruments, t.instrument_name)
            except MissingMetadataError as e:
                missing = e
                continue
            if inst.inverse:
                size = t.amount / t.price
                notional = t.amount
            else:
                size = t.amount
                notional = t.amount * t.price
            ts_event = t.timestamp * _MS
            out.append(
                Trade(
                    venue=VENUE_ID,
                    symbol=t.instrument_name,
                    instrument=inst.instrument,
                    asset=inst.base,
                    ts_event=ts_event,
                    ts_recv=ts_recv,
                    price=t.price,
                    size=size,
                    notional_usd=notional,
                    side="sell" if t.direction == "sell" else "buy",
                )
            )
            flag = t.liquidation
            if not flag:
                continue
            if flag not in _LIQUIDATION_FLAGS:
                raise ParseError(f"unknown liquidation flag {flag!r}")
            taker_sell = t.direction == "sell"
            for who in flag:
                # liquidated ORDER side: the taker's for "T", the maker's (opposite) for "M"
                order_sell = taker_sell if who == "T" else not taker_sell
                out.append(
                    Liquidation(
                        venue=VENUE_ID,
                        symbol=t.instrument_name,
                        instrument=inst.instrument,
                        asset=inst.base,
                        ts_event=ts_event,
                        ts_recv=ts_recv,
                        price=t.price,
                        size=size,
                        notional_usd=notional,
                        side="long" if order_sell else "short",
                    )
                )
        if missing is not None and not out:
            raise missing
        return out

    def _ticker(self, tk: DeribitTicker, ts_recv: int) -> list[Event]:
        inst = require_instrument(self.instruments, tk.instrument_name)
        sym, iid, asset = tk.instrument_name, inst.instrument, inst.base
        ts_event = tk.timestamp * _MS
        out: list[Event] = []
        if tk.current_funding is not None:
            out.append(
                Funding(
                    venue=VENUE_ID,
                    symbol=sym,
                    instrument=iid,
                    asset=asset,
                    ts_event=ts_event,
                    ts_recv=ts_recv,
                    rate=tk.current_funding,
                    interval_h=FUNDING_INTERVAL_H,
                    rate_8h=tk.current_funding * 8.0 / FUNDING_INTERVAL_H,
                    mark_price=tk.mark_price,
                    next_funding_ts=None,
                )
            )
        if tk.open_interest is not None and tk.mark_price > 0:
            if inst.inverse:
                oi_size = tk.open_interest / tk.mark_price
                oi_usd = tk.open_interest
            else:
                oi_size = tk.open_interest
                oi_usd = tk.open_interest * tk.mark_price
            out.append(
                OpenInterest(
                    venue=VENUE_ID,
                    symbol=sym,
                    instrument=iid,
                    asset=asset,
                    ts_event=ts_event,
                    ts_recv=ts_recv,
                    size=oi_size,
                    notional_usd=oi_usd,
                )
            )
        bid, ask = tk.best_bid_price, tk.best_ask_price
        if bid and ask:
            out.append(
                Quote(
                    venue=VENUE_ID,
                    symbol=sym,
                    instrument=iid,
                    asset=asset,
                    ts_event=ts_event,
                    ts_recv=ts_recv,
                    bid=bid,
                    ask=ask,
                    bid_size=_book_size(tk.best_bid_amount, bid, inst),
                    ask_size=_book_size(tk.best_ask_amount, ask, inst),
                )
            )
        return out


def _book_size(amount: float | None, price: float, inst: Instrument) -> float | None:
    if amount is None:
        return None
    return amount / price if inst.inverse else amount


_LIQUIDATION_FLAGS = frozenset({"M", "T", "MT"})
