"""Parse Hyperliquid websocket frames into normalized events."""

from __future__ import annotations

import msgspec

from monitor.instruments import InstrumentRegistry
from monitor.venues.base import ParseError, UnknownMessageError
from monitor.venues.hyperliquid.schemas import (
    HlActiveAssetCtx,
    HlActiveAssetCtxFrame,
    HlBbo,
    HlBboFrame,
    HlErrorFrame,
    HlFrame,
    HlTrade,
    HlTradesFrame,
    HlTradeSide,
)
from monitor.venues.parsing import VenueParser, funding, mapped
from streams.events import Event, OpenInterest, TakerSide, Trade
from streams.units import NS_PER_MS

__all__ = ["FUNDING_INTERVAL_H", "VENUE_ID", "HyperliquidParser"]

VENUE_ID = "hyperliquid"
FUNDING_INTERVAL_H = 1.0  # Hyperliquid pays funding every hour; ``funding`` is the hourly rate
_TAKER: dict[HlTradeSide, TakerSide] = {"B": "buy", "A": "sell"}

_frame_decoder = msgspec.json.Decoder(HlFrame, strict=False)
_KNOWN = frozenset({"trades", "activeAssetCtx", "bbo", "subscriptionResponse", "pong", "error"})


class HyperliquidParser(VenueParser):
    """Stateful parser: drops trades already seen.

    On (re)subscribe Hyperliquid back-fills about 30 recent trades; trades at or before the last
    seen ``(time, tid)`` of a coin are dropped so a reconnect does not double count.

    ``activeAssetCtx`` has no timestamp on the wire: its events carry ``ts_event = ts_recv``.
    """

    venue = VENUE_ID

    def __init__(self, instruments: InstrumentRegistry) -> None:
        super().__init__(instruments)
        self._last_trade: dict[str, tuple[int, set[int]]] = {}

    def parse(self, frame: str, ts_recv: int) -> list[Event]:
        """Parse one frame of a ``/ws`` connection."""
        try:
            msg = _frame_decoder.decode(frame)
        except msgspec.ValidationError as e:
            raise self._not_ours(frame, e) from e
        except msgspec.DecodeError as e:
            raise ParseError(f"invalid JSON: {e}") from e
        if isinstance(msg, HlTradesFrame):
            return self._trades(msg.data, ts_recv)
        if isinstance(msg, HlActiveAssetCtxFrame):
            return self._asset_ctx(msg.data, ts_recv)
        if isinstance(msg, HlBboFrame):
            return self._bbo(msg.data, ts_recv)
        if isinstance(msg, HlErrorFrame):
            raise ParseError(f"venue error: {msg.data}")
        return []  # subscriptionResponse, pong

    @staticmethod
    def _not_ours(frame: str, err: msgspec.ValidationError) -> ParseError:
        try:
            obj = msgspec.json.decode(frame)
        except msgspec.DecodeError as e:
            return ParseError(f"invalid JSON: {e}")
        if isinstance(obj, dict):
            channel = obj.get("channel")
            if isinstance(channel, str) and channel not in _KNOWN:
                return UnknownMessageError(f"unknown channel {channel!r}")
        return ParseError(f"unexpected message shape: {err}")

    def _trades(self, trades: list[HlTrade], ts_recv: int) -> list[Event]:
        out: list[Event] = []
        seen: dict[str, tuple[int, set[int]]] = {}
        for t in trades:
            inst = self.instrument(t.coin)
            last_time, last_tids = self._last_trade.get(t.coin, (-1, set()))
            if t.time < last_time or (t.time == last_time and t.tid in last_tids):
                continue  # back-filled after a (re)subscribe: already emitted
            top_time, top_tids = seen.setdefault(t.coin, (t.time, set()))
            if t.time > top_time:
                seen[t.coin] = (t.time, {t.tid})
            elif t.time == top_time:
                top_tids.add(t.tid)
            out.append(
                Trade(
                    **self.header(inst, t.time * NS_PER_MS, ts_recv),
                    price=inst.unit_price(t.px),
                    size=t.sz * inst.contract_size * inst.multiplier,
                    notional_usd=t.px * t.sz * inst.contract_size,
                    side=mapped(_TAKER, t.side, "trade side"),
                )
            )
        for coin, (top_time, top_tids) in seen.items():
            last_time, last_tids = self._last_trade.get(coin, (-1, set()))
            if top_time > last_time:
                self._last_trade[coin] = (top_time, top_tids)
            elif top_time == last_time:
                last_tids.update(top_tids)
        return out

    def _asset_ctx(self, msg: HlActiveAssetCtx, ts_recv: int) -> list[Event]:
        inst = self.instrument(msg.coin)
        ctx = msg.ctx
        if ctx.funding is None or ctx.openInterest is None:
            raise UnknownMessageError(f"activeAssetCtx of {msg.coin} is not a perp context")
        units = ctx.openInterest * inst.contract_size  # coins, or bundles of ``multiplier`` coins
        header = self.header(inst, ts_recv, ts_recv)  # the context carries no timestamp
        return [
            funding(header, ctx.funding, FUNDING_INTERVAL_H, inst.unit_price(ctx.markPx)),
            OpenInterest(**header, size=units * inst.multiplier, notional_usd=units * ctx.markPx),
        ]

    def _bbo(self, msg: HlBbo, ts_recv: int) -> list[Event]:
        inst = self.instrument(msg.coin)
        levels = msg.bbo
        bid = levels[0] if levels else None
        ask = levels[1] if len(levels) > 1 else None
        if bid is None or ask is None:
            return []  # one side of the book is empty: no quote
        return [
            self.quote(
                inst,
                msg.time * NS_PER_MS,
                ts_recv,
                inst.unit_price(bid.px),
                inst.unit_price(ask.px),
                bid.sz * inst.contract_size * inst.multiplier,
                ask.sz * inst.contract_size * inst.multiplier,
            )
        ]
