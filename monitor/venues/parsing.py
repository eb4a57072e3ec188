"""What every venue parser shares: decoding with the right :class:`ParseError`, routing a
payload by its channel, instrument lookups, the event header, side mappings, funding events,
quotes from a book's best levels, USD valuation of spot trades and the mark prices that values
wait for.

A venue parser subclasses :class:`VenueParser` (which holds the instrument registry and states
the venue id), decodes frames with :func:`decode` so a bad frame is always a counted
``malformed`` one, and builds trades, liquidations and quotes with the base class's
``self.trade(inst, ts_event, ts_recv, price, qty, side)`` and the like (one constructor call:
they are most of the events), the other events as ``Funding(**self.header(inst, ts_event,
ts_recv), rate=..., ...)``.

Sides: the wire schemas type side fields as ``Literal`` values, so msgspec rejects an unknown
side while decoding (a ``malformed`` frame); :func:`mapped` turns a venue's side value into ours
through a table and raises :class:`ParseError` for a value the table lacks, so no unexpected
value ever becomes the opposite side.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

import msgspec

from monitor.instruments import Instrument, InstrumentRegistry
from monitor.venues.base import (
    MissingMetadataError,
    ParseError,
    UnknownMessageError,
    require_instrument,
)
from streams.events import (
    Event,
    EventHeader,
    Funding,
    Liquidation,
    PositionSide,
    Quote,
    TakerSide,
    Trade,
    rate_8h,
)
from streams.units import NS_PER_US

__all__ = [
    "USD_QUOTES",
    "MarkPrices",
    "Route",
    "VenueParser",
    "decode",
    "dispatch",
    "funding",
    "mapped",
    "require_any",
    "require_usd_quote",
    "to_ns",
]

K = TypeVar("K")
V = TypeVar("V")
T = TypeVar("T")
P = TypeVar("P")
_Fill = TypeVar("_Fill", Trade, Liquidation)

# quote currencies valued at par in ``notional_usd``; trades in other quotes are not valued
USD_QUOTES = frozenset({"USD", "USDT", "USDC", "FDUSD", "DAI", "USDS", "PYUSD", "USDE", "TUSD"})

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)


def to_ns(ts: datetime) -> int:
    """Return ``ts`` as int nanoseconds since the epoch (exact to the microsecond)."""
    return (ts - _EPOCH) // _US * NS_PER_US


def decode(decoder: msgspec.json.Decoder[T], frame: str | bytes, what: str = "") -> T:
    """Decode ``frame``; a frame that is not JSON or not of the schema raises ParseError.

    ``what`` names a payload inside a frame already decoded (``"trade rows"``): a payload not of
    its schema then raises ``bad <what>: ...`` rather than ``unexpected message shape: ...``.
    """
    try:
        return decoder.decode(frame)
    except msgspec.ValidationError as e:
        raise ParseError(f"bad {what}: {e}" if what else f"unexpected message shape: {e}") from e
    except msgspec.DecodeError as e:
        raise ParseError(f"invalid JSON: {e}") from e


@dataclass(frozen=True, slots=True)
class Route(Generic[P, T]):
    """How the payload of one channel becomes events: its decoder and its parser's handler.

    A parser module states its routes once, in a table by channel (``Route(_trades_decoder,
    DeribitParser._trades, "trades payload")``), and hands a payload to :func:`dispatch`.

    Attributes:
        decoder: decodes the payload (a bad one is a ``malformed`` frame, :func:`decode`).
        handle: the parser method that turns the decoded payload and the receive stamp into
            events.
        what: names the payload in the error of a bad one (``"trades payload"``), or ``""``.
    """

    decoder: msgspec.json.Decoder[T]
    handle: Callable[[P, T, int], list[Event]]
    what: str = ""

    def __call__(self, parser: P, data: str | bytes, ts_recv: int) -> list[Event]:
        """Decode ``data`` and hand it to ``parser``'s handler."""
        return self.handle(parser, decode(self.decoder, data, self.what), ts_recv)


def dispatch(
    routes: Mapping[str, Route[P, Any]],
    parser: P,
    key: str,
    name: str,
    data: str | bytes,
    ts_recv: int,
) -> list[Event]:
    """The events of the payload of channel ``name`` through the route of ``key`` (the channel,
    or the part of it that names its kind).

    Raises:
        UnknownMessageError: no route for ``key`` (``unknown channel <name>``).
    """
    route = routes.get(key)
    if route is None:
        raise UnknownMessageError(f"unknown channel {name!r}")
    return route(parser, data, ts_recv)


class MarkPrices(Generic[T]):
    """The last mark price of each symbol, and what waits for a symbol's first mark.

    Some values can only be emitted with a mark price (Binance polled open interest is valued at
    it, an OKX funding event carries it). One that arrives before its symbol's first mark is
    held (the newest per symbol) and handed back by :meth:`update` when that mark arrives.
    """

    def __init__(self) -> None:
        self._mark: dict[str, float] = {}
        self._held: dict[str, T] = {}

    def get(self, symbol: str) -> float | None:
        """The last mark price of ``symbol``, or None before its first."""
        return self._mark.get(symbol)

    def hold(self, symbol: str, item: T) -> None:
        """Keep ``item`` until the first mark of ``symbol`` (replacing one held before)."""
        self._held[symbol] = item

    def update(self, symbol: str, mark: float) -> T | None:
        """Record the mark price of ``symbol``; return what was held for it, if anything."""
        self._mark[symbol] = mark
        return self._held.pop(symbol, None)


def funding(
    header: EventHeader,
    rate: float,
    interval_h: float,
    mark_price: float,
    *,
    next_funding_ts: int | None = None,
) -> Funding:
    """The Funding event of ``rate`` paid every ``interval_h`` hours, with its 8-hour rate."""
    return Funding(
        **header,
        rate=rate,
        interval_h=interval_h,
        rate_8h=rate_8h(rate, interval_h),
        mark_price=mark_price,
        next_funding_ts=next_funding_ts,
    )


def mapped(table: Mapping[K, V], value: K, field: str) -> V:
    """Return ``table[value]``; a value the table lacks raises ParseError (never a default)."""
    try:
        return table[value]
    except KeyError:
        raise ParseError(f"unknown {field} {value!r}") from None


def require_any(out: list[Event], missing: list[str]) -> list[Event]:
    """Return ``out``; raise MissingMetadataError when every row of a frame lacked metadata."""
    if missing and not out:
        raise MissingMetadataError(f"no instrument metadata for {', '.join(sorted(set(missing)))}")
    return out


def require_usd_quote(inst: Instrument) -> None:
    """Raise ParseError unless ``inst`` is quoted in a currency taken at par with USD."""
    if inst.quote not in USD_QUOTES:
        raise ParseError(f"cannot value a {inst.instrument} trade in USD")


class VenueParser:
    """The base of venue parsers: the venue id, the instrument registry, the event header.

    Args:
        instruments: the venue's instrument registry.
    """

    venue: str

    def __init__(self, instruments: InstrumentRegistry) -> None:
        self.instruments = instruments

    def instrument(self, symbol: str) -> Instrument:
        """Return the instrument of ``symbol``, or raise :class:`MissingMetadataError`."""
        return require_instrument(self.instruments, symbol)

    def lookup(self, symbol: str, missing: list[str]) -> Instrument | None:
        """Return the instrument of ``symbol``, or None after noting it in ``missing``.

        For frames of several rows: rows without metadata are skipped and the frame fails
        (:func:`require_any`) only when no row could be used.
        """
        inst = self.instruments.get(symbol)
        if inst is None:
            missing.append(symbol)
        return inst

    def each_row(
        self,
        rows: Iterable[T],
        symbol: Callable[[T], str],
        event: Callable[[T, Instrument], Event | None],
    ) -> list[Event]:
        """The events of a frame of rows, one per row with metadata (``event`` None: skipped).

        Rows of symbols without metadata are skipped; the frame raises MissingMetadataError
        when none had any (:func:`require_any`).
        """

        def events(row: T, inst: Instrument) -> tuple[Event, ...]:
            ev = event(row, inst)
            return () if ev is None else (ev,)

        return self.each_row_events(rows, symbol, events)

    def each_row_events(
        self,
        rows: Iterable[T],
        symbol: Callable[[T], str],
        events: Callable[[T, Instrument], Iterable[Event]],
    ) -> list[Event]:
        """As :meth:`each_row`, for rows that give any number of events each."""
        out: list[Event] = []
        missing: list[str] = []
        for row in rows:
            inst = self.lookup(symbol(row), missing)
            if inst is not None:
                out.extend(events(row, inst))
        return require_any(out, missing)

    def header(self, inst: Instrument, ts_event: int, ts_recv: int) -> EventHeader:
        """The fields every event of ``inst`` starts with."""
        return {
            "venue": self.venue,
            "symbol": inst.symbol,
            "instrument": inst.instrument,
            "asset": inst.base,
            "ts_event": ts_event,
            "ts_recv": ts_recv,
        }

    def trade(
        self,
        inst: Instrument,
        ts_event: int,
        ts_recv: int,
        price: float,
        qty: float,
        side: TakerSide,
    ) -> Trade:
        """A trade of ``qty`` in the venue's unit at ``price``.

        ``qty`` is converted by :meth:`Instrument.size_and_notional` (contracts, USD contracts
        of inverse instruments, or base units when ``contract_size`` is 1); the price is per
        coin (:meth:`Instrument.unit_price`, for bundled symbols such as ``1000PEPEUSDT``).
        """
        size, notional = inst.size_and_notional(qty, price)
        return self._fill(
            Trade, inst, ts_event, ts_recv, inst.unit_price(price), size, notional, side
        )

    def liquidation(
        self,
        inst: Instrument,
        ts_event: int,
        ts_recv: int,
        price: float,
        qty: float,
        side: PositionSide,
    ) -> Liquidation:
        """A liquidation of ``qty`` in the venue's unit at ``price`` (converted as in
        :meth:`trade`); ``side`` is the liquidated position's."""
        size, notional = inst.size_and_notional(qty, price)
        return self._fill(
            Liquidation, inst, ts_event, ts_recv, inst.unit_price(price), size, notional, side
        )

    def spot_trade(
        self,
        inst: Instrument,
        ts_event: int,
        ts_recv: int,
        price: float,
        size: float,
        side: TakerSide,
    ) -> Trade:
        """A spot trade of ``size`` base units at ``price``, its quote currency taken at par
        with USD.

        Raises ParseError for a pair not quoted in such a currency (:func:`require_usd_quote`).
        """
        require_usd_quote(inst)
        return self._fill(Trade, inst, ts_event, ts_recv, price, size, price * size, side)

    def _fill(
        self,
        cls: type[_Fill],
        inst: Instrument,
        ts_event: int,
        ts_recv: int,
        price: float,
        size: float,
        notional: float,
        side: Any,  # TakerSide for a Trade, PositionSide for a Liquidation (the callers' types)
    ) -> _Fill:
        """A trade or liquidation of ``inst`` in one constructor call (no header dict merged)."""
        return cls(
            venue=self.venue,
            symbol=inst.symbol,
            instrument=inst.instrument,
            asset=inst.base,
            ts_event=ts_event,
            ts_recv=ts_recv,
            price=price,
            size=size,
            notional_usd=notional,
            side=side,
        )

    def quote(
        self,
        inst: Instrument,
        ts_event: int,
        ts_recv: int,
        bid: float,
        ask: float,
        bid_size: float | None,
        ask_size: float | None,
    ) -> Quote:
        """A best bid and ask, as given (prices per coin, sizes in base units)."""
        return Quote(
            venue=self.venue,
            symbol=inst.symbol,
            instrument=inst.instrument,
            asset=inst.base,
            ts_event=ts_event,
            ts_recv=ts_recv,
            bid=bid,
            ask=ask,
            bid_size=bid_size,
            ask_size=ask_size,
        )

    def book_quote(
        self,
        inst: Instrument,
        ts_event: int,
        ts_recv: int,
        bids: Sequence[tuple[float, float]],
        asks: Sequence[tuple[float, float]],
    ) -> Quote:
        """The Quote of a book's best levels: ``bids``/``asks`` are ``(price, size)``, best
        first, neither empty."""
        (bid, bid_size), (ask, ask_size) = bids[0], asks[0]
        return self.quote(inst, ts_event, ts_recv, bid, ask, bid_size, ask_size)
