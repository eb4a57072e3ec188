"""riskmon's Grafana dashboards as code (grafana-foundation-sdk, Grafana 11.6 variant).

``python -m grafana.dashboards`` writes ``grafana/dashboards/<uid>.json``; a test rebuilds them and
compares with the committed files. Four dashboards, all on the Prometheus datasource with the fixed
uid ``prometheus`` (``grafana/provisioning/datasources/riskmon.yaml``):

- **Overview** (per asset; variables asset and venue): deleveraging score, open interest against
  its 60-day peak, liquidations per minute long vs short, OI-weighted funding, drawdown from the
  90-day high, fast moves, the firing alerts table; alert transitions are annotations.
- **Pegs**: deviation by coin and venue, the cross-venue median, how many venues deviate,
  single-venue dislocations.
- **Feeds**: status by venue and channel, frames/s, parse errors by reason, reconnects, staleness,
  event-to-alert latency, the windows' late and dropped events.
- **Delivery**: outbox depth, sent/failed/retried by receiver, delivery latency, broken receivers.

Threshold lines come from the rule pack (``november-2025``): each level's threshold, converted to
the panel's unit with the same table the exporter uses, coloured by severity.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from grafana_foundation_sdk.builders import common as cb
from grafana_foundation_sdk.builders import dashboard as db
from grafana_foundation_sdk.builders import prometheus, stat, statetimeline, table, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.common import (
    GraphThresholdsStyleMode,
    LegendDisplayMode,
    LegendPlacement,
)
from grafana_foundation_sdk.models.dashboard import (
    DataSourceRef,
    GridPos,
    Threshold,
    ThresholdsMode,
    ValueMap,
    ValueMappingResult,
    VariableRefresh,
)
from grafana_foundation_sdk.models.prometheus import PromQueryFormat

from alerts.rules import RuleSet, load_pack
from alerts.rules.model import Rule
from streams.signal_metrics import metric_for

__all__ = ["DASHBOARDS", "DATASOURCE", "build_all", "main", "pack_thresholds", "render"]

DATASOURCE = DataSourceRef(type_val="prometheus", uid="prometheus")
OUT = Path(__file__).parent / "dashboards"
PACK = "november-2025"
_LEVEL_COLOR = {
    "watch": "yellow",
    "info": "yellow",
    "warning": "orange",
    "critical": "red",
    "extreme": "dark-red",
}
_RANK = {"ok": 0, "watch": 1, "info": 1, "warning": 2, "critical": 3, "extreme": 4}
_COLOR_OF_RANK = {0: "green", 1: "yellow", 2: "orange", 3: "red", 4: "dark-red"}


def _levels(rules: RuleSet, name: str, cond: str | None = None) -> list[tuple[str, Rule, int]]:
    out: list[tuple[str, Rule, int]] = []
    for r in rules.rules:
        if r.name != name:
            continue
        for i, c in enumerate(r.conditions):
            if cond is None or c.id == cond:
                out.append((r.level, r, i))
                break
    return out


def pack_thresholds(
    rules: RuleSet, names: Sequence[str | tuple[str, str]], unit_scale: float | None = None
) -> list[Threshold]:
    """Threshold steps (ascending) for the levels of these rules, in the panel's unit.

    Each entry is a rule name (its first condition) or ``(rule name, condition id)``. Upward
    rules (``>``) colour from their threshold up; downward ones (``<``) colour everything below.
    """
    ups: list[tuple[float, int]] = []
    downs: list[tuple[float, int]] = []
    for entry in names:
        name, cond = (entry, None) if isinstance(entry, str) else entry
        for level, rule, i in _levels(rules, name, cond):
            c = rule.conditions[i]
            scale = metric_for(c.signal).scale if unit_scale is None else unit_scale
            (ups if c.op in (">", ">=") else downs).append((c.threshold * scale, _RANK[level]))
    downs.sort()
    ups.sort()
    steps = [Threshold(value=None, color=_COLOR_OF_RANK[max((r for _, r in downs), default=0)])]
    for i, (v, _rank) in enumerate(downs):
        above = max((r for _, r in downs[i + 1 :]), default=0)
        steps.append(Threshold(value=v, color=_COLOR_OF_RANK[above]))
    for v, rank in ups:
        steps.append(Threshold(value=v, color=_COLOR_OF_RANK[rank]))
    return steps


def _thresholds(steps: list[Threshold]) -> db.ThresholdsConfig:
    return db.ThresholdsConfig().mode(ThresholdsMode.ABSOLUTE).steps(steps)


def _q(expr: str, legend: str = "", ref: str = "A", instant: bool = False) -> prometheus.Dataquery:
    q = prometheus.Dataquery().expr(expr).ref_id(ref).datasource(DATASOURCE)
    if legend:
        q = q.legend_format(legend)
    if instant:
        q = q.instant().format(PromQueryFormat.TABLE)
    return q


def _ts(
    pid: int,
    title: str,
    pos: tuple[int, int, int, int],
    queries: Iterable[prometheus.Dataquery],
    unit: str = "short",
    steps: list[Threshold] | None = None,
    description: str = "",
) -> timeseries.Panel:
    p = (
        timeseries.Panel()
        .id(pid)
        .title(title)
        .datasource(DATASOURCE)
        .unit(unit)
        .grid_pos(GridPos(h=pos[3], w=pos[2], x=pos[0], y=pos[1]))
        .legend(
            cb.VizLegendOptions()
            .show_legend(True)
            .display_mode(LegendDisplayMode.LIST)
            .placement(LegendPlacement.BOTTOM)
        )
    )
    if description:
        p = p.description(description)
    for q in queries:
        p = p.with_target(q)
    if steps is not None:
        p = p.thresholds(_thresholds(steps)).thresholds_style(
            cb.GraphThresholdsStyleConfig().mode(GraphThresholdsStyleMode.DASHED)
        )
    return p


def _var(name: str, label: str, query: str) -> db.QueryVariable:
    return (
        db.QueryVariable(name)
        .label(label)
        .datasource(DATASOURCE)
        .query(query)
        .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED)
        .multi(True)
        .include_all(True)
        .all_value(".*")
    )


def _alerts_table(pid: int, pos: tuple[int, int, int, int], selector: str) -> table.Panel:
    return (
        table.Panel()
        .id(pid)
        .title("Firing alerts")
        .description("riskmon_alerts_firing: one row per alert the engine has firing (like ALERTS)")
        .datasource(DATASOURCE)
        .grid_pos(GridPos(h=pos[3], w=pos[2], x=pos[0], y=pos[1]))
        .with_target(_q(f"riskmon_alerts_firing{selector}", instant=True))
    )


def _annotations() -> db.AnnotationQuery:
    return (
        db.AnnotationQuery()
        .name("Alert transitions")
        .datasource(DATASOURCE)
        .enable(True)
        .icon_color("red")
        .expr("riskmon_alerts_firing")
    )


def overview(rules: RuleSet) -> db.Dashboard:
    """Per asset: the risk picture and what fires."""
    a = 'asset=~"$asset"'
    return (
        db.Dashboard("riskmon / Overview")
        .uid("riskmon-overview")
        .tags(["riskmon", "generated"])
        .refresh("30s")
        .time("now-6h", "now")
        .timezone("utc")
        .with_variable(_var("asset", "Asset", "label_values(riskmon_price_ref, asset)"))
        .with_variable(_var("venue", "Venue", "label_values(riskmon_feed_up, venue)"))
        .annotation(_annotations())
        .with_panel(
            _ts(
                1,
                "Deleveraging score",
                (0, 0, 12, 8),
                [_q(f"riskmon_deleveraging_score{{{a}}}", "{{asset}}")],
                "none",
                pack_thresholds(rules, ["deleveraging_score"]),
                "0-100: OI drop, liquidation burst, long share, price drop, funding, pegs",
            )
            .min(0)
            .max(100)
        )
        .with_panel(
            _ts(
                2,
                "Open interest vs 60-day peak",
                (12, 0, 12, 8),
                [_q(f"riskmon_oi_drawdown_ratio{{{a}}}", "{{asset}}")],
                "percentunit",
                pack_thresholds(rules, [("oi_drawdown", "dd")]),
            )
        )
        .with_panel(
            _ts(
                3,
                "Liquidations per minute, long vs short",
                (0, 8, 12, 8),
                [
                    _q(
                        f'riskmon_liq_usd{{{a},window="1m",side=~"long|short"}}',
                        "{{asset}} {{side}}",
                    )
                ],
                "currencyUSD",
            )
        )
        .with_panel(
            _ts(
                4,
                "Liquidations in the last hour (all assets)",
                (12, 8, 12, 8),
                [_q('riskmon_liq_usd{asset="all",side="all",window="1h"}', "1 h, all assets")],
                "currencyUSD",
                pack_thresholds(rules, ["liquidations_1h"]),
            )
        )
        .with_panel(
            _ts(
                5,
                "Funding, OI-weighted (per 8 h)",
                (0, 16, 8, 8),
                [_q(f'riskmon_funding_rate_8h_ratio{{{a},venue="oi_weighted"}}', "{{asset}}")],
                "percentunit",
                pack_thresholds(rules, ["funding_high", "funding_negative"]),
            )
        )
        .with_panel(
            _ts(
                6,
                "Drawdown from the 90-day high",
                (8, 16, 8, 8),
                [_q(f"riskmon_price_drawdown_ratio{{{a}}}", "{{asset}}")],
                "percentunit",
                pack_thresholds(rules, ["price_drawdown"]),
            )
        )
        .with_panel(
            _ts(
                7,
                "Fast moves (10 min)",
                (16, 16, 8, 8),
                [_q(f'riskmon_price_return_ratio{{{a},window="10m"}}', "{{asset}} 10m")],
                "percentunit",
                pack_thresholds(rules, ["price_fast_move_10m"]),
            )
        )
        .with_panel(
            _ts(
                8,
                "Open interest (all venues)",
                (0, 24, 12, 8),
                [_q(f'riskmon_oi_usd{{{a},venue="all"}}', "{{asset}}")],
                "currencyUSD",
            )
        )
        .with_panel(_alerts_table(9, (12, 24, 12, 8), '{asset=~"$asset|all|"}'))
    )


def pegs(rules: RuleSet) -> db.Dashboard:
    """Stablecoins across venues."""
    c = 'coin=~"$coin"'
    depeg: list[str | tuple[str, str]] = [("stablecoin_depeg", "median"), "stablecoin_premium"]
    return (
        db.Dashboard("riskmon / Pegs")
        .uid("riskmon-pegs")
        .tags(["riskmon", "generated"])
        .refresh("30s")
        .time("now-6h", "now")
        .timezone("utc")
        .with_variable(_var("coin", "Coin", "label_values(riskmon_peg_deviation_ratio, coin)"))
        .with_variable(_var("venue", "Venue", "label_values(riskmon_peg_deviation_ratio, venue)"))
        .annotation(_annotations())
        .with_panel(
            _ts(
                1,
                "Deviation from peg by coin and venue",
                (0, 0, 12, 9),
                [_q(f'riskmon_peg_deviation_ratio{{{c},venue=~"$venue"}}', "{{coin}} {{venue}}")],
                "percentunit",
                pack_thresholds(rules, depeg),
            )
        )
        .with_panel(
            _ts(
                2,
                "Cross-venue median deviation",
                (12, 0, 12, 9),
                [_q(f"riskmon_peg_median_deviation_ratio{{{c}}}", "{{coin}}")],
                "percentunit",
                pack_thresholds(rules, depeg),
            )
        )
        .with_panel(
            _ts(
                3,
                "Venues deviating",
                (0, 9, 12, 8),
                [
                    _q(
                        f"riskmon_peg_venues_deviating{{{c}}}",
                        "{{coin}} >= {{threshold}} bps",
                    ),
                    _q(f"riskmon_peg_venues{{{c}}}", "{{coin}} fresh venues", "B"),
                ],
                "short",
                pack_thresholds(rules, [("stablecoin_depeg", "quorum")], 1.0),
                "A depeg alert needs a quorum of 3 venues deviating",
            )
        )
        .with_panel(
            _ts(
                4,
                "Single-venue dislocations",
                (12, 9, 12, 8),
                [
                    _q(
                        f'riskmon_peg_dislocation_ratio{{{c},venue=~"$venue"}}',
                        "{{coin}} {{venue}}",
                    )
                ],
                "percentunit",
                pack_thresholds(rules, ["stablecoin_venue_dislocation"]),
            )
        )
        .with_panel(_alerts_table(5, (0, 17, 24, 7), '{category="stablecoin"}'))
    )


def feeds(rules: RuleSet) -> db.Dashboard:
    """Is the data arriving, and how fast does it turn into alerts."""
    v = 'venue=~"$venue"'
    status = (
        statetimeline.Panel()
        .id(1)
        .title("Status by venue and channel")
        .datasource(DATASOURCE)
        .grid_pos(GridPos(h=9, w=24, x=0, y=0))
        .with_target(_q(f"riskmon_feed_up{{{v}}}", "{{venue}} {{channel}}"))
        .mappings(
            [
                ValueMap(
                    options={
                        "0": ValueMappingResult(text="down", color="red", index=0),
                        "1": ValueMappingResult(text="up", color="green", index=1),
                    }
                )
            ]
        )
    )
    rate = "$__rate_interval"
    lat = "riskmon_pipeline_event_to_notice_seconds_bucket"
    return (
        db.Dashboard("riskmon / Feeds")
        .uid("riskmon-feeds")
        .tags(["riskmon", "generated"])
        .refresh("30s")
        .time("now-3h", "now")
        .timezone("utc")
        .with_variable(_var("venue", "Venue", "label_values(riskmon_feed_frames_total, venue)"))
        .with_panel(status)
        .with_panel(
            _ts(
                2,
                "Frames per second",
                (0, 9, 8, 8),
                [
                    _q(
                        f"sum by (venue) (rate(riskmon_feed_frames_total{{{v}}}[{rate}]))",
                        "{{venue}}",
                    )
                ],
                "reqps",
            )
        )
        .with_panel(
            _ts(
                3,
                "Parse errors by reason",
                (8, 9, 8, 8),
                [
                    _q(
                        "sum by (venue, reason) "
                        f"(rate(riskmon_feed_frames_skipped_total{{{v}}}[{rate}]))",
                        "{{venue}} {{reason}}",
                    )
                ],
                "reqps",
            )
        )
        .with_panel(
            _ts(
                4,
                "Reconnects",
                (16, 9, 8, 8),
                [
                    _q(
                        "sum by (venue, reason) "
                        f"(increase(riskmon_feed_reconnects_total{{{v}}}[{rate}]))",
                        "{{venue}} {{reason}}",
                    )
                ],
            )
        )
        .with_panel(
            _ts(
                5,
                "Staleness (event time since the newest event)",
                (0, 17, 12, 8),
                [_q(f"riskmon_feed_age_seconds{{{v}}}", "{{venue}} {{channel}}")],
                "s",
                pack_thresholds(rules, ["feed_stale"]),
            )
        )
        .with_panel(
            _ts(
                6,
                "Event to alert notice latency",
                (12, 17, 12, 8),
                [
                    _q(f"histogram_quantile(0.5, sum by (le) (rate({lat}[{rate}])))", "p50"),
                    _q(f"histogram_quantile(0.99, sum by (le) (rate({lat}[{rate}])))", "p99", "B"),
                    _q(
                        "histogram_quantile(0.99, sum by (le) "
                        f"(rate(riskmon_pipeline_event_latency_seconds_bucket[{rate}])))",
                        "p99 event processing",
                        "C",
                    ),
                ],
                "s",
            )
        )
        .with_panel(
            _ts(
                7,
                "Window late and dropped events",
                (0, 25, 12, 8),
                [
                    _q(f"rate(riskmon_window_late_events_total[{rate}])", "late {{processor}}"),
                    _q(
                        f"rate(riskmon_window_dropped_events_total[{rate}])",
                        "dropped {{processor}}",
                        "B",
                    ),
                ],
                "reqps",
            )
        )
        .with_panel(
            _ts(
                8,
                "Bus queue depth and drops",
                (12, 25, 12, 8),
                [
                    _q("riskmon_bus_queue_depth", "queued"),
                    _q(f"sum(rate(riskmon_bus_dropped_total[{rate}]))", "dropped/s", "B"),
                ],
            )
        )
    )


def delivery(_rules: RuleSet) -> db.Dashboard:
    """Do notifications leave, how fast, and which receivers are broken."""
    r = 'receiver=~"$receiver"'
    rate = "$__rate_interval"
    broken = (
        stat.Panel()
        .id(5)
        .title("Broken receivers")
        .description("1 while a receiver answers as misconfigured (e.g. Slack 404/410)")
        .datasource(DATASOURCE)
        .grid_pos(GridPos(h=8, w=8, x=16, y=8))
        .with_target(_q(f"riskmon_alerts_receiver_broken_state{{{r}}}", "{{receiver}}"))
        .thresholds(
            _thresholds([Threshold(value=None, color="green"), Threshold(value=1, color="red")])
        )
        .mappings(
            [
                ValueMap(
                    options={
                        "0": ValueMappingResult(text="ok", color="green", index=0),
                        "1": ValueMappingResult(text="broken", color="red", index=1),
                    }
                )
            ]
        )
    )
    nl = "riskmon_alerts_notice_to_delivery_seconds_bucket"
    return (
        db.Dashboard("riskmon / Delivery")
        .uid("riskmon-delivery")
        .tags(["riskmon", "generated"])
        .refresh("30s")
        .time("now-6h", "now")
        .timezone("utc")
        .with_variable(
            _var(
                "receiver", "Receiver", "label_values(riskmon_alerts_notifications_total, receiver)"
            )
        )
        .with_panel(
            _ts(
                1,
                "Outbox depth",
                (0, 0, 8, 8),
                [_q(f"riskmon_alerts_outbox_pending_notifications{{{r}}}", "{{receiver}}")],
            )
        )
        .with_panel(
            _ts(
                2,
                "Sent, failed and retried",
                (8, 0, 16, 8),
                [
                    _q(
                        f"sum by (receiver) (increase(riskmon_alerts_sent_total{{{r}}}[{rate}]))",
                        "sent {{receiver}}",
                    ),
                    _q(
                        "sum by (receiver, outcome) "
                        f'(increase(riskmon_alerts_failed_total{{{r},outcome!="retry"}}[{rate}]))',
                        "failed {{receiver}} {{outcome}}",
                        "B",
                    ),
                    _q(
                        "sum by (receiver) "
                        f'(increase(riskmon_alerts_failed_total{{{r},outcome="retry"}}[{rate}]))',
                        "retried {{receiver}}",
                        "C",
                    ),
                ],
            )
        )
        .with_panel(
            _ts(
                3,
                "Notice to delivery latency",
                (0, 8, 8, 8),
                [
                    _q(
                        "histogram_quantile(0.5, sum by (le, receiver) "
                        f"(rate({nl}{{{r}}}[{rate}])))",
                        "p50 {{receiver}}",
                    ),
                    _q(
                        "histogram_quantile(0.99, sum by (le, receiver) "
                        f"(rate({nl}{{{r}}}[{rate}])))",
                        "p99 {{receiver}}",
                        "B",
                    ),
                ],
                "s",
            )
        )
        .with_panel(
            _ts(
                4,
                "Delivery attempt duration (p99)",
                (8, 8, 8, 8),
                [
                    _q(
                        "histogram_quantile(0.99, sum by (le, receiver) "
                        f"(rate(riskmon_alerts_delivery_seconds_bucket{{{r}}}[{rate}])))",
                        "{{receiver}}",
                    )
                ],
                "s",
            )
        )
        .with_panel(broken)
        .with_panel(
            _ts(
                6,
                "Alert transitions and muted alerts",
                (0, 16, 24, 8),
                [
                    _q(
                        "sum by (severity, status) "
                        f"(increase(riskmon_alerts_transitions_total[{rate}]))",
                        "{{status}} {{severity}}",
                    ),
                    _q(
                        f"sum by (reason) (increase(riskmon_alerts_muted_total[{rate}]))",
                        "muted ({{reason}})",
                        "B",
                    ),
                    _q(
                        "sum by (severity) (riskmon_alerts_firing_alerts)",
                        "firing {{severity}}",
                        "C",
                    ),
                ],
            )
        )
    )


DASHBOARDS = {
    "riskmon-overview": overview,
    "riskmon-pegs": pegs,
    "riskmon-feeds": feeds,
    "riskmon-delivery": delivery,
}


def _finish(data: dict[str, Any]) -> dict[str, Any]:
    """Fields the SDK's annotation model lacks (Prometheus annotation title and tags)."""
    for ann in data.get("annotations", {}).get("list", []):
        if ann.get("expr") == "riskmon_alerts_firing":
            ann["titleFormat"] = "{{alertname}} {{severity}}"
            ann["tagKeys"] = "alertname,severity,asset,coin,venue"
            ann["step"] = "30s"
    return data


def render(dashboard: db.Dashboard) -> str:
    """The dashboard's JSON text, stable (sorted keys, two-space indent, final newline)."""
    data = json.loads(json.dumps(dashboard.build(), cls=JSONEncoder))
    return json.dumps(_finish(data), indent=2, sort_keys=True) + "\n"


def build_all(rules: RuleSet | None = None) -> dict[str, str]:
    """Every dashboard's JSON text by uid."""
    rs = rules or load_pack(PACK)
    return {uid: render(make(rs)) for uid, make in DASHBOARDS.items()}


def main(argv: Sequence[str] | None = None) -> int:
    """Write ``grafana/dashboards/<uid>.json`` (or into the directory given)."""
    args = list(sys.argv[1:] if argv is None else argv)
    out = Path(args[0]) if args else OUT
    out.mkdir(parents=True, exist_ok=True)
    for uid, text in build_all().items():
        (out / f"{uid}.json").write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
