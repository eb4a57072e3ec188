"""The operations dashboards: **Feeds** (status by venue and channel, frames/s, parse errors,
reconnects, staleness, event-to-alert latency, the windows' late and dropped events, the bus) and
**Delivery** (outbox depth, sent/failed/retried by receiver, delivery latency, broken receivers)."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as db
from grafana_foundation_sdk.builders import stat, statetimeline
from grafana_foundation_sdk.models.dashboard import Threshold

from alerts.rules import RuleSet
from grafana.panels import (
    DATASOURCE,
    dashboard,
    grid,
    increase,
    pack_thresholds,
    quantile,
    query,
    rate,
    state_mappings,
    sum_by,
    thresholds,
    timeseries_panel,
    variable,
)

__all__ = ["delivery", "feeds"]


def feeds(rules: RuleSet) -> db.Dashboard:
    """Is the data arriving, and how fast does it turn into alerts."""
    v = 'venue=~"$venue"'
    status = (
        statetimeline.Panel()
        .id(1)
        .title("Status by venue and channel")
        .datasource(DATASOURCE)
        .grid_pos(grid((0, 0, 24, 9)))
        .with_target(query(f"riskmon_feed_up{{{v}}}", "{{venue}} {{channel}}"))
        .mappings(state_mappings(("down", "red"), ("up", "green")))
    )
    lat = "riskmon_pipeline_event_to_notice_seconds_bucket"
    return (
        dashboard("riskmon / Feeds", "riskmon-feeds", "3h")
        .with_variable(variable("venue", "Venue", "label_values(riskmon_feed_frames_total, venue)"))
        .with_panel(status)
        .with_panel(
            timeseries_panel(
                2,
                "Frames per second",
                (0, 9, 8, 8),
                [query(sum_by("venue", rate(f"riskmon_feed_frames_total{{{v}}}")), "{{venue}}")],
                "reqps",
            )
        )
        .with_panel(
            timeseries_panel(
                3,
                "Parse errors by reason",
                (8, 9, 8, 8),
                [
                    query(
                        sum_by("venue, reason", rate(f"riskmon_feed_frames_skipped_total{{{v}}}")),
                        "{{venue}} {{reason}}",
                    )
                ],
                "reqps",
            )
        )
        .with_panel(
            timeseries_panel(
                4,
                "Reconnects",
                (16, 9, 8, 8),
                [
                    query(
                        sum_by("venue, reason", increase(f"riskmon_feed_reconnects_total{{{v}}}")),
                        "{{venue}} {{reason}}",
                    )
                ],
            )
        )
        .with_panel(
            timeseries_panel(
                5,
                "Staleness (event time since the newest event)",
                (0, 17, 12, 8),
                [query(f"riskmon_feed_age_seconds{{{v}}}", "{{venue}} {{channel}}")],
                "s",
                pack_thresholds(rules, ["feed_stale"]),
            )
        )
        .with_panel(
            timeseries_panel(
                6,
                "Event to alert notice latency",
                (12, 17, 12, 8),
                [
                    query(quantile(0.5, "le", lat), "p50"),
                    query(quantile(0.99, "le", lat), "p99", "B"),
                    query(
                        quantile(0.99, "le", "riskmon_pipeline_event_latency_seconds_bucket"),
                        "p99 event processing",
                        "C",
                    ),
                ],
                "s",
            )
        )
        .with_panel(
            timeseries_panel(
                7,
                "Window late and dropped events",
                (0, 25, 12, 8),
                [
                    query(rate("riskmon_window_late_events_total"), "late {{processor}}"),
                    query(
                        rate("riskmon_window_dropped_events_total"), "dropped {{processor}}", "B"
                    ),
                ],
                "reqps",
            )
        )
        .with_panel(
            timeseries_panel(
                8,
                "Bus queue depth and drops",
                (12, 25, 12, 8),
                [
                    query("riskmon_bus_queue_depth", "queued"),
                    query(f"sum({rate('riskmon_bus_dropped_total')})", "dropped/s", "B"),
                ],
            )
        )
    )


def delivery(_rules: RuleSet) -> db.Dashboard:
    """Do notifications leave, how fast, and which receivers are broken."""
    r = 'receiver=~"$receiver"'
    failed, retry = "riskmon_alerts_failed_total", '"retry"'
    broken = (
        stat.Panel()
        .id(5)
        .title("Broken receivers")
        .description("1 while a receiver answers as misconfigured (e.g. Slack 404/410)")
        .datasource(DATASOURCE)
        .grid_pos(grid((16, 8, 8, 8)))
        .with_target(query(f"riskmon_alerts_receiver_broken_state{{{r}}}", "{{receiver}}"))
        .thresholds(
            thresholds([Threshold(value=None, color="green"), Threshold(value=1, color="red")])
        )
        .mappings(state_mappings(("ok", "green"), ("broken", "red")))
    )
    nl = "riskmon_alerts_notice_to_delivery_seconds_bucket"
    return (
        dashboard("riskmon / Delivery", "riskmon-delivery", "6h")
        .with_variable(
            variable(
                "receiver", "Receiver", "label_values(riskmon_alerts_notifications_total, receiver)"
            )
        )
        .with_panel(
            timeseries_panel(
                1,
                "Outbox depth",
                (0, 0, 8, 8),
                [query(f"riskmon_alerts_outbox_pending_notifications{{{r}}}", "{{receiver}}")],
            )
        )
        .with_panel(
            timeseries_panel(
                2,
                "Sent, failed and retried",
                (8, 0, 16, 8),
                [
                    query(
                        sum_by("receiver", increase(f"riskmon_alerts_sent_total{{{r}}}")),
                        "sent {{receiver}}",
                    ),
                    query(
                        sum_by("receiver, outcome", increase(f"{failed}{{{r},outcome!={retry}}}")),
                        "failed {{receiver}} {{outcome}}",
                        "B",
                    ),
                    query(
                        sum_by("receiver", increase(f"{failed}{{{r},outcome={retry}}}")),
                        "retried {{receiver}}",
                        "C",
                    ),
                ],
            )
        )
        .with_panel(
            timeseries_panel(
                3,
                "Notice to delivery latency",
                (0, 8, 8, 8),
                [
                    query(quantile(0.5, "le, receiver", f"{nl}{{{r}}}"), "p50 {{receiver}}"),
                    query(quantile(0.99, "le, receiver", f"{nl}{{{r}}}"), "p99 {{receiver}}", "B"),
                ],
                "s",
            )
        )
        .with_panel(
            timeseries_panel(
                4,
                "Delivery attempt duration (p99)",
                (8, 8, 8, 8),
                [
                    query(
                        quantile(
                            0.99, "le, receiver", f"riskmon_alerts_delivery_seconds_bucket{{{r}}}"
                        ),
                        "{{receiver}}",
                    )
                ],
                "s",
            )
        )
        .with_panel(broken)
        .with_panel(
            timeseries_panel(
                6,
                "Alert transitions and muted alerts",
                (0, 16, 24, 8),
                [
                    query(
                        sum_by("severity, status", increase("riskmon_alerts_transitions_total")),
                        "{{status}} {{severity}}",
                    ),
                    query(
                        sum_by("reason", increase("riskmon_alerts_muted_total")),
                        "muted ({{reason}})",
                        "B",
                    ),
                    query(
                        "sum by (severity) (riskmon_alerts_firing_alerts)",
                        "firing {{severity}}",
                        "C",
                    ),
                ],
            )
        )
    )
