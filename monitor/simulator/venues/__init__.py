"""Simulated venues, one module per venue, each exposing one :class:`SimVenue` subclass."""

from __future__ import annotations

import importlib
import importlib.util

from monitor.simulator.base import SimVenue
from monitor.venues import VENUE_MODULES

__all__ = ["SIM_CLASSES", "all_sim_venues", "sim_venue"]


def _sim_class(module: str) -> str:
    """The simulator class of a venue module: ``binance_usdm`` -> ``BinanceUsdmSim``."""
    return "".join(part.capitalize() for part in module.split("_")) + "Sim"


#: venue id -> (module under monitor.simulator.venues, class name): a simulator module per venue
#: module, named alike (:data:`monitor.venues.VENUE_MODULES`)
SIM_CLASSES: dict[str, tuple[str, str]] = {
    vid: (mod, _sim_class(mod)) for vid, mod in VENUE_MODULES.items()
}


def sim_venue(venue_id: str) -> SimVenue:
    """Build the simulator of ``venue_id``."""
    mod, cls = SIM_CLASSES[venue_id]
    sim: SimVenue = getattr(importlib.import_module(f"monitor.simulator.venues.{mod}"), cls)()
    return sim


def all_sim_venues() -> list[SimVenue]:
    """Build a simulator for every venue whose simulator module is installed."""
    return [
        sim_venue(vid)
        for vid, (mod, _) in SIM_CLASSES.items()
        if importlib.util.find_spec(f"monitor.simulator.venues.{mod}") is not None
    ]
