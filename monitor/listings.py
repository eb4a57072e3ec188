"""Whole-market subscriptions on venues that need one subscription per listed symbol.

Bybit has no all-symbol liquidation topic: its whole market is ``allLiquidation.{symbol}`` for
every listed perpetual. A feed states such a channel as one ``Stream(channel, "*")``, like
Binance's ``!forceOrder@arr``; :func:`plan_feed` expands it to every listed perpetual of the
venue's registry before the venue plans its connections (within its own limits), and maps the
planned streams back to ``"*"`` so that the feed watches the channel as a whole: a quiet symbol
is not a silent stream, the channel is silent when none of its symbols delivered.

New listings found by a later refresh (:mod:`monitor.listing_refresh`) are planned the same way
for the new symbols only (:func:`plan_listed`), on connections of their own, so the running
connections are not disturbed. Such a connection carries few symbols: when none of them has a
liquidation for the channel's quiet limit (1 h on Bybit) the stall watchdog reconnects it, a
counted reconnect and nothing more (the channel's health is the whole market's). A restart folds
the new listings into the full connections.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence

from monitor.instruments import InstrumentRegistry
from monitor.venues.base import ConnectionPlan, Stream, VenueEndpoints, VenueSpec

__all__ = ["listed_symbols", "plan_feed", "plan_listed"]


def listed_symbols(registry: InstrumentRegistry) -> list[str]:
    """The venue's listed perpetuals with metadata, sorted."""
    return sorted(i.symbol for i in registry.all() if i.kind == "perp")


def _expand(
    spec: VenueSpec, streams: Sequence[Stream], symbols: Iterable[str]
) -> tuple[list[Stream], frozenset[str]]:
    """Streams with each listed channel's ``"*"`` replaced by one stream per symbol."""
    wide = frozenset(
        s.channel for s in streams if s.symbol == "*" and s.channel in spec.listed_channels
    )
    if not wide:
        return list(streams), wide
    syms = list(symbols)
    out: list[Stream] = []
    for st in streams:
        if st.symbol == "*" and st.channel in wide:
            out.extend(Stream(st.channel, sym) for sym in syms)
        else:
            out.append(st)
    return out, frozenset(wide)


def _fold(
    plans: list[ConnectionPlan], wide: frozenset[str], suffix: str = ""
) -> list[ConnectionPlan]:
    """Plans whose per-symbol streams of the ``wide`` channels read as ``Stream(channel, "*")``."""
    if not wide and not suffix:
        return plans
    return [
        dataclasses.replace(
            p,
            key=p.key + suffix,
            streams=tuple(
                dict.fromkeys(Stream(s.channel, "*") if s.channel in wide else s for s in p.streams)
            ),
        )
        for p in plans
    ]


def plan_feed(
    spec: VenueSpec,
    endpoints: VenueEndpoints,
    streams: Sequence[Stream],
    registry: InstrumentRegistry,
) -> list[ConnectionPlan]:
    """The venue's connection plans for ``streams``, a listed channel's ``"*"`` expanded to
    every listed perpetual of ``registry``."""
    expanded, wide = _expand(spec, streams, listed_symbols(registry))
    return _fold(spec.plan(endpoints, expanded), wide)


def plan_listed(
    spec: VenueSpec,
    endpoints: VenueEndpoints,
    streams: Sequence[Stream],
    symbols: Iterable[str],
    suffix: str,
) -> list[ConnectionPlan]:
    """Connection plans for new listings ``symbols`` on the listed channels of ``streams``
    (none when the feed has no such channel); ``suffix`` keeps their keys apart."""
    wide_streams = [s for s in streams if s.symbol == "*" and s.channel in spec.listed_channels]
    syms = sorted(symbols)
    if not wide_streams or not syms:
        return []
    expanded, wide = _expand(spec, wide_streams, syms)
    return _fold(spec.plan(endpoints, expanded), wide, suffix)
