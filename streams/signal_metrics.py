"""How signals are named and scaled as Prometheus metrics (exporter, rule export, dashboards).

A signal ``oi_drawdown_pct{asset}`` is exported as ``riskmon_oi_drawdown_ratio{asset}`` with its
value multiplied by ``scale`` (0.01): metric names carry base units (``_ratio`` for fractions,
percentages and basis points, ``_seconds`` for hours, ``_usd`` for dollars), following
``riskmon_<signal noun>_<unit>``. The two counters among the signals (``feed_gaps_total``,
``feed_reconnects_total``) become counters ``riskmon_feed_health_*_total``, apart from the
daemon's own ``riskmon_feed_reconnects_total{venue,reason}``. A signal outside the table keeps
its name (``riskmon_<name>``, a counter when it ends in ``_total``). The monitor's exporter scales
values with this table; the rule export divides back (``metric / scale``) so thresholds stay in
the units the rule pack is written in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["PREFIX", "SIGNAL_METRICS", "MetricSpec", "metric_for"]

PREFIX = "riskmon_"
_PREFIX = PREFIX


@dataclass(frozen=True, slots=True)
class MetricSpec:
    """How one signal is exported: metric name, scale to the base unit, type and help."""

    metric: str
    scale: float = 1.0
    kind: Literal["gauge", "counter"] = "gauge"
    help: str = ""


def _g(metric: str, help_: str, scale: float = 1.0) -> MetricSpec:
    return MetricSpec(_PREFIX + metric, scale, "gauge", help_)


#: signal name -> exported metric (names carry base units; values are scaled to them)
SIGNAL_METRICS: dict[str, MetricSpec] = {
    "liq_usd": _g("liq_usd", "Liquidated notional in the window, USD."),
    "liq_count": _g("liq_events", "Liquidation events in the window."),
    "liq_long_share": _g("liq_long_share_ratio", "Long share of liquidated USD (0 when empty)."),
    "liq_burst_z": _g("liq_burst_zscore", "Robust z of 1-minute liquidations vs baseline."),
    "liq_saturated_seconds": _g(
        "liq_saturated_seconds", "Seconds in the last hour a capped venue hit its cap."
    ),
    "liq_window_covered": _g("liq_window_covered", "1 once a whole window of data was seen."),
    "liq_coverage_share": _g(
        "liq_coverage_share_ratio", "Estimated share of whole-market liquidations the feeds show."
    ),
    "oi_usd": _g("oi_usd", "Open interest, USD."),
    "oi_change_pct": _g("oi_change_ratio", "Change of open interest over the window.", 0.01),
    "oi_drawdown_pct": _g("oi_drawdown_ratio", "Open interest vs its 60-day peak (<= 0).", 0.01),
    "oi_drawdown_coverage": _g(
        "oi_drawdown_coverage_ratio", "Share of the total the OI drawdown covers."
    ),
    "oi_complete": _g("oi_complete", "1 when every known instrument's OI is fresh."),
    "oi_venue_included": _g("oi_venue_included", "1 when the venue counts in the OI total."),
    "price_ref": _g("price_ref", "Reference price (median of fresh venues), quote currency."),
    "price_venues": _g("price_venues", "Venues in the reference price."),
    "price_drawdown_pct": _g(
        "price_drawdown_ratio", "Reference price vs its 90-day high (<= 0).", 0.01
    ),
    "price_return_pct": _g("price_return_ratio", "Reference price return over the window.", 0.01),
    "funding_rate_8h": _g("funding_rate_8h_ratio", "Funding rate per 8 hours (0.0001 = 0.01%)."),
    "funding_rate_annual_pct": _g(
        "funding_rate_annual_ratio", "Funding rate per year (simple).", 0.01
    ),
    "funding_negative_hours": _g(
        "funding_negative_seconds", "Time the OI-weighted funding has been negative.", 3600.0
    ),
    "peg_price": _g("peg_price_usd", "Stablecoin mid, USD."),
    "peg_deviation_bps": _g("peg_deviation_ratio", "Stablecoin price - 1.", 1e-4),
    "peg_median_deviation_bps": _g(
        "peg_median_deviation_ratio", "Median deviation from peg over fresh venues.", 1e-4
    ),
    "peg_venues": _g("peg_venues", "Fresh venues quoting the coin."),
    "peg_venues_deviating": _g(
        "peg_venues_deviating", "Fresh venues deviating by at least `threshold` bps."
    ),
    "peg_dislocation_bps": _g(
        "peg_dislocation_ratio", "Venue deviation minus the median of the others.", 1e-4
    ),
    "peg_max_dislocation_bps": _g(
        "peg_max_dislocation_ratio", "The largest venue dislocation (signed).", 1e-4
    ),
    "peg_reference_fresh": _g("peg_reference_fresh", "0 when parity replaced the USD reference."),
    "peg_via_rate": _g("peg_via_rate_usd", "USD price of the coin a converted price went through."),
    "feed_age_seconds": _g("feed_age_seconds", "Event time since the channel's newest event."),
    "feed_up": _g("feed_up", "1 while the channel reports itself up."),
    "feed_gaps_total": MetricSpec(
        "riskmon_feed_health_gaps_total", 1.0, "counter", "Up to stale/down transitions."
    ),
    "feed_reconnects_total": MetricSpec(
        "riskmon_feed_health_reconnects_total",
        1.0,
        "counter",
        "Reconnects seen on the connection channel (event stream).",
    ),
    "deleveraging_score": _g("deleveraging_score", "Deleveraging composite score, 0-100."),
    "deleveraging_component": _g(
        "deleveraging_component_ratio", "Deleveraging score component, 0-1."
    ),
    "deleveraging_score_inputs": _g(
        "deleveraging_score_inputs", "Score components that had data (0-6)."
    ),
}


def metric_for(signal: str) -> MetricSpec:
    """The exported metric of a signal (a signal outside the catalogue keeps its own name)."""
    spec = SIGNAL_METRICS.get(signal)
    if spec is not None:
        return spec
    if signal.endswith("_total"):
        return MetricSpec(_PREFIX + signal, 1.0, "counter", f"riskmon signal {signal}")
    return MetricSpec(_PREFIX + signal, 1.0, "gauge", f"riskmon signal {signal}")
