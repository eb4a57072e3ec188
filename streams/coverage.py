"""Liquidation coverage: how much of the whole market's liquidations each venue's feed shows.

The rule pack's USD liquidation ladder is calibrated on CoinGlass whole-market figures. riskmon
sees only part of them: Hyperliquid has no public liquidation feed, most venues are not
monitored at all, and the venues it does watch are a share of the market. Each factor below is
the share of CoinGlass's whole-market liquidated USD that one venue's public feed delivers to
riskmon (``market_share × feed_capture``). Rules that compare liquidation USD with a market-wide
threshold scale it by the covered share (``scale_by: liq_coverage_share``, see
``docs/alerting.md``), so that the part riskmon sees is judged against the same part of the
threshold.

Feed capture is relative to what CoinGlass itself counts: CoinGlass aggregates the exchanges'
own streams, so the Binance (``forceOrder``, at most one order per symbol per second) and OKX
(``liquidation-orders``, sampled) caps undercount CoinGlass's figures exactly as they undercount
riskmon's; a capped feed therefore has capture 1.0 *relative to the ladder*. The shares are
estimates (sources per venue in ``docs/coverage.md``); users override them per venue
(``liquidation_coverage.venues``) or set the covered share outright
(``liquidation_coverage.share``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

__all__ = ["LIQ_COVERAGE", "VenueCoverage", "covered_share", "venue_factor"]


@dataclass(frozen=True)
class VenueCoverage:
    """One venue's part of the whole market's liquidations, as riskmon's feed sees it.

    Attributes:
        market_share: the venue's share of CoinGlass whole-market liquidated USD (0..1).
        feed_capture: the part of that share its public feed delivers (0..1), relative to what
            CoinGlass counts for the venue.
        source: where the figures come from (also in ``docs/coverage.md``).
    """

    market_share: float
    feed_capture: float
    source: str

    @property
    def factor(self) -> float:
        """The venue's covered share of the whole market: ``market_share × feed_capture``."""
        return self.market_share * self.feed_capture


#: venue id -> its coverage (venues not listed cover nothing)
LIQ_COVERAGE: dict[str, VenueCoverage] = {
    "binance-usdm": VenueCoverage(
        0.30,
        1.0,
        "share: Binance $389M of $1.2B on 12 May 2022 (CoinDesk venue split, ~32%), taken as 30% "
        "for 2025 [estimate]; capture: forceOrder sends <= 1 order per symbol per second, the "
        "same stream CoinGlass aggregates (Binance USD-M WebSocket docs)",
    ),
    "bybit-linear": VenueCoverage(
        0.22,
        1.0,
        "share: Bybit $155M of $1.2B on 12 May 2022 (~13%), grown since; 22% for 2025 "
        "[estimate]; capture: allLiquidation pushes every liquidation in 500 ms batches since "
        "2025-02-20 (Bybit v5 docs)",
    ),
    "okx-swap": VenueCoverage(
        0.14,
        1.0,
        "share: OKX $393M of $1.2B on 12 May 2022 (~33%), smaller since; 14% for 2025 "
        "[estimate]; capture: liquidation-orders is sampled (<= 1 order per contract per "
        "second), as CoinGlass receives it (OKX v5 docs)",
    ),
    "hyperliquid": VenueCoverage(
        0.15,
        0.0,
        "share: CoinGlass counts Hyperliquid's on-chain liquidations ($9.3B of the $19.1B of "
        "10 Oct 2025 in 4 h; ~15% on ordinary days [estimate]); capture 0: no public "
        "liquidation feed",
    ),
    "deribit": VenueCoverage(
        0.02,
        1.0,
        "share: ~2% [estimate, BTC/ETH only]; capture: every liquidation trade is flagged in the "
        "trades channel (Deribit docs)",
    ),
    "bitmex": VenueCoverage(
        0.04,
        1.0,
        "share: ~4% [estimate]; capture: the liquidation table lists the liquidation orders "
        "(BitMEX docs)",
    ),
}


def venue_factor(venue: str, overrides: Mapping[str, float] | None = None) -> float:
    """The covered share of one venue: an override, else :data:`LIQ_COVERAGE`, else 0."""
    if overrides and venue in overrides:
        return overrides[venue]
    cov = LIQ_COVERAGE.get(venue)
    return 0.0 if cov is None else cov.factor


def covered_share(venues: Iterable[str], overrides: Mapping[str, float] | None = None) -> float:
    """The estimated share of whole-market liquidations the given venues' feeds show (<= 1)."""
    return min(1.0, sum(venue_factor(v, overrides) for v in set(venues)))
