"""Parse BitMEX realtime frames into normalized events.

Units: sizes are contracts. With the instrument's ``contract_size`` (from ``multiplier`` and
``underlyingToPositionMultiplier``/``underlyingToSettleMultiplier``, see ``parse_instruments``):

- inverse (XBTUSD: 1 USD per contract): base size = contracts * contract_size / price and
  ``notional_usd`` = contracts * contract_size;
- linear (XBTUSDT: 1e-6 BTC per contract): base size = contracts * contract_size and
  ``notional_usd`` = base size * price.

Quanto contracts (ETHUSD) are not in the registry (their base exposure depends on the XBT price),
so their frames raise MissingMetadataError.

Liquidations: the ``liquidation`` table lists OPEN liquidation ORDERS (insert, update as they fill,
delete when filled or taken over), not fills, and has no timestamps. ``side`` is the order side:
"Sell" closes a long. We count each order ONCE, when first seen (insert, or a partial row not seen
before), at its ``leavesQty`` and order ``price``, with ``ts_event = ts_recv``; updates and deletes
emit nothing. Sums are therefore the liquidation size that reached the book, not what filled.

Funding and open interest come from the ``instrument`` table, merged per symbol (partial, then
update/insert rows carrying only changed fields). A row carrying ``markPrice`` or ``fundingRate``
emits Funding (``fundingRate`` = the rate of the next funding at ``fundingTimestamp``; the
``indicativeFundingRate`` for the one after is not published); a row carrying ``openInterest`` or
``openValue`` emits OpenInterest valued at the merged mark price.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import msgspec

from monitor.instruments import Instrument, InstrumentRegistry
from monitor.venues.base import NotReadyError, ParseError, UnknownMessageError
from monitor.venues.bitmex.schemas import (
    BitmexFrame,
    BitmexInstrumentRow,
    BitmexLiquidationRow,
    BitmexQuoteRow,
    BitmexSide,
    BitmexTradeRow,
)
from monitor.venues.parsing import VenueParser, decode, funding, mapped, require_any, to_ns
from streams.events import Event, OpenInterest, PositionSide, TakerSide

__all__ = ["VENUE_ID", "BitmexParser", "interval_hours", "to_ns"]

VENUE_ID = "bitmex"
SEEN_LIQUIDATIONS = 10_000  # order ids remembered to count each liquidation order once

_SPAN_ZERO = datetime(2000, 1, 1, tzinfo=UTC)  # BitMEX timespans are offsets from this instant
_TAKER: dict[BitmexSide, TakerSide] = {"Buy": "buy", "Sell": "sell"}
_LIQUIDATED: dict[BitmexSide, PositionSide] = {"Sell": "long", "Buy": "short"}  # ORDER side

_frame_decoder = msgspec.json.Decoder(BitmexFrame, strict=False)
_trade_decoder = msgspec.json.Decoder(list[BitmexTradeRow], strict=False)
_liq_decoder = msgspec.json.Decoder(list[BitmexLiquidationRow], strict=False)
_instr_decoder = msgspec.json.Decoder(list[BitmexInstrumentRow], strict=False)
_quote_decoder = msgspec.json.Decoder(list[BitmexQuoteRow], strict=False)


def interval_hours(span: datetime) -> float:
    """Return the hours of a BitMEX timespan (``2000-01-01T08:00:00.000Z`` is 8 h)."""
    return (span - _SPAN_ZERO) / timedelta(hours=1)


@dataclass
class _InstrumentState:
    """The merged ``instrument`` row of one symbol."""

    timestamp: datetime | None = None
    mark: float | None = None
    funding_rate: float | None = None
    funding_ts: datetime | None = None
    interval_h: float | None = None
    open_interest: float | None = None


class BitmexParser(VenueParser):
    """Stateful parser: merged instrument rows, liquidation orders seen, last trade time."""

    venue = VENUE_ID

    def __init__(self, instruments: InstrumentRegistry) -> None:
        super().__init__(instruments)
        self._state: dict[str, _InstrumentState] = {}
        self._seen_liq: OrderedDict[str, None] = OrderedDict()
        self._last_trade: dict[str, datetime] = {}

    def parse(self, frame: str, ts_recv: int) -> list[Event]:
        """Parse a table frame; the welcome, acks and the text ``pong`` return ``[]``."""
        if frame == "pong":
            return []
        msg = decode(_frame_decoder, frame)
        if msg.table is not None:
            return self._table(msg.table, msg.action or "", msg.data, ts_recv)
        if msg.error is not None:
            raise ParseError(f"error {msg.status}: {msg.error}")
        if msg.info is not None or msg.success is not None:
            return []  # welcome, subscribe/unsubscribe acks
        raise UnknownMessageError("frame without table, info or success")

    def _table(self, table: str, action: str, data: msgspec.Raw, ts_recv: int) -> list[Event]:
        if action not in _ACTIONS:
            raise UnknownMessageError(f"unknown action {action!r} on {table}")
        rows = f"{table} rows"
        if table == "trade":
            return self._trades(decode(_trade_decoder, data, rows), action, ts_recv)
        if table == "liquidation":
            return self._liquidations(decode(_liq_decoder, data, rows), action, ts_recv)
        if table == "instrument":
            return self._instrument_rows(decode(_instr_decoder, data, rows), action, ts_recv)
        if table == "quote":
            return self._quotes(decode(_quote_decoder, data, rows), ts_recv)
        raise UnknownMessageError(f"unknown table {table!r}")

    # ------------------------------------------------------------------ tables

    def _trades(self, rows: list[BitmexTradeRow], action: str, ts_recv: int) -> list[Event]:
        def trade(r: BitmexTradeRow, inst: Instrument) -> Event | None:
            if r.price <= 0:
                return None
            last = self._last_trade.get(r.symbol)
            if action == "partial" and last is not None and r.timestamp <= last:
                return None  # the snapshot repeats trades we already published (reconnect)
            if last is None or r.timestamp > last:
                self._last_trade[r.symbol] = r.timestamp
            side = mapped(_TAKER, r.side, "trade side")
            return self.trade(inst, to_ns(r.timestamp), ts_recv, r.price, r.size, side)

        return self.each_row(rows, lambda r: r.symbol, trade)

    def _liquidations(
        self, rows: list[BitmexLiquidationRow], action: str, ts_recv: int
    ) -> list[Event]:
        if action not in ("partial", "insert"):
            return []  # update (leavesQty shrinking) and delete: the order was counted already
        out: list[Event] = []
        missing: list[str] = []
        for r in rows:
            if r.orderID in self._seen_liq:
                continue
            inst = None if r.symbol is None else self.lookup(r.symbol, missing)
            if inst is None:
                continue
            if r.price is None or r.leavesQty is None or r.side is None or r.price <= 0:
                raise ParseError(f"liquidation {r.orderID} without side, price or leavesQty")
            self._seen_liq[r.orderID] = None
            if len(self._seen_liq) > SEEN_LIQUIDATIONS:
                self._seen_liq.popitem(last=False)
            side = mapped(_LIQUIDATED, r.side, "liquidation side")
            # the table has no timestamps
            out.append(self.liquidation(inst, ts_recv, ts_recv, r.price, r.leavesQty, side))
        return require_any(out, missing)

    def _instrument_rows(
        self, rows: list[BitmexInstrumentRow], action: str, ts_recv: int
    ) -> list[Event]:
        out: list[Event] = []
        missing: list[str] = []
        unvalued: list[str] = []
        for r in rows:
            if action == "delete":
                self._state.pop(r.symbol, None)
                continue
            inst = self.lookup(r.symbol, missing)
            if inst is None:
                continue
            st = self._state.get(r.symbol)
            if st is None or action == "partial":
                st = self._state[r.symbol] = _InstrumentState(interval_h=inst.funding_interval_h)
            _merge(st, r)
            header = self.header(
                inst, to_ns(st.timestamp) if st.timestamp is not None else ts_recv, ts_recv
            )
            mark = st.mark
            if (
                (r.markPrice is not None or r.fundingRate is not None)
                and st.funding_rate is not None
                and mark is not None
            ):
                interval_h = st.interval_h or 8.0
                out.append(
                    funding(
                        header,
                        st.funding_rate,
                        interval_h,
                        mark,
                        next_funding_ts=to_ns(st.funding_ts) if st.funding_ts else None,
                    )
                )
            if (r.openInterest is not None or r.openValue is not None) and (
                st.open_interest is not None
            ):
                if mark is None or mark <= 0:
                    unvalued.append(r.symbol)
                    continue
                size, notional = inst.size_and_notional(st.open_interest, mark)
                out.append(OpenInterest(**header, size=size, notional_usd=notional))
        if unvalued and not out:
            raise NotReadyError(f"open interest before any mark price for {', '.join(unvalued)}")
        return require_any(out, missing)

    def _quotes(self, rows: list[BitmexQuoteRow], ts_recv: int) -> list[Event]:
        def quote(r: BitmexQuoteRow, inst: Instrument) -> Event | None:
            bid, ask = r.bidPrice, r.askPrice
            if not bid or not ask:
                return None
            return self.quote(
                inst,
                to_ns(r.timestamp),
                ts_recv,
                bid,
                ask,
                None if r.bidSize is None else inst.size_and_notional(r.bidSize, bid)[0],
                None if r.askSize is None else inst.size_and_notional(r.askSize, ask)[0],
            )

        return self.each_row(rows, lambda r: r.symbol, quote)


def _merge(st: _InstrumentState, r: BitmexInstrumentRow) -> None:
    if r.timestamp is not None:
        st.timestamp = r.timestamp
    if r.markPrice is not None:
        st.mark = r.markPrice
    if r.fundingRate is not None:
        st.funding_rate = r.fundingRate
    if r.fundingTimestamp is not None:
        st.funding_ts = r.fundingTimestamp
    if r.fundingInterval is not None:
        hours = interval_hours(r.fundingInterval)
        if hours > 0:
            st.interval_h = hours
    if r.openInterest is not None:
        st.open_interest = r.openInterest


_ACTIONS = frozenset({"partial", "insert", "update", "delete"})
