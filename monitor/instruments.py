"""Instrument metadata: contract sizes, inverse flags, base/quote, funding intervals.

Metadata comes from three layers, newest wins: the snapshot packaged with each venue module (so
parsing works offline), a disk cache, and the venue's REST instrument list fetched at start-up and
refreshed every few hours (:mod:`monitor.listing_refresh`). A symbol without metadata is reported
once and skipped by the parsers, never guessed, except on venues whose sizes are already in base
units (Binance USD-M, Bybit linear, Hyperliquid): there the venue's ``derive`` function reads the
asset from the symbol itself (quote suffix, ``1000``-style multipliers, see
:mod:`monitor.venues.deriving`) and the registry reports each such symbol once as ``derived``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Literal

import msgspec
import structlog

__all__ = [
    "Deriver",
    "Instrument",
    "InstrumentRegistry",
    "load_instruments",
    "save_instruments",
]

log = structlog.get_logger(__name__)

Kind = Literal["perp", "future", "spot"]


class Instrument(msgspec.Struct, frozen=True, kw_only=True):
    """Static facts about one venue symbol.

    Attributes:
        venue: venue id.
        symbol: the venue's own symbol (e.g. ``BTCUSDT``, ``BTC-USD-SWAP``, ``XBTUSD``).
        instrument: normalized id ``<BASE>-<QUOTE>-<PERP|SPOT|FUT>`` (e.g. ``BTC-USDT-PERP``).
        base: base asset (``BTC``).
        quote: quote currency (``USDT``, ``USD``, ``USDC``).
        kind: perp, future or spot.
        inverse: True when the contract is quoted in USD and settled in the base coin.
        contract_size: one contract in base units (linear) or in USD (inverse); 1.0 when the
            venue states sizes in base units already.
        funding_interval_h: hours between fundings (perps), else 0.
        multiplier: coins per venue unit, for symbols that trade a bundle of coins
            (``1000PEPEUSDT``, Hyperliquid ``kPEPE``: 1000): the venue's quantities count bundles
            and its prices are per bundle, while ``base`` is the coin (PEPE). Sizes are then
            ``qty × multiplier`` coins, prices per coin, and the notional stays ``qty × price``.
    """

    venue: str
    symbol: str
    instrument: str
    base: str
    quote: str
    kind: Kind
    inverse: bool = False
    contract_size: float = 1.0
    funding_interval_h: float = 0.0
    multiplier: float = 1.0

    def unit_price(self, price: float) -> float:
        """The price of one ``base`` coin from the venue's price (per ``multiplier`` coins)."""
        return price / self.multiplier if self.multiplier != 1.0 else price

    def size_and_notional(self, qty: float, price: float) -> tuple[float, float]:
        """Convert a venue quantity (contracts, or base units when ``contract_size`` is 1).

        Returns ``(size in base units, notional in USD)``: a linear contract is
        ``contract_size`` base units; an inverse contract is ``contract_size`` USD. ``price`` is
        the venue's (per ``multiplier`` coins): the size counts coins, the notional is exact.
        """
        if self.inverse:
            notional = qty * self.contract_size
            return notional / price, notional
        venue_units = qty * self.contract_size
        return venue_units * self.multiplier, venue_units * price

    def contracts_for(self, size: float, notional_usd: float) -> float:
        """The venue quantity of a position of ``size`` base units worth ``notional_usd``.

        The inverse of :meth:`size_and_notional`: ``size / contract_size`` for a linear
        contract, ``notional_usd / contract_size`` for an inverse one (its contracts are USD).
        For a book level at ``price``, pass ``size * price`` as the notional.
        """
        if self.inverse:
            return notional_usd / self.contract_size
        return size / (self.contract_size * self.multiplier)


_list_decoder = msgspec.json.Decoder(list[Instrument])


def load_instruments(path: Path) -> list[Instrument]:
    """Read instruments from a JSON file written by :func:`save_instruments`."""
    return _list_decoder.decode(path.read_bytes())


def save_instruments(path: Path, instruments: Iterable[Instrument]) -> None:
    """Write instruments as JSON, atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(
        msgspec.json.format(msgspec.json.encode(sorted(instruments, key=lambda i: i.symbol)))
    )
    tmp.replace(path)


#: reads an instrument from a venue symbol alone (None: the symbol says too little)
Deriver = Callable[[str], Instrument | None]


class InstrumentRegistry:
    """Symbol → instrument lookup for one venue, reporting unknown symbols once.

    Args:
        venue: venue id.
        instruments: initial instruments (usually the packaged snapshot).
        derive: the venue's :data:`Deriver` for symbols without metadata (only venues whose
            sizes are in base units have one); None: such symbols are skipped.

    Attributes:
        on_derived: called once with each instrument derived from its symbol (a metric).
    """

    def __init__(
        self, venue: str, instruments: Iterable[Instrument] = (), derive: Deriver | None = None
    ) -> None:
        self.venue = venue
        self.derive = derive
        self.on_derived: Callable[[Instrument], None] | None = None
        self._by_symbol: dict[str, Instrument] = {}
        self._derived: dict[str, Instrument] = {}
        self._reported: set[str] = set()
        #: funding intervals the venue states apart from its instrument list (Binance
        #: ``fundingInfo``): they win over the list's, for instruments known now and later
        self._funding_h: dict[str, float] = {}
        self.update(instruments)

    def update(self, instruments: Iterable[Instrument]) -> int:
        """Add or replace instruments (metadata wins over a derived one); return how many."""
        n = 0
        for inst in instruments:
            hours = self._funding_h.get(inst.symbol)
            if hours is not None and inst.kind == "perp":
                inst = msgspec.structs.replace(inst, funding_interval_h=hours)
            self._by_symbol[inst.symbol] = inst
            self._reported.discard(inst.symbol)
            self._derived.pop(inst.symbol, None)
            n += 1
        return n

    def set_funding_intervals(self, hours_by_symbol: Mapping[str, float]) -> int:
        """Apply the venue's per-symbol funding intervals; return how many instruments changed.

        Symbols not listed keep their interval; a symbol listed before its instrument is known
        gets its interval when the instrument arrives.
        """
        self._funding_h.update(hours_by_symbol)
        known = [self._by_symbol[s] for s in hours_by_symbol if s in self._by_symbol]
        changed = [i for i in known if i.funding_interval_h != hours_by_symbol[i.symbol]]
        self.update(changed)
        return len(changed)

    def get(self, symbol: str) -> Instrument | None:
        """Return the instrument of ``symbol``: its metadata, else one derived from the symbol
        (logged once as ``instruments.derived``), else None (logged once as unknown)."""
        inst = self._by_symbol.get(symbol)
        if inst is not None:
            return inst
        inst = self._derived.get(symbol)
        if inst is not None or symbol in self._reported:
            return inst
        if self.derive is not None and (inst := self.derive(symbol)) is not None:
            self._derived[symbol] = inst
            log.info(
                "instruments.derived",
                venue=self.venue,
                symbol=symbol,
                asset=inst.base,
                quote=inst.quote,
                multiplier=inst.multiplier,
            )
            if self.on_derived is not None:
                self.on_derived(inst)
            return inst
        self._reported.add(symbol)
        log.warning("instruments.unknown_symbol", venue=self.venue, symbol=symbol)
        return None

    def derived(self) -> list[Instrument]:
        """The instruments derived from their symbols so far (not in :meth:`all`)."""
        return list(self._derived.values())

    def __contains__(self, symbol: object) -> bool:
        return symbol in self._by_symbol

    def __len__(self) -> int:
        return len(self._by_symbol)

    def all(self) -> list[Instrument]:
        """Return every instrument with metadata (derived ones are not included)."""
        return list(self._by_symbol.values())
