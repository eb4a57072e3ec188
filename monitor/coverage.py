"""The covered share of whole-market liquidations for a configuration (``liq_coverage_share``).

:mod:`streams.coverage` holds each venue's factor; this module applies a configuration: the
enabled venues that subscribe liquidations, the user's per-venue overrides, or a fixed share.
Against the simulator the share is 1.0, since its scenarios stand for the whole market (see
``riskmon backtest --coverage live`` for a scenario as the live default configuration sees it).
"""

from __future__ import annotations

import structlog

from monitor.settings import Settings
from monitor.venues import get_venue
from monitor.wiring import venue_streams
from streams.coverage import covered_share, venue_factor
from streams.processors.factory import StreamsConfig
from streams.processors.liquidations import LiquidationConfig

__all__ = ["default_live_factors", "liquidation_venues", "settings_coverage", "streams_config"]

log = structlog.get_logger(__name__)


def liquidation_venues(settings: Settings) -> list[str]:
    """The enabled venues whose configured streams include liquidations."""
    out = []
    for vid, vs in settings.venues.items():
        if vs.enabled and any(
            s.channel == "liquidations" for s in venue_streams(get_venue(vid), vs)
        ):
            out.append(vid)
    return sorted(out)


def settings_coverage(settings: Settings) -> float:
    """The covered share: ``liquidation_coverage.share``, 1.0 on the simulator, else the sum of
    the liquidation venues' factors (with the configured overrides), at least 0.01."""
    cov = settings.liquidation_coverage
    if cov.share is not None:
        return cov.share
    if settings.simulator:
        return 1.0
    return max(0.01, covered_share(liquidation_venues(settings), cov.venues))


def streams_config(settings: Settings) -> StreamsConfig:
    """The processors' configuration of a run: the liquidation coverage from the settings."""
    share = settings_coverage(settings)
    venues = liquidation_venues(settings)
    log.info(
        "liquidations.coverage",
        share=round(share, 4),
        venues={v: venue_factor(v, settings.liquidation_coverage.venues) for v in venues},
        fixed=settings.liquidation_coverage.share is not None,
        simulator=bool(settings.simulator),
    )
    return StreamsConfig(liquidations=LiquidationConfig(coverage_share=share))


def default_live_factors() -> dict[str, float]:
    """Venue -> factor of the default live configuration (every venue with its defaults, no
    overrides): the venues ``riskmon run`` without a config file takes liquidations from."""
    defaults = Settings.model_construct()  # no file, no environment: the shipped defaults
    return {v: f for v in liquidation_venues(defaults) if (f := venue_factor(v)) > 0.0}
