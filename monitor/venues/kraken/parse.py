"""Parse Kraken Spot WebSocket v2 frames into normalized events.

``ticker`` (subscribed with ``event_trigger: "bbo"``) gives Quote events; ``trade`` gives Trade
events (``side`` is the taker side). Quantities are base units. Ticker messages without a
``timestamp`` (older v2 servers) take ``ts_event = ts_recv``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec

from monitor.instruments import Instrument, InstrumentRegistry
from monitor.venues.base import MissingMetadataError, ParseError, UnknownMessageError
from monitor.venues.kraken.schemas import KrakenFrame, KrakenTicker, KrakenTrade
from streams.events import Event, Quote, Trade

__all__ = ["USD_QUOTES", "VENUE_ID", "KrakenParser"]

VENUE_ID = "kraken"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
# quote currencies valued at par in ``notional_usd``; trades in other quotes are not valued
USD_QUOTES = frozenset({"USD", "USDT", "USDC", "FDUSD", "DAI", "USDS", "PYUSD", "USDE", "TUSD"})

_frame_decoder = msgspec.json.Decoder(KrakenFrame, strict=False)
_ticker_decoder = msgspec.json.Decoder(list[KrakenTicker], strict=False)
_trade_decoder = msgspec.json.Decoder(list[KrakenTrade], strict=False)


def _ns(ts: datetime) -> int:
    return (ts - _EPOCH) // _US * 1000


class KrakenParser:
    """Stateless parser of Kraken v2 public frames.

    Args:
        instruments: the venue's instrument registry (symbols like ``USDT/USD``).
    """

    venue = VENUE_ID

    def __init__(self, instruments: InstrumentRegistry) -> None:
        self.instruments = instruments

    def parse(self, frame: str, ts_recv: int) -> list[Event]:
        """Parse a channel message; acks, pongs, heartbeats and status return ``[]``."""
        try:
            msg = _frame_decoder.decode(frame)
        except msgspec.ValidationError as e:
            raise ParseError(f"unexpected message shape: {e}") from e
        except msgspec.DecodeError as e:
            raise ParseError(f"invalid JSON: {e}") from e
        if msg.channel is not None:
            return self._channel(msg.channel, msg.data, ts_recv)
        if msg.method is not None:
            if msg.success is False:
                raise ParseError(f"{msg.method} failed: {msg.error}")
            return []  # subscribe/unsubscribe acks, pong
        raise ParseError("neither a channel message nor a method reply")

    def _channel(self, channel: str, data: msgspec.Raw, ts_recv: int) -> list[Event]:
        if channel in ("heartbeat", "status"):
            return []
        try:
            if channel == "ticker":
                return self._tickers(_ticker_decoder.decode(data), ts_recv)
            if channel == "trade":
                return self._trades(_trade_decoder.decode(data), ts_recv)
        except msgspec.ValidationError as e:
            raise ParseError(f"bad {channel} payload: {e}") from e
        raise UnknownMessageError(f"unknown channel {channel!r}")

    def _lookup(self, symbol: str, missing: list[str]) -> Instrument | None:
        inst = self.instruments.get(symbol)
        if inst is None:
            missing.append(symbol)
        return inst

    def _tickers(self, rows: list[KrakenTicker], ts_recv: int) -> list[Event]:
        out: list[Event] = []
        missing: list[str] = []
        for r in rows:
            inst = self._lookup(r.symbol, missing)
            if inst is None:
                continue
            out.append(
                Quote(
                    venue=VENUE_ID,
                    symbol=r.symbol,
                    instrument=inst.instrument,
                    asset=inst.base,
                    ts_event=_ns(r.timestamp) if r.timestamp is not None else ts_recv,
                    ts_recv=ts_recv,
                    bid=r.bid,
                    ask=r.ask,
                    bid_size=r.bid_qty,
                    ask_size=r.ask_qty,
                )
            )
        return _check(out, missing)

    def _trades(self, rows: list[KrakenTrade], ts_recv: int) -> list[Event]:
        out: list[Event] = []
        missing: list[str] = []
        for r in rows:
            inst = self._lookup(r.symbol, missing)
            if inst is None:
                continue
            if inst.quote not in USD_QUOTES:
                raise ParseError(f"cannot value a {inst.instrument} trade in USD")
            out.append(
                Trade(
                    venue=VENUE_ID,
                    symbol=r.symbol,
                    instrument=inst.instrument,
                    asset=inst.base,
                    ts_event=_ns(r.timestamp),
                    ts_recv=ts_recv,
                    price=r.price,
                    size=r.qty,
                    notional_usd=r.price * r.qty,
                    side="sell" if r.side == "sell" else "buy",
                )
            )
        return _check(out, missing)


def _check(out: list[Event], missing: list[str]) -> list[Event]:
    if missing and not out:
        raise MissingMetadataError(f"no instrument metadata for {', '.join(sorted(set(missing)))}")
    return out
