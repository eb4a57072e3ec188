"""Parse OKX v5 public frames (perpetual swaps, linear and inverse) into normalized events."""

from __future__ import annotations

import msgspec

from monitor.instruments import Instrument, InstrumentRegistry
from monitor.venues.base import (
    MissingMetadataError,
    ParseError,
    UnknownMessageError,
    require_instrument,
)
from monitor.venues.okx_swap.schemas import (
    OkxEnvelope,
    OkxFundingRate,
    OkxLiquidation,
    OkxMarkPrice,
    OkxOpenInterest,
    OkxTicker,
    OkxTrade,
)
from streams.events import Event, Funding, Liquidation, OpenInterest, Quote, Trade

__all__ = ["VENUE_ID", "OkxSwapParser", "base_and_notional"]

VENUE_ID = "okx-swap"
_MS = 1_000_000
_HOUR_MS = 3_600_000

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
    (BTC-USDT-SWAP: 0.01 BTC), USD per contract for inverse swaps (BTC-USD-SWAP: 100 USD).
    """
    if inst.inverse:
        notional = contracts * inst.contract_size
        return notional / price, notional
    size = contracts * inst.contract_size
    return size, size * price


class OkxSwapParser:
    """Stateful parser: keeps the last mark price per instrument.

    ``funding-rate`` frames carry no mark price, so a funding update that arrives before the
    instrument's first ``mark-price`` frame is held and emitted with that first mark price.

    Args:
        instruments: the venue's instrument registry.
    """

    venue = VENUE_ID

    def __init__(self, instruments: InstrumentRegistry) -> None:
        self.instruments = instruments
        self._mark: dict[str, float] = {}
        self._pending_funding: dict[str, tuple[OkxFundingRate, int]] = {}

    def parse(self, frame: str, ts_recv: int) -> list[Event]:
        """Parse one frame of a ``/ws/v5/public`` connection (the text ``pong`` included)."""
        if frame == "pong":
            return []
        try:
            env = _envelope_decoder.decode(frame)
            if env.event or env.arg is None:
                return self._event(env)  # acks echo "arg" too
            channel = env.arg.channel
            if channel == "trades":
                return self._trades(_trades_decoder.decode(env.data), ts_recv)
            if channel == "liquidation-orders":
                return self._liquidations(_liquidations_decoder.decode(env.data), ts_recv)
            if channel == "funding-rate":
                return self._funding(_funding_decoder.decode(env.data), ts_recv)
            if channel == "open-interest":
                return self._open_interest(_oi_decoder.decode(env.data), ts_recv)
            if channel == "mark-price":
                return self._mark_price(_mark_decoder.decode(env.data), ts_recv)
            if channel == "tickers":
                return self._tickers(_tickers_decoder.decode(env.data), ts_recv)
        except msgspec.DecodeError as e:
            raise ParseError(f"invalid JSON: {e}") from e
        except msgspec.ValidationError as e:
            raise ParseError(f"unexpected message shape: {e}") from e
        raise UnknownMessageError(f"unknown channel {channel!r}")

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
            inst = require_instrument(self.instruments, t.instId)
            size, notional = base_and_notional(inst, t.sz, t.px)
            out.append(
                Trade(
                    venue=VENUE_ID,
                    symbol=t.instId,
                    instrument=inst.instrument,
                    asset=inst.base,
                    ts_event=t.ts * _MS,
                    ts_recv=ts_recv,
                    price=t.px,
                    size=size,
                    notional_usd=notional,
                    side="buy" if t.side == "buy" else "sell",
                )
            )
        return out

    def _liquidations(self, items: list[OkxLiquidation], ts_recv: int) -> list[Event]:
        """All SWAP instruments arrive on one channel: skip those without metadata."""
        out: list[Event] = []
        missing: list[str] = []
        for item in items:
            inst = self.instruments.get(item.instId)
            if inst is None:
                missing.append(item.instId)
                continue
            for d in item.details:
                size, notional = base_and_notional(inst, d.sz, d.bkPx)
                if d.posSide in ("long", "short"):
                    side = d.posSide  # hedge mode: the position side itself
                else:
                    side = "long" if d.side == "sell" else "short"  # net: selling closes a long
                out.append(
                    Liquidation(
                        venue=VENUE_ID,
                        symbol=item.instId,
                        instrument=inst.instrument,
                        asset=inst.base,
                        ts_event=d.ts * _MS,
                        ts_recv=ts_recv,
                        price=d.bkPx,
                        size=size,
                        notional_usd=notional,
                        side="long" if side == "long" else "short",
                    )
                )
        if missing and not out:
            raise MissingMetadataError(f"no instrument metadata for {', '.join(missing)}")
        return out

    def _funding(self, items: list[OkxFundingRate], ts_recv: int) -> list[Event]:
        out: list[Event] = []
        for f in items:
            inst = require_instrument(self.instruments, f.instId)
            if f.instId in self._mark:
                event = self._funding_event(inst, f, ts_recv)
                if event is not None:
                    out.append(event)
            else:
                self._pending_funding[f.instId] = (f, ts_recv)
        return out

    def _funding_event(self, inst: Instrument, f: OkxFundingRate, ts_recv: int) -> Funding | None:
        interval_h = inst.funding_interval_h
        if f.nextFundingTime:
            try:
                gap_ms = int(f.nextFundingTime) - f.fundingTime
            except ValueError as e:
                raise ParseError(f"bad nextFundingTime {f.nextFundingTime!r}") from e
            if gap_ms > 0:
                interval_h = gap_ms / _HOUR_MS
        if interval_h <= 0:
            return None  # no interval in the frame nor in the metadata: never guessed
        return Funding(
            venue=VENUE_ID,
            symbol=f.instId,
            instrument=inst.instrument,
            asset=inst.base,
            ts_event=f.ts * _MS,
            ts_recv=ts_recv,
            rate=f.fundingRate,
            interval_h=interval_h,
            rate_8h=f.fundingRate * 8.0 / interval_h,
            mark_price=self._mark[f.instId],
            next_funding_ts=f.fundingTime * _MS,
        )

    def _mark_price(self, items: list[OkxMarkPrice], ts_recv: int) -> list[Event]:
        out: list[Event] = []
        for m in items:
            self._mark[m.instId] = m.markPx
            pending = self._pending_funding.pop(m.instId, None)
            if pending is not None:
                event = self._funding_event(
                    require_instrument(self.instruments, m.instId), *pending
                )
                if event is not None:
                    out.append(event)
        return out

    def _open_interest(self, items: list[OkxOpenInterest], ts_recv: int) -> list[Event]:
        out: list[Event] = []
        for o in items:
            inst = require_instrument(self.instruments, o.instId)
            mark = self._mark.get(o.instId)
            size = _opt_float(o.oiCcy)
            notional = _opt_float(o.oiUsd)
            if size is None or notional is None:
                if mark is None:
                    raise ParseError(f"open interest for {o.instId} without oiUsd before a mark")
                calc_size, calc_notional = base_and_notional(inst, o.oi, mark)
                size = calc_size if size is None else size
                notional = calc_notional if notional is None else notional
            out.append(
                OpenInterest(
                    venue=VENUE_ID,
                    symbol=o.instId,
                    instrument=inst.instrument,
                    asset=inst.base,
                    ts_event=o.ts * _MS,
                    ts_recv=ts_recv,
                    size=size,
                    notional_usd=notional,
                )
            )
        return out

    def _tickers(self, items: list[OkxTicker], ts_recv: int) -> list[Event]:
        out: list[Event] = []
        for t in items:
            inst = require_instrument(self.instruments, t.instId)
            if not t.bidPx or not t.askPx:
                continue  # one side of the book is empty
            bid, ask = _float(t.bidPx), _float(t.askPx)
            bid_sz, ask_sz = _opt_float(t.bidSz), _opt_float(t.askSz)
            out.append(
                Quote(
                    venue=VENUE_ID,
                    symbol=t.instId,
                    instrument=inst.instrument,
                    asset=inst.base,
                    ts_event=t.ts * _MS,
                    ts_recv=ts_recv,
                    bid=bid,
                    ask=ask,
                    bid_size=None if bid_sz is None else base_and_notional(inst, bid_sz, bid)[0],
                    ask_size=None if ask_sz is None else base_and_notional(inst, ask_sz, ask)[0],
                )
            )
        return out


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError as e:
        raise ParseError(f"bad number {text!r}") from e


def _opt_float(text: str) -> float | None:
    """A numeric field OKX may send as ``""``."""
    return _float(text) if text else None
