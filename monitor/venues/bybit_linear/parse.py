"""Parse Bybit v5 public frames (linear and inverse perpetuals) into normalized events."""

from __future__ import annotations

from dataclasses import dataclass

import msgspec

from monitor.instruments import Instrument, InstrumentRegistry
from monitor.venues.base import ParseError, UnknownMessageError
from monitor.venues.bybit_linear.schemas import (
    BybitEnvelope,
    BybitLiquidation,
    BybitSide,
    BybitTicker,
    BybitTrade,
)
from monitor.venues.parsing import VenueParser, decode, funding, mapped
from streams.events import (
    Event,
    OpenInterest,
    PositionSide,
    TakerSide,
)
from streams.units import NS_PER_MS

__all__ = ["VENUE_ID", "BybitLinearParser", "op_reply"]

VENUE_ID = "bybit-linear"

_envelope_decoder = msgspec.json.Decoder(BybitEnvelope, strict=False)
_trades_decoder = msgspec.json.Decoder(list[BybitTrade], strict=False)
_liquidations_decoder = msgspec.json.Decoder(list[BybitLiquidation], strict=False)
_ticker_decoder = msgspec.json.Decoder(BybitTicker, strict=False)

_OP_REPLIES = frozenset({"subscribe", "unsubscribe", "ping", "pong"})
_TAKER: dict[BybitSide, TakerSide] = {"Buy": "buy", "Sell": "sell"}
# allLiquidation S is the POSITION side: "Buy" = a long was liquidated (all-liquidation.mdx)
_LIQUIDATED: dict[BybitSide, PositionSide] = {"Buy": "long", "Sell": "short"}


@dataclass(slots=True)
class _TickerState:
    """The merged ``tickers`` state of one symbol, named as on the wire (None = not known yet)."""

    markPrice: float | None = None
    fundingRate: float | None = None
    fundingIntervalHour: float | None = None
    nextFundingTime: int | None = None
    openInterest: float | None = None
    singleOpenInterest: float | None = None
    bid1Price: float | None = None
    bid1Size: float | None = None
    ask1Price: float | None = None
    ask1Size: float | None = None


# ticker field -> the event its change re-emits
_MERGED = {
    "markPrice": "funding",
    "fundingRate": "funding",
    "fundingIntervalHour": "funding",
    "nextFundingTime": "funding",
    "openInterest": "open_interest",
    "singleOpenInterest": "open_interest",
    "bid1Price": "quote",
    "bid1Size": "quote",
    "ask1Price": "quote",
    "ask1Size": "quote",
}


def op_reply(env: BybitEnvelope) -> list[Event]:
    """A frame without a topic (linear and spot alike): a subscribe acknowledgement or a pong is
    ``[]``; a failed request or an unknown op raises."""
    if env.op not in _OP_REPLIES:
        if env.op:
            raise UnknownMessageError(f"unknown op {env.op!r}")
        raise ParseError("frame has neither topic nor op")
    if env.success is False:
        raise ParseError(f"{env.op} request {env.req_id!r} failed: {env.ret_msg}")
    return []


class BybitLinearParser(VenueParser):
    """Stateful parser: merges ``tickers`` deltas into a per-symbol snapshot.

    Sizes: linear symbols state base coin; inverse symbols (``BTCUSD``) state USD contracts,
    converted with the instrument's ``contract_size`` (USD per contract) and the trade price.

    Open interest: ``singleOpenInterest`` (one side) when the venue sends it, because the
    current docs label ``openInterest`` "both sides" and the :class:`OpenInterest` contract is
    one side of the book; frames without it fall back to ``openInterest`` as published.
    """

    venue = VENUE_ID

    def __init__(self, instruments: InstrumentRegistry) -> None:
        super().__init__(instruments)
        self._tickers: dict[str, _TickerState] = {}

    def parse(self, frame: str, ts_recv: int) -> list[Event]:
        """Parse one frame of a ``/v5/public/linear`` or ``/v5/public/inverse`` connection."""
        env = decode(_envelope_decoder, frame)
        topic = env.topic
        if not topic:
            return op_reply(env)
        kind = topic.partition(".")[0]
        if kind == "publicTrade":
            return self._trades(decode(_trades_decoder, env.data), ts_recv)
        if kind == "allLiquidation":
            return self._liquidations(decode(_liquidations_decoder, env.data), ts_recv)
        if kind == "tickers":
            return self._ticker(env, decode(_ticker_decoder, env.data), ts_recv)
        raise UnknownMessageError(f"unknown topic {topic!r}")

    def _trades(self, trades: list[BybitTrade], ts_recv: int) -> list[Event]:
        return [
            self.trade(
                self.instrument(t.s),
                t.T * NS_PER_MS,
                ts_recv,
                t.p,
                t.v,
                mapped(_TAKER, t.S, "trade side"),
            )
            for t in trades
        ]

    def _liquidations(self, liqs: list[BybitLiquidation], ts_recv: int) -> list[Event]:
        return [
            self.liquidation(
                self.instrument(q.s),
                q.T * NS_PER_MS,
                ts_recv,
                q.p,
                q.v,
                mapped(_LIQUIDATED, q.S, "liquidation side"),
            )
            for q in liqs
        ]

    def _ticker(self, env: BybitEnvelope, t: BybitTicker, ts_recv: int) -> list[Event]:
        inst = self.instrument(t.symbol)
        if env.type == "snapshot":
            st = self._tickers[t.symbol] = _TickerState()
        elif env.type == "delta":
            st = self._tickers.setdefault(t.symbol, _TickerState())
        else:
            raise ParseError(f"unknown tickers type {env.type!r}")
        # merge: a field missing from a delta keeps its previous value
        changed = set(_MERGED.values()) if env.type == "snapshot" else set()
        for attr, kind in _MERGED.items():
            value = getattr(t, attr)
            if value is not None:
                setattr(st, attr, value)
                changed.add(kind)
        funding_changed = "funding" in changed
        oi_changed = "open_interest" in changed
        quote_changed = "quote" in changed

        ts_event = env.ts * NS_PER_MS
        header = self.header(inst, ts_event, ts_recv)
        out: list[Event] = []
        mark = st.markPrice
        rate = st.fundingRate
        if funding_changed and rate is not None and mark is not None:
            interval_h = st.fundingIntervalHour or inst.funding_interval_h
            if interval_h > 0:
                next_ms = st.nextFundingTime
                next_ts = next_ms * NS_PER_MS if next_ms else None
                out.append(
                    funding(
                        header, rate, interval_h, inst.unit_price(mark), next_funding_ts=next_ts
                    )
                )
        oi = st.singleOpenInterest if st.singleOpenInterest is not None else st.openInterest
        if oi_changed and oi is not None and mark:
            size, notional = inst.size_and_notional(oi, mark)
            out.append(OpenInterest(**header, size=size, notional_usd=notional))
        bid, ask = st.bid1Price, st.ask1Price
        if quote_changed and bid is not None and ask is not None:
            out.append(
                self.quote(
                    inst,
                    ts_event,
                    ts_recv,
                    inst.unit_price(bid),
                    inst.unit_price(ask),
                    _base_size(inst, st.bid1Size, bid),
                    _base_size(inst, st.ask1Size, ask),
                )
            )
        return out


def _base_size(inst: Instrument, size: float | None, price: float) -> float | None:
    """Convert a book size to base units (inverse books are in USD contracts)."""
    if size is None or (inst.inverse and not price):
        return None
    return inst.size_and_notional(size, price)[0]
