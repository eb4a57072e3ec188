"""Parse Binance USD-M futures frames into normalized events."""

from __future__ import annotations

import msgspec

from monitor.instruments import InstrumentRegistry
from monitor.venues.base import MissingMetadataError, ParseError, UnknownMessageError
from monitor.venues.binance_usdm.schemas import (
    BinanceAggTrade,
    BinanceError,
    BinanceForceOrder,
    BinanceFrame,
    BinanceMarkPrice,
    BinanceOpenInterest,
    BinanceOrderSide,
    BinancePayload,
)
from monitor.venues.parsing import MarkPrices, VenueParser, funding, mapped
from streams.events import Event, OpenInterest, PositionSide
from streams.units import NS_PER_MS

__all__ = ["VENUE_ID", "BinanceUsdmParser", "is_reply"]

VENUE_ID = "binance-usdm"

_frame_decoder = msgspec.json.Decoder(BinanceFrame, strict=False)
_payload_decoder = msgspec.json.Decoder(BinancePayload, strict=False)
_oi_decoder = msgspec.json.Decoder(BinanceOpenInterest, strict=False)


def is_reply(error: BinanceError | None, request_id: int | str | None) -> bool:
    """True for the reply to a request (``SUBSCRIBE`` and the like, futures and spot alike).

    Raises:
        ParseError: the reply of a failed request.
    """
    if error is not None:
        raise ParseError(f"request {request_id} failed: {error.code} {error.msg}")
    return request_id is not None


class BinanceUsdmParser(VenueParser):
    """Stateful parser: remembers the last mark price per symbol to value REST open interest.

    Open interest polled before the symbol's first mark price (the start-up race) is held and
    emitted, valued at that mark, with the first ``markPrice`` frame of the symbol.
    """

    venue = VENUE_ID

    def __init__(self, instruments: InstrumentRegistry) -> None:
        super().__init__(instruments)
        # open interest polled before the symbol's first mark waits for it, with its ts_recv
        self._marks: MarkPrices[tuple[BinanceOpenInterest, int]] = MarkPrices()

    def parse(self, frame: str, ts_recv: int) -> list[Event]:
        """Parse a combined-stream frame, a raw-stream payload or an open-interest REST body."""
        try:
            msg = _frame_decoder.decode(frame)
        except msgspec.ValidationError as e:
            return self._parse_other(frame, ts_recv, e)
        except msgspec.DecodeError as e:
            raise ParseError(f"invalid JSON: {e}") from e
        data = msg.data
        if type(data) is BinanceAggTrade:  # ~80% of frames: skip the generic dispatch
            return self._trade(data, ts_recv)
        if data is None:
            if is_reply(msg.error, msg.id):
                return []  # subscribe / unsubscribe acknowledgement
            return self._parse_other(frame, ts_recv, None)
        if isinstance(data, list):
            out: list[Event] = []
            for item in data:
                out.extend(self._payload(item, ts_recv))
            return out
        return self._payload(data, ts_recv)

    def _parse_other(
        self, frame: str, ts_recv: int, err: msgspec.ValidationError | None
    ) -> list[Event]:
        """Raw-stream payloads, REST bodies, and the reason a frame is not ours."""
        try:
            return self._payload(_payload_decoder.decode(frame), ts_recv)
        except (msgspec.ValidationError, msgspec.DecodeError):
            pass
        try:
            oi = _oi_decoder.decode(frame)
        except (msgspec.ValidationError, msgspec.DecodeError):
            pass
        else:
            self.instrument(oi.symbol)
            mark = self._marks.get(oi.symbol)
            if mark is None:
                self._marks.hold(oi.symbol, (oi, ts_recv))  # valued at the first mark price
                return []
            return [self._open_interest(oi, mark, ts_recv)]
        try:
            obj = msgspec.json.decode(frame)
        except msgspec.DecodeError as e:
            raise ParseError(f"invalid JSON: {e}") from e
        if isinstance(obj, dict):
            kind = obj.get("e")
            if kind is None and isinstance(obj.get("data"), dict):
                kind = obj["data"].get("e")
            if isinstance(kind, str) and kind not in _KNOWN:
                raise UnknownMessageError(f"unknown event type {kind!r}")
        raise ParseError(f"unexpected message shape: {err}" if err else "unexpected message shape")

    def _trade(self, p: BinanceAggTrade, ts_recv: int) -> list[Event]:
        # the hot path: the registry lookup is inlined (same result and error as instrument())
        inst = self.instruments.get(p.s)
        if inst is None:
            raise MissingMetadataError(f"no instrument metadata for {p.s}")
        return [self.trade(inst, p.T * NS_PER_MS, ts_recv, p.p, p.q, "sell" if p.m else "buy")]

    def _payload(self, p: BinancePayload, ts_recv: int) -> list[Event]:
        if isinstance(p, BinanceAggTrade):
            return self._trade(p, ts_recv)
        if isinstance(p, BinanceForceOrder):
            o = p.o
            inst = self.instrument(o.s)
            qty = o.z if o.z > 0 else o.q
            price = o.ap if o.ap > 0 else o.p
            side = mapped(_LIQUIDATED, o.S, "forceOrder side")
            return [self.liquidation(inst, o.T * NS_PER_MS, ts_recv, price, qty, side)]
        if isinstance(p, BinanceMarkPrice):
            inst = self.instrument(p.s)
            out: list[Event] = []
            held = self._marks.update(p.s, p.p)
            if held is not None:
                out.append(self._open_interest(held[0], p.p, held[1]))
            if p.r is None:
                return out
            interval_h = inst.funding_interval_h or 8.0
            return [
                *out,
                funding(
                    self.header(inst, p.E * NS_PER_MS, ts_recv),
                    p.r,
                    interval_h,
                    inst.unit_price(p.p),
                    next_funding_ts=p.T * NS_PER_MS if p.T else None,
                ),
            ]
        inst = self.instrument(p.s)
        return [
            self.quote(
                inst,
                (p.T or p.E) * NS_PER_MS,
                ts_recv,
                inst.unit_price(p.b),
                inst.unit_price(p.a),
                p.B * inst.multiplier,
                p.A * inst.multiplier,
            )
        ]

    def _open_interest(self, body: BinanceOpenInterest, mark: float, ts_recv: int) -> OpenInterest:
        inst = self.instrument(body.symbol)
        return OpenInterest(
            **self.header(inst, body.time * NS_PER_MS, ts_recv),
            size=body.openInterest * inst.multiplier,
            notional_usd=body.openInterest * mark,
        )


# the liquidation ORDER side: a SELL order closes a long
_LIQUIDATED: dict[BinanceOrderSide, PositionSide] = {"SELL": "long", "BUY": "short"}
_KNOWN = {"aggTrade", "forceOrder", "markPriceUpdate", "bookTicker"}
