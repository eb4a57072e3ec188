"""The parts every riskmon dashboard is built from: the datasource, PromQL queries, panels,
variables, annotations, and threshold steps taken from the rule pack."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from grafana_foundation_sdk.builders import common as cb
from grafana_foundation_sdk.builders import dashboard as db
from grafana_foundation_sdk.builders import prometheus, table, timeseries
from grafana_foundation_sdk.models.common import (
    GraphThresholdsStyleMode,
    LegendDisplayMode,
    LegendPlacement,
)
from grafana_foundation_sdk.models.dashboard import (
    DataSourceRef,
    GridPos,
    RangeMap,
    RegexMap,
    SpecialValueMap,
    Threshold,
    ThresholdsMode,
    ValueMap,
    ValueMappingResult,
    VariableRefresh,
)
from grafana_foundation_sdk.models.prometheus import PromQueryFormat

from alerts.rules import RuleSet
from alerts.rules.model import Rule
from streams.signal_metrics import metric_for

__all__ = [
    "DATASOURCE",
    "RATE_RANGE",
    "alert_annotations",
    "alerts_table",
    "dashboard",
    "grid",
    "increase",
    "pack_thresholds",
    "quantile",
    "query",
    "rate",
    "state_mappings",
    "sum_by",
    "thresholds",
    "timeseries_panel",
    "variable",
]

DATASOURCE = DataSourceRef(type_val="prometheus", uid="prometheus")

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


def thresholds(steps: list[Threshold]) -> db.ThresholdsConfig:
    """Absolute threshold steps as a panel's thresholds."""
    return db.ThresholdsConfig().mode(ThresholdsMode.ABSOLUTE).steps(steps)


#: the range of every rate and increase: Grafana's, at least four scrape intervals
RATE_RANGE = "$__rate_interval"


def rate(selector: str) -> str:
    """PromQL: the per-second rate of the counter ``selector`` over :data:`RATE_RANGE`."""
    return f"rate({selector}[{RATE_RANGE}])"


def increase(selector: str) -> str:
    """PromQL: the increase of the counter ``selector`` over :data:`RATE_RANGE`."""
    return f"increase({selector}[{RATE_RANGE}])"


def sum_by(labels: str, expr: str) -> str:
    """PromQL: ``expr`` summed by ``labels`` (comma-separated)."""
    return f"sum by ({labels}) ({expr})"


def quantile(q: float, by: str, buckets: str) -> str:
    """PromQL: the ``q`` quantile of the histogram ``buckets`` (``..._bucket{...}``), per ``by``
    (``le`` and the labels to keep)."""
    return f"histogram_quantile({q}, {sum_by(by, rate(buckets))})"


def query(
    expr: str, legend: str = "", ref: str = "A", instant: bool = False
) -> prometheus.Dataquery:
    """A PromQL query on the Prometheus datasource (``instant``: one table row per series)."""
    q = prometheus.Dataquery().expr(expr).ref_id(ref).datasource(DATASOURCE)
    if legend:
        q = q.legend_format(legend)
    if instant:
        q = q.instant().format(PromQueryFormat.TABLE)
    return q


def timeseries_panel(
    pid: int,
    title: str,
    pos: tuple[int, int, int, int],
    queries: Iterable[prometheus.Dataquery],
    unit: str = "short",
    steps: list[Threshold] | None = None,
    description: str = "",
) -> timeseries.Panel:
    """A time-series panel at ``pos`` (x, y, w, h); ``steps`` are drawn as dashed lines."""
    p = (
        timeseries.Panel()
        .id(pid)
        .title(title)
        .datasource(DATASOURCE)
        .unit(unit)
        .grid_pos(grid(pos))
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
        p = p.thresholds(thresholds(steps)).thresholds_style(
            cb.GraphThresholdsStyleConfig().mode(GraphThresholdsStyleMode.DASHED)
        )
    return p


def variable(name: str, label: str, query: str) -> db.QueryVariable:
    """A multi-value query variable with "All" (``.*``), refreshed with the time range."""
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


def alerts_table(pid: int, pos: tuple[int, int, int, int], selector: str) -> table.Panel:
    """The table of firing alerts matching ``selector``."""
    return (
        table.Panel()
        .id(pid)
        .title("Firing alerts")
        .description("riskmon_alerts_firing: one row per alert the engine has firing (like ALERTS)")
        .datasource(DATASOURCE)
        .grid_pos(grid(pos))
        .with_target(query(f"riskmon_alerts_firing{selector}", instant=True))
    )


def alert_annotations() -> db.AnnotationQuery:
    """Alert transitions as annotations (title and tags are added by ``dashboards.render``)."""
    return (
        db.AnnotationQuery()
        .name("Alert transitions")
        .datasource(DATASOURCE)
        .enable(True)
        .icon_color("red")
        .expr("riskmon_alerts_firing")
    )


def dashboard(title: str, uid: str, since: str) -> db.Dashboard:
    """A generated riskmon dashboard showing ``now-<since>`` to now in UTC, refreshed every 30 s."""
    return (
        db.Dashboard(title)
        .uid(uid)
        .tags(["riskmon", "generated"])
        .refresh("30s")
        .time(f"now-{since}", "now")
        .timezone("utc")
    )


def grid(pos: tuple[int, int, int, int]) -> GridPos:
    """The grid position of a panel at ``pos`` = (x, y, w, h)."""
    return GridPos(h=pos[3], w=pos[2], x=pos[0], y=pos[1])


def state_mappings(
    zero: tuple[str, str], one: tuple[str, str]
) -> list[ValueMap | RangeMap | RegexMap | SpecialValueMap]:
    """Value mappings of a 0/1 state: ``(text, color)`` for 0 and for 1."""
    return [
        ValueMap(
            options={
                "0": ValueMappingResult(text=zero[0], color=zero[1], index=0),
                "1": ValueMappingResult(text=one[0], color=one[1], index=1),
            }
        )
    ]
