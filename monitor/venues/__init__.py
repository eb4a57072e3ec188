"""Venue modules, one package per venue, each exposing ``VENUE: VenueSpec``."""

from __future__ import annotations

import importlib
import importlib.util
from importlib import resources
from pathlib import Path

import structlog

from monitor.instruments import Instrument, InstrumentRegistry, load_instruments
from monitor.venues.base import VenueSpec

__all__ = ["VENUE_MODULES", "get_venue", "load_registry", "packaged_instruments", "venue_ids"]

log = structlog.get_logger(__name__)

# venue id -> module under monitor.venues
VENUE_MODULES: dict[str, str] = {
    "binance-usdm": "binance_usdm",
    "bybit-linear": "bybit_linear",
    "okx-swap": "okx_swap",
    "hyperliquid": "hyperliquid",
    "deribit": "deribit",
    "bitmex": "bitmex",
    "kraken": "kraken",
    "coinbase": "coinbase",
    "bitstamp": "bitstamp",
    "binance-spot": "binance_spot",
    "okx-spot": "okx_spot",
    "bybit-spot": "bybit_spot",
    "gate-spot": "gate_spot",
}


class UnknownVenueError(KeyError):
    """A venue id that riskmon does not know."""


def venue_ids() -> list[str]:
    """Return the ids of the venues whose module is installed."""
    out = []
    for vid, mod in VENUE_MODULES.items():
        if importlib.util.find_spec(f"monitor.venues.{mod}") is not None:
            out.append(vid)
    return out


def get_venue(venue_id: str) -> VenueSpec:
    """Return the spec of ``venue_id``.

    Raises:
        UnknownVenueError: the id is not a known venue.
    """
    mod = VENUE_MODULES.get(venue_id)
    if mod is None or importlib.util.find_spec(f"monitor.venues.{mod}") is None:
        raise UnknownVenueError(
            f"unknown venue {venue_id!r}; known venues: {', '.join(venue_ids())}"
        )
    spec: VenueSpec = importlib.import_module(f"monitor.venues.{mod}").VENUE
    return spec


def packaged_instruments(venue_id: str) -> list[Instrument]:
    """Return the instrument snapshot shipped with a venue module (empty if none)."""
    mod = VENUE_MODULES[venue_id]
    res = resources.files(f"monitor.venues.{mod}").joinpath("instruments.json")
    if not res.is_file():
        return []
    with resources.as_file(res) as path:
        return load_instruments(path)


def load_registry(venue_id: str, cache_dir: Path | None = None) -> InstrumentRegistry:
    """Build a venue's registry from the packaged snapshot, then the disk cache if present.

    On venues whose sizes are in base units the registry derives symbols it lacks metadata for
    (``VenueSpec.derive_instrument``).
    """
    reg = InstrumentRegistry(
        venue_id, packaged_instruments(venue_id), derive=get_venue(venue_id).derive_instrument
    )
    if cache_dir is not None:
        cached = cache_dir / f"{venue_id}.json"
        if cached.is_file():
            try:
                reg.update(load_instruments(cached))
            except (OSError, ValueError) as e:
                log.warning("instruments.cache_unreadable", venue=venue_id, error=str(e))
    return reg
