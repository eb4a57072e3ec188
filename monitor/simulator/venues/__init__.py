"""Simulated venues, one module per venue, each exposing one :class:`SimVenue` subclass."""

from __future__ import annotations

import importlib
import importlib.util

from monitor.simulator.base import SimVenue

__all__ = ["SIM_CLASSES", "all_sim_venues", "sim_venue"]

# venue id -> (module under monitor.simulator.venues, class name)
SIM_CLASSES: dict[str, tuple[str, str]] = {
    "binance-usdm": ("binance_usdm", "BinanceUsdmSim"),
    "bybit-linear": ("bybit_linear", "BybitLinearSim"),
    "okx-swap": ("okx_swap", "OkxSwapSim"),
    "hyperliquid": ("hyperliquid", "HyperliquidSim"),
    "deribit": ("deribit", "DeribitSim"),
    "bitmex": ("bitmex", "BitmexSim"),
    "kraken": ("kraken", "KrakenSim"),
    "coinbase": ("coinbase", "CoinbaseSim"),
    "bitstamp": ("bitstamp", "BitstampSim"),
    "binance-spot": ("binance_spot", "BinanceSpotSim"),
    "okx-spot": ("okx_spot", "OkxSpotSim"),
    "bybit-spot": ("bybit_spot", "BybitSpotSim"),
    "gate-spot": ("gate_spot", "GateSpotSim"),
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
