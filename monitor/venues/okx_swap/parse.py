"""Parse OKX v5 public frames (perpetual swaps, linear and inverse) into normalized events."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import msgspec

from monitor.instruments import Instrument, InstrumentRegistry
from monitor.venues.base import ParseError, UnknownMessageError
from monitor.venues.okx_swap.schemas import (
    OkxEnvelope,
    OkxFundingRate,
    OkxLiquidation,
    OkxLiquidationDetail,
    OkxMarkPrice,
    OkxOpenInterest,
    OkxTicker,
    OkxTrade,
)
from monitor.venues.parsing import MarkPrices, Route, VenueParser, decode, dispatch, funding
from streams.events import (
    Event,
    Funding,
    OpenInterest,
    PositionSide,
)
from streams.units import MS_PER_HOUR, NS_PER_MS

__all__ = ["VENUE_ID", "OkxSwapParser", "base_and_notional"]

VENUE_ID = "okx-swap"

_envelope_decoder = msgspec.json.Decoder(OkxEnvelope, strict=False)
_trades_decoder = msgspec.json.Decoder(list[OkxTrade], strict=False)
_liquidations_decoder = msgspec.json.Decoder(list[OkxLiquidation], strict=False)
_funding_decoder = msgspec.json.Decoder(list[OkxFundingRate], strict=False)
_oi_decoder = msgspec.json.Decoder(list[OkxOpenInterest], strict=False)
_mark_decoder = msgspec.json.Decoder(list[OkxMarkPrice], strict=False)
_tickers_decoder = msgspec.json.Decoder(list[OkxTicker], strict=False)

_CONTROL_EVENTS = frozenset({"subscribe", "unsubscribe", "notice", "channel-conn-count"})


def base_and_notional(inst: Instrument, contracts: float, price: float) -> tuple[float, float]:
    """Convert a size in contracts to (base units, USD notional).

    ``inst.contract_size`` is ``ctVal × ctMult``: base coin per contract for linear swaps
    (BTC-USDT-SWAP: 0.01 BTC), USD per contract for inverse swaps (BTC-USD-SWAP: 100 USD), so
    this is :meth:`Instrument.size_and_notional`.
    """
    return inst.size_and_notional(contracts, price)


def liquidated_side(d: OkxLiquidationDetail) -> PositionSide:
    """The liquidated position: ``posSide`` in hedge mode, else (``net``) a sell closes a long."""
    if d.posSide == "net":
        return "long" if d.side == "sell" else "short"
    return d.posSide


class OkxSwapParser(VenueParser):
    """Stateful parser: keeps the last mark price per instrument.

    ``funding-rate`` frames carry no mark price, so a funding update that arrives before the
    instrument's first ``mark-price`` frame is held and emitted with that first mark price.
    """

    venue = VENUE_ID

    def __init__(self, instruments: InstrumentRegistry) -> None:
        super().__init__(instruments)
        # a funding update before the instrument's first mark waits for it, with its ts_recv
        self._marks: MarkPrices[tuple[OkxFundingRate, int]] = MarkPrices()

    def parse(self, frame: str, ts_recv: int) -> list[Event]:
        """Parse one frame of a ``/ws/v5/public`` connection (the text ``pong`` included)."""
        if frame == "pong":
            return []
        env = decode(_envelope_decoder, frame)
        if env.event or env.arg is None:
            return self._event(env)  # acks echo "arg" too
        channel = env.arg.channel
        return dispatch(_ROUTES, self, channel, channel, env.data, ts_recv)

    @staticmethod
    def _event(env: OkxEnvelope) -> list[Event]:
        if env.event == "error":
            raise ParseError(f"request {env.id!r} failed: {env.code} {env.msg}")
        if env.event in _CONTROL_EVENTS:
            return []  # acks; notice 64008 = service upgrade, reconnect soon
        if env.event:
            raise UnknownMessageError(f"unknown event {env.event!r}")
        raise ParseError("frame has neither arg nor event")

    def _trades(self, trades: list[OkxTrade], ts_recv: int) -> list[Event]:
        out: list[Event] = []
        for t in trades:
            inst = self.instrument(t.instId)
            out.append(self.trade(inst, t.ts * NS_PER_MS, ts_recv, t.px, t.sz, t.side))
        return out

    def _liquidations(self, items: list[OkxLiquidation], ts_recv: int) -> list[Event]:
        """All SWAP instruments arrive on one channel: skip those without metadata."""

        def liquidations(item: OkxLiquidation, inst: Instrument) -> Iterator[Event]:
            for d in item.details:
                side = liquidated_side(d)
                yield self.liquidation(inst, d.ts * NS_PER_MS, ts_recv, d.bkPx, d.sz, side)

        return self.each_row_events(items, lambda item: item.instId, liquidations)

    def _funding(self, items: list[OkxFundingRate], ts_recv: int) -> list[Event]:
        out: list[Event] = []
        for f in items:
            inst = self.instrument(f.instId)
            mark = self._marks.get(f.instId)
            if mark is not None:
                event = self._funding_event(inst, mark, f, ts_recv)
                if event is not None:
                    out.append(event)
            else:
                self._marks.hold(f.instId, (f, ts_recv))
        return out

    def _funding_event(
        self, inst: Instrument, mark: float, f: OkxFundingRate, ts_recv: int
    ) -> Funding | None:
        interval_h = inst.funding_interval_h
        if f.nextFundingTime:
            try:
                gap_ms = int(f.nextFundingTime) - f.fundingTime
            except ValueError as e:
                raise ParseError(f"bad nextFundingTime {f.nextFundingTime!r}") from e
            if gap_ms > 0:
                interval_h = gap_ms / MS_PER_HOUR
        if interval_h <= 0:
            return None  # no interval in the frame nor in the metadata: never guessed
        return funding(
            self.header(inst, ts_recv if f.ts is None else f.ts * NS_PER_MS, ts_recv),
            f.fundingRate,
            interval_h,
            mark,
            next_funding_ts=f.fundingTime * NS_PER_MS,
        )

    def _mark_price(self, items: list[OkxMarkPrice], ts_recv: int) -> list[Event]:
        out: list[Event] = []
        for m in items:
            pending = self._marks.update(m.instId, m.markPx)
            if pending is not None:
                event = self._funding_event(self.instrument(m.instId), m.markPx, *pending)
                if event is not None:
                    out.append(event)
        return out

    def _open_interest(self, items: list[OkxOpenInterest], ts_recv: int) -> list[Event]:
        out: list[Event] = []
        for o in items:
            inst = self.instrument(o.instId)
            mark = self._marks.get(o.instId)
            size = _opt_float(o.oiCcy)
            notional = _opt_float(o.oiUsd)
            if size is None or notional is None:
                if mark is None:
                    raise ParseError(f"open interest for {o.instId} without oiUsd before a mark")
                calc_size, calc_notional = inst.size_and_notional(o.oi, mark)
                size = calc_size if size is None else size
                notional = calc_notional if notional is None else notional
            out.append(
                OpenInterest(
                    **self.header(inst, o.ts * NS_PER_MS, ts_recv), size=size, notional_usd=notional
                )
            )
        return out

    def _tickers(self, items: list[OkxTicker], ts_recv: int) -> list[Event]:
        out: list[Event] = []
        for t in items:
            inst = self.instrument(t.instId)
            if not t.bidPx or not t.askPx:
                continue  # one side of the book is empty
            bid, ask = _float(t.bidPx), _float(t.askPx)
            bid_sz, ask_sz = _opt_float(t.bidSz), _opt_float(t.askSz)
            out.append(
                self.quote(
                    inst,
                    t.ts * NS_PER_MS,
                    ts_recv,
                    bid,
                    ask,
                    None if bid_sz is None else inst.size_and_notional(bid_sz, bid)[0],
                    None if ask_sz is None else inst.size_and_notional(ask_sz, ask)[0],
                )
            )
        return out


_ROUTES: dict[str, Route[OkxSwapParser, Any]] = {
    "trades": Route(_trades_decoder, OkxSwapParser._trades),
    "liquidation-orders": Route(_liquidations_decoder, OkxSwapParser._liquidations),
    "funding-rate": Route(_funding_decoder, OkxSwapParser._funding),
    "open-interest": Route(_oi_decoder, OkxSwapParser._open_interest),
    "mark-price": Route(_mark_decoder, OkxSwapParser._mark_price),
    "tickers": Route(_tickers_decoder, OkxSwapParser._tickers),
}


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError as e:
        raise ParseError(f"bad number {text!r}") from e


def _opt_float(text: str) -> float | None:
    """A numeric field OKX may send as ``""``."""
    return _float(text) if text else None
