"""Summarising a backtest: the alert table, alerts per day, the JSON summary and the text table.

One :class:`TableRow` per alert series (one fingerprint): its first firing, the lead time before
the episode's worst point and how long it fired. Nothing here depends on the wall clock, so the
same scenario and seed give identical JSON.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from alerts.model import AlertNotice, Severity, encode_alert
from monitor.backtest.result import SEVERITIES, BacktestResult
from streams.units import NS_PER_SECOND

__all__ = [
    "WARMUP_NS",
    "TableRow",
    "alert_table",
    "began_before_start",
    "format_duration",
    "format_table",
    "iso_utc",
    "labels_text",
    "per_day",
    "summary",
]


@dataclass(frozen=True)
class TableRow:
    """One alert series (one fingerprint) in the backtest's alert table.

    Not an alert: a summary of every notice of one series over the run.
    """

    rule: str
    severity: Severity
    labels: dict[str, str]
    #: ``starts_at`` of the series' first firing notice (event time, ns)
    first_fire_ns: int
    #: seconds from the first firing to the episode's worst point (None: no worst point, or
    #: the alert was already on when the stream began)
    lead_s: float | None
    #: total seconds spent firing (open series count until the end of the run)
    duration_s: float
    firings: int
    open_at_end: bool
    summary: str
    #: its condition already held when the streamed window began (from the backfilled history):
    #: it fired then, but gave no warning of anything, so it has no lead time
    began_before_start: bool = False


def alert_table(result: BacktestResult) -> list[TableRow]:
    """One row per alert series: first fire, lead before the worst point, firing duration."""
    firsts: dict[str, AlertNotice] = {}
    open_since: dict[str, int] = {}
    firings: Counter[str] = Counter()
    duration: Counter[str] = Counter()
    for n in result.notices:
        fp = n.fingerprint
        if n.status == "firing":
            firsts.setdefault(fp, n)
            firings[fp] += 1
            open_since[fp] = n.starts_at
        else:
            start = open_since.pop(fp, n.starts_at)
            end = n.ends_at if n.ends_at is not None else start
            duration[fp] += max(0, end - start)
    for fp, start in open_since.items():
        duration[fp] += max(0, result.end_ns - start)
    rows = []
    for fp, n in firsts.items():
        worst = result.worst_ns
        before = began_before_start(result, n)
        lead = None if worst is None or before else (worst - n.starts_at) / NS_PER_SECOND
        rows.append(
            TableRow(
                rule=n.rule,
                severity=n.severity,
                labels=dict(n.labels),
                first_fire_ns=n.starts_at,
                lead_s=lead,
                duration_s=duration[fp] / NS_PER_SECOND,
                firings=firings[fp],
                open_at_end=fp in open_since,
                summary=n.summary,
                began_before_start=before,
            )
        )
    rows.sort(key=lambda r: (r.first_fire_ns, -SEVERITIES.index(r.severity), r.rule))
    return rows


#: an alert whose condition held within this long of the stream's start was on at the start: the
#: processors need a few ticks of streamed events before their first values
WARMUP_NS = 60 * NS_PER_SECOND


def began_before_start(result: BacktestResult, notice: AlertNotice) -> bool:
    """Whether the condition of ``notice`` (a first firing) already held as the stream began.

    Its condition began one ``for`` before it fired (the rule's shortest ``for`` at that
    severity); within :data:`WARMUP_NS` of the start means it held from the start.
    """
    for_ns = result.rule_for_ns.get((notice.rule, notice.severity), 0)
    return notice.starts_at - for_ns <= result.start_ns + WARMUP_NS


def per_day(result: BacktestResult) -> dict[str, dict[str, int]]:
    """Firing notices per UTC day and severity."""
    out: dict[str, dict[str, int]] = {}
    for n in result.notices:
        if n.status != "firing":
            continue
        day = iso_utc(n.starts_at)[:10]
        row = out.setdefault(day, dict.fromkeys(SEVERITIES, 0))
        row[n.severity] = row.get(n.severity, 0) + 1
    return dict(sorted(out.items()))


def iso_utc(ns: int) -> str:
    """``YYYY-MM-DD HH:MM:SS`` of an event time (UTC)."""
    return datetime.fromtimestamp(ns / NS_PER_SECOND, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


def labels_text(labels: dict[str, str]) -> str:
    """``k=v,k=v`` of the labels that tell series apart (rule name and severity left out)."""
    skip = {"alertname", "severity", "category"}
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()) if k not in skip)


def format_duration(seconds: float | None) -> str:
    """``1h05m`` or ``4m30s`` (negative for a lead after the worst point); ``-`` for None."""
    if seconds is None:
        return "-"
    sign = "-" if seconds < 0 else ""
    s = int(abs(seconds))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{sign}{h}h{m:02d}m" if h else f"{sign}{m}m{sec:02d}s"


def summary(result: BacktestResult) -> dict[str, Any]:
    """The JSON summary: scenario, alerts (exactly as ``encode_alert``), counts, table, per day.

    Nothing in it depends on the wall clock, so the same scenario and seed give identical JSON.
    """
    return {
        "scenario": result.scenario,
        "source": result.source,
        "seed": result.seed,
        "rules": result.rules,
        "start": iso_utc(result.start_ns),
        "end": iso_utc(result.end_ns),
        "worst": None if result.worst_ns is None else iso_utc(result.worst_ns),
        "input_events": result.input_events,
        "frames": result.stats.frames,
        "events": result.stats.events,
        "skipped": dict(sorted(result.stats.skipped.items())),
        "counts": result.counts(),
        "alerts": [json.loads(encode_alert(n)) for n in result.notices],
        "table": [
            {
                "rule": r.rule,
                "severity": r.severity,
                "labels": r.labels,
                "first_fire": iso_utc(r.first_fire_ns),
                "lead_s": r.lead_s,
                "began_before_start": r.began_before_start,
                "duration_s": r.duration_s,
                "firings": r.firings,
                "open_at_end": r.open_at_end,
            }
            for r in alert_table(result)
        ],
        "per_day": per_day(result),
    }


def format_table(result: BacktestResult) -> str:
    """The alert table as plain text (``riskmon backtest`` without ``--json``)."""
    rows = alert_table(result)
    lines = [
        f"scenario {result.scenario} (seed {result.seed}, rules {result.rules}): "
        f"{iso_utc(result.start_ns)} → {iso_utc(result.end_ns)} UTC"
        + ("" if result.worst_ns is None else f", worst point {iso_utc(result.worst_ns)}"),
        f"{'first fire (UTC)':19}  {'lead':>8}  {'duration':>8}  {'n':>2}  {'severity':8}  "
        "rule [labels]",
    ]
    for r in rows:
        tier = "+extreme" if r.labels.get("tier") == "extreme" else ""
        lab = labels_text({k: v for k, v in r.labels.items() if k != "tier"})
        lead = "at start" if r.began_before_start else format_duration(r.lead_s)
        firing = format_duration(r.duration_s)
        lines.append(
            f"{iso_utc(r.first_fire_ns):19}  {lead:>8}  {firing:>8}  "
            f"{r.firings:>2}  {r.severity + tier:8}  {r.rule} [{lab}]"
        )
    c = result.counts()
    lines.append(
        f"firing notices: {c['critical']} critical, {c['warning']} warning, {c['info']} info"
    )
    for day, sev in per_day(result).items():
        lines.append(
            f"  {day}: {sev['critical']} critical, {sev['warning']} warning, {sev['info']} info"
        )
    return "\n".join(lines)
