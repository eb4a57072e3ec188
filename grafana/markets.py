"""The market dashboards: **Overview** (per asset: deleveraging score, open interest against its
60-day peak, liquidations long vs short, OI-weighted funding, drawdown, fast moves, firing alerts)
and **Pegs** (stablecoin deviation by coin and venue, the cross-venue median, how many venues
deviate, single-venue dislocations)."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as db

from alerts.rules import RuleSet
from grafana.panels import (
    alert_annotations,
    alerts_table,
    dashboard,
    pack_thresholds,
    query,
    timeseries_panel,
    variable,
)

__all__ = ["overview", "pegs"]


def overview(rules: RuleSet) -> db.Dashboard:
    """Per asset: the risk picture and what fires."""
    a = 'asset=~"$asset"'
    return (
        dashboard("riskmon / Overview", "riskmon-overview", "6h")
        .with_variable(variable("asset", "Asset", "label_values(riskmon_price_ref, asset)"))
        .with_variable(variable("venue", "Venue", "label_values(riskmon_feed_up, venue)"))
        .annotation(alert_annotations())
        .with_panel(
            timeseries_panel(
                1,
                "Deleveraging score",
                (0, 0, 12, 8),
                [query(f"riskmon_deleveraging_score{{{a}}}", "{{asset}}")],
                "none",
                pack_thresholds(rules, ["deleveraging_score"]),
                "0-100: OI drop, liquidation burst, long share, price drop, funding, pegs",
            )
            .min(0)
            .max(100)
        )
        .with_panel(
            timeseries_panel(
                2,
                "Open interest vs 60-day peak",
                (12, 0, 12, 8),
                [query(f"riskmon_oi_drawdown_ratio{{{a}}}", "{{asset}}")],
                "percentunit",
                pack_thresholds(rules, [("oi_drawdown", "dd")]),
            )
        )
        .with_panel(
            timeseries_panel(
                3,
                "Liquidations per minute, long vs short",
                (0, 8, 12, 8),
                [
                    query(
                        f'riskmon_liq_usd{{{a},window="1m",side=~"long|short"}}',
                        "{{asset}} {{side}}",
                    )
                ],
                "currencyUSD",
            )
        )
        .with_panel(
            timeseries_panel(
                4,
                "Liquidations in the last hour (all assets)",
                (12, 8, 12, 8),
                [query('riskmon_liq_usd{asset="all",side="all",window="1h"}', "1 h, all assets")],
                "currencyUSD",
                pack_thresholds(rules, ["liquidations_1h"]),
            )
        )
        .with_panel(
            timeseries_panel(
                5,
                "Funding, OI-weighted (per 8 h)",
                (0, 16, 8, 8),
                [query(f'riskmon_funding_rate_8h_ratio{{{a},venue="oi_weighted"}}', "{{asset}}")],
                "percentunit",
                pack_thresholds(rules, ["funding_high", "funding_negative"]),
            )
        )
        .with_panel(
            timeseries_panel(
                6,
                "Drawdown from the 90-day high",
                (8, 16, 8, 8),
                [query(f"riskmon_price_drawdown_ratio{{{a}}}", "{{asset}}")],
                "percentunit",
                pack_thresholds(rules, ["price_drawdown"]),
            )
        )
        .with_panel(
            timeseries_panel(
                7,
                "Fast moves (10 min)",
                (16, 16, 8, 8),
                [query(f'riskmon_price_return_ratio{{{a},window="10m"}}', "{{asset}} 10m")],
                "percentunit",
                pack_thresholds(rules, ["price_fast_move_10m"]),
            )
        )
        .with_panel(
            timeseries_panel(
                8,
                "Open interest (all venues)",
                (0, 24, 12, 8),
                [query(f'riskmon_oi_usd{{{a},venue="all"}}', "{{asset}}")],
                "currencyUSD",
            )
        )
        .with_panel(alerts_table(9, (12, 24, 12, 8), '{asset=~"$asset|all|"}'))
    )


def pegs(rules: RuleSet) -> db.Dashboard:
    """Stablecoins across venues."""
    c = 'coin=~"$coin"'
    depeg: list[str | tuple[str, str]] = [("stablecoin_depeg", "median"), "stablecoin_premium"]
    return (
        dashboard("riskmon / Pegs", "riskmon-pegs", "6h")
        .with_variable(variable("coin", "Coin", "label_values(riskmon_peg_deviation_ratio, coin)"))
        .with_variable(
            variable("venue", "Venue", "label_values(riskmon_peg_deviation_ratio, venue)")
        )
        .annotation(alert_annotations())
        .with_panel(
            timeseries_panel(
                1,
                "Deviation from peg by coin and venue",
                (0, 0, 12, 9),
                [
                    query(
                        f'riskmon_peg_deviation_ratio{{{c},venue=~"$venue"}}', "{{coin}} {{venue}}"
                    )
                ],
                "percentunit",
                pack_thresholds(rules, depeg),
            )
        )
        .with_panel(
            timeseries_panel(
                2,
                "Cross-venue median deviation",
                (12, 0, 12, 9),
                [query(f"riskmon_peg_median_deviation_ratio{{{c}}}", "{{coin}}")],
                "percentunit",
                pack_thresholds(rules, depeg),
            )
        )
        .with_panel(
            timeseries_panel(
                3,
                "Venues deviating",
                (0, 9, 12, 8),
                [
                    query(
                        f"riskmon_peg_venues_deviating{{{c}}}",
                        "{{coin}} >= {{threshold}} bps",
                    ),
                    query(f"riskmon_peg_venues{{{c}}}", "{{coin}} fresh venues", "B"),
                ],
                "short",
                pack_thresholds(rules, [("stablecoin_depeg", "quorum")], 1.0),
                "A depeg alert needs a quorum of 3 venues deviating",
            )
        )
        .with_panel(
            timeseries_panel(
                4,
                "Single-venue dislocations",
                (12, 9, 12, 8),
                [
                    query(
                        f'riskmon_peg_dislocation_ratio{{{c},venue=~"$venue"}}',
                        "{{coin}} {{venue}}",
                    )
                ],
                "percentunit",
                pack_thresholds(rules, ["stablecoin_venue_dislocation"]),
            )
        )
        .with_panel(alerts_table(5, (0, 17, 24, 7), '{category="stablecoin"}'))
    )
