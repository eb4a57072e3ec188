"""The backtest report: one self-contained HTML page.

Header and counts, the alert table, alerts per day by severity, the charts of
:mod:`monitor.backtest.charts` embedded as PNG data URIs, and the scenario's notes.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

from monitor.backtest.charts import PRICE_CHART, Marker, alert_markers, render_charts
from monitor.backtest.result import SEVERITIES, BacktestResult
from monitor.backtest.summary import (
    TableRow,
    alert_table,
    format_duration,
    iso_utc,
    labels_text,
    per_day,
)

__all__ = ["write_report"]


def write_report(result: BacktestResult, path: str | Path) -> None:
    """Write a self-contained HTML report (charts as embedded PNGs) to ``path``."""
    Path(path).write_text(_html(result, render_charts(result)), encoding="utf-8")


def _png_tag(title: str, png: bytes, legend: str = "") -> str:
    data = base64.b64encode(png).decode()
    return (
        f'<figure><img alt="{html.escape(title)}" src="data:image/png;base64,{data}">'
        f"<figcaption>{html.escape(title)}</figcaption>{legend}</figure>"
    )


def _marker_legend(markers: list[Marker]) -> str:
    """What each numbered marker of the price chart stands for."""
    if not markers:
        return ""
    esc = html.escape
    out = ["<table class='markers'><tr><th>#</th><th>first fire (UTC)</th><th>alerts</th></tr>"]
    for m in markers:
        # one entry per rule at its highest severity, naming every asset/coin it fired for
        by_rule: dict[str, tuple[str, list[str]]] = {}
        for r in m.rows:
            sev, whos = by_rule.get(r.rule, (r.severity, []))
            if SEVERITIES.index(r.severity) > SEVERITIES.index(sev):
                sev = r.severity
            if _who(r) and _who(r) not in whos:
                whos.append(_who(r))
            by_rule[r.rule] = (sev, whos)
        alerts = "; ".join(
            f"<span class='{sev}'>{sev}</span> {esc(rule)}"
            + (f" ({esc(', '.join(whos))})" if whos else "")
            for rule, (sev, whos) in by_rule.items()
        )
        out.append(
            f"<tr><td class='num'><span class='dot {m.severity}'>{m.number}</span></td>"
            f"<td>{iso_utc(m.at_ns)[11:]}</td><td class='wrap'>{alerts}</td></tr>"
        )
    out.append("</table>")
    return "".join(out)


def _who(r: TableRow) -> str:
    return r.labels.get("asset") or r.labels.get("coin") or r.labels.get("venue") or ""


_CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:24px;color:#1d2330;
background:#fafbfc}
h1{margin:0 0 4px 0;font-size:22px}h2{font-size:17px;margin:28px 0 8px 0}
.sub{color:#5a6372;margin-bottom:14px}
body{max-width:1360px}
table{border-collapse:collapse;font-size:13px;background:#fff}
table.alerts{width:100%}
th,td{border:1px solid #dde1e7;padding:4px 8px;text-align:left;white-space:nowrap;
vertical-align:top}
td.wrap{white-space:normal;overflow-wrap:anywhere}
th{background:#eef1f5}td.num{text-align:right;font-variant-numeric:tabular-nums}
td.muted{color:#5a6372}
.critical{color:#b3001b;font-weight:600}.warning{color:#b35c00;font-weight:600}
.info{color:#2f5fa7}.extreme{background:#b3001b;color:#fff;padding:0 4px;border-radius:3px}
.dot{display:inline-block;min-width:18px;border-radius:9px;color:#fff;text-align:center;
font-weight:700;font-size:12px}
.dot.warning{background:#e08a00}.dot.critical{background:#c8102e}.dot.extreme{background:#5c0010}
figure{margin:12px 0;background:#fff;border:1px solid #dde1e7;padding:8px;display:inline-block;
max-width:calc(100% - 18px)}
figcaption{color:#5a6372;font-size:12px}img{max-width:100%;height:auto}
table.markers{margin-top:8px;width:100%}
.cards{display:flex;gap:12px;margin:12px 0}.card{background:#fff;border:1px solid #dde1e7;
padding:10px 16px;min-width:110px}.card b{font-size:22px;display:block}
ul.notes{color:#5a6372;font-size:13px}
"""


def _row_key(r: TableRow) -> tuple[str, str, int, tuple[tuple[str, str], ...]]:
    return r.rule, r.severity, r.first_fire_ns, tuple(sorted(r.labels.items()))


def _html(result: BacktestResult, charts: list[tuple[str, bytes]]) -> str:
    c = result.counts()
    rows = alert_table(result)
    markers = alert_markers(result)
    marker_of = {_row_key(r): m for m in markers for r in m.rows}
    esc = html.escape
    out = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>riskmon backtest: {esc(result.scenario)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>riskmon backtest: {esc(result.scenario)}</h1>",
        f"<div class='sub'>{esc(result.description)}</div>",
        f"<div class='sub'>Streamed {iso_utc(result.start_ns)} → {iso_utc(result.end_ns)} UTC"
        + ("" if result.worst_ns is None else f"; worst point {iso_utc(result.worst_ns)} UTC")
        + f"; rules <b>{esc(result.rules)}</b>"
        + ("" if result.seed is None else f"; seed {result.seed}")
        + f"; {result.input_events:,} events, {result.stats.frames:,} frames parsed, "
        f"{sum(result.stats.skipped.values())} skipped.</div>",
        "<div class='cards'>",
        f"<div class='card critical'><b>{c['critical']}</b>critical</div>",
        f"<div class='card warning'><b>{c['warning']}</b>warning</div>",
        f"<div class='card info'><b>{c['info']}</b>info</div>",
        f"<div class='card'><b>{len(rows)}</b>alert series</div></div>",
        "<h2>Alerts</h2><table class='alerts'><tr><th>first fire (UTC)</th>"
        "<th>lead before worst</th><th>firing for</th><th>firings</th><th>severity</th>"
        "<th>rule</th><th>labels</th><th>summary</th><th title='marker on the price chart'>"
        "chart</th></tr>",
    ]
    for r in rows:
        tier = " <span class='extreme'>extreme</span>" if r.labels.get("tier") == "extreme" else ""
        lab = labels_text({k: v for k, v in r.labels.items() if k != "tier"})
        firing = format_duration(r.duration_s)
        lead = (
            "<td class='num muted' title='its condition already held when the stream began'>"
            "on at start</td>"
            if r.began_before_start
            else f"<td class='num'>{format_duration(r.lead_s)}</td>"
        )
        m = marker_of.get(_row_key(r))
        marker = "" if m is None else f"<span class='dot {m.severity}'>{m.number}</span>"
        out.append(
            f"<tr><td>{iso_utc(r.first_fire_ns)}</td>{lead}"
            f"<td class='num'>{firing}{' (open)' if r.open_at_end else ''}</td>"
            f"<td class='num'>{r.firings}</td><td class='{r.severity}'>{r.severity}{tier}</td>"
            f"<td>{esc(r.rule)}</td><td class='wrap'>{esc(lab).replace(',', ', ')}</td>"
            f"<td class='wrap'>{esc(r.summary)}</td><td class='num'>{marker}</td></tr>"
        )
    out.append("</table><h2>Alerts per day by severity</h2><table><tr><th>day (UTC)</th>")
    out.extend(f"<th class='{s}'>{s}</th>" for s in SEVERITIES)
    out.append("</tr>")
    for day, sev in per_day(result).items():
        out.append(
            f"<tr><td>{day}</td>" + "".join(f"<td class='num'>{sev[s]}</td>" for s in SEVERITIES)
        )
    out.append("</table><h2>Charts</h2>")
    for title, png in charts:
        out.append(_png_tag(title, png, _marker_legend(markers) if title == PRICE_CHART else ""))
    if result.notes:
        out.append("<h2>Notes</h2><ul class='notes'>")
        out.extend(f"<li>{esc(n)}</li>" for n in result.notes)
        out.append("</ul>")
    out.append(
        "<p class='sub'>Alerts are the rule evaluator's notices before grouping and inhibition "
        "(a firing composite critical would mute its component warnings in delivery).</p>"
    )
    out.append("</body></html>")
    return "\n".join(out)
