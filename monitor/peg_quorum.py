"""Peg quorums the configuration can form: which venues quote each watched stablecoin.

The ``stablecoin_depeg`` rules need a quorum of at least :data:`PEG_QUORUM` venues deviating
(``peg_venues_deviating >= 3``). A watched coin that fewer venues quote can never fire them, so
the daemon counts, at start, the enabled venues whose quote streams include a spot pair of the
coin (USD-quoted, or quoted in another watched coin such as ``USDC-USDT``, which the peg processor
converts through that coin's own USD price), sets ``riskmon_peg_quorum_venues{coin}`` and logs
``peg.quorum_short`` for each coin below the quorum.
"""

from __future__ import annotations

from collections.abc import Iterable

import structlog

from monitor.metrics import MonitorMetrics
from monitor.settings import Settings
from monitor.venues import get_venue, load_registry
from monitor.wiring import venue_streams
from streams.processors.peg import DEFAULT_PEG_COINS

__all__ = ["PEG_QUORUM", "check_peg_quorum", "peg_quorum_venues"]

log = structlog.get_logger(__name__)

#: venues that must deviate together for a systemic depeg (the pack's ``quorum`` conditions)
PEG_QUORUM = 3


def peg_quorum_venues(
    settings: Settings, coins: Iterable[str] = DEFAULT_PEG_COINS
) -> dict[str, list[str]]:
    """Coin -> the sorted enabled venues whose configured quote streams price it.

    A pair counts when it is a spot instrument of the coin quoted in USD or in a watched coin;
    symbols without metadata are left out (the peg processor could not use them either).
    """
    watched = set(coins)
    found: dict[str, set[str]] = {c: set() for c in coins}
    for vid, vs in settings.venues.items():
        if not vs.enabled:
            continue
        spec = get_venue(vid)
        streams = [s for s in venue_streams(spec, vs) if s.channel == "quotes" and s.symbol != "*"]
        if not streams:
            continue
        registry = load_registry(vid, settings.state_dir / "instruments")
        for st in streams:
            inst = registry.get(st.symbol)
            if inst is None or inst.kind != "spot" or inst.base not in watched:
                continue
            if inst.quote == "USD" or inst.quote in watched:
                found[inst.base].add(vid)
    return {c: sorted(v) for c, v in found.items()}


def check_peg_quorum(settings: Settings, metrics: MonitorMetrics) -> dict[str, list[str]]:
    """Set ``riskmon_peg_quorum_venues{coin}`` and warn about every coin below the quorum."""
    venues = peg_quorum_venues(settings)
    for coin, vids in venues.items():
        metrics.peg_quorum_venues.labels(coin=coin).set(len(vids))
        if len(vids) < PEG_QUORUM:
            log.warning(
                "peg.quorum_short",
                coin=coin,
                venues=vids,
                needed=PEG_QUORUM,
                effect="stablecoin_depeg cannot fire for this coin",
            )
    return venues
