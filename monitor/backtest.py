"""``riskmon backtest``: a scenario or a capture file through the full pipeline, at full speed.

A scenario's events are rendered by each venue's simulator (:meth:`SimVenue.encode`, after the
same subscribe handshake the daemon performs, and REST answers for polled channels such as
Binance open interest) and parsed back by the venue's real parser, so a backtest exercises the
parsers exactly as the demo does, without sockets. The parsed events then run through the same
:class:`~monitor.pipeline.Pipeline` as the daemon and ``riskmon replay``. Everything is in event
time: the same scenario and seed (or the same capture) always give the same alerts and JSON.

The result holds the alert notices, a per-minute record of the figures charted in the report, and
the alert table (first fire, lead time before the episode's worst point, duration).
"""

from __future__ import annotations

import base64
import html
import io
import json
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import msgspec
import structlog

from alerts.evaluator import AlertEvaluator
from alerts.model import AlertNotice, encode_alert
from monitor.capture import read_frames
from monitor.daemon import load_ruleset, venue_streams
from monitor.pipeline import Pipeline
from monitor.replay import FrameStats, parse_lines
from monitor.settings import VenueSettings
from monitor.simulator.base import SimSession, SimVenue
from monitor.simulator.scenarios import Backfill, Scenario, get_scenario, install_instruments
from monitor.simulator.scenarios.base import seed_backfill
from monitor.simulator.venues import sim_venue
from monitor.venues import get_venue, load_registry
from monitor.venues.base import FrameParser, ParseError, VenueEndpoints
from streams.engine import StreamEngine
from streams.events import Event, OpenInterest
from streams.processors import default_processors
from streams.signals import Signal

__all__ = [
    "AlertRow",
    "BacktestResult",
    "Recorder",
    "VenueBridge",
    "alert_table",
    "backtest_capture",
    "backtest_scenario",
    "backtest_summary",
    "per_day",
    "summary",
    "write_report",
]

log = structlog.get_logger(__name__)

NS = 1_000_000_000
MINUTE = 60 * NS
SEVERITIES = ("info", "warning", "critical")


# ---------------------------------------------------------------------- venues without sockets


class VenueBridge:
    """One simulated venue wired straight to its parser.

    The bridge opens one :class:`SimSession` per connection the daemon would open (from the
    venue's own connection plan), replays the plan's subscribe frames through the simulator, and
    then delivers an event's frames to the sessions subscribed to their topics, as the simulator
    server does. Channels the venue serves over REST (its poll plan) are answered by the
    simulator's REST handler after each open-interest update, as a poll would see them.
    """

    def __init__(
        self,
        venue: str,
        symbols: Sequence[str],
        channels: Sequence[str] | None,
        stats: FrameStats,
        extra: Sequence[Any] = (),
        start_ns: int = 0,
    ) -> None:
        spec = get_venue(venue)
        self.venue = venue
        self.sim: SimVenue = sim_venue(venue)
        if extra:
            install_instruments(self.sim, extra)
        registry = load_registry(venue)
        registry.update(extra)
        self.parser: FrameParser = spec.make_parser(registry)
        self.stats = stats
        vs = VenueSettings(symbols=list(symbols), channels=list(channels) if channels else None)  # type: ignore[arg-type]
        streams = venue_streams(spec, vs)
        endpoints = VenueEndpoints(ws=f"ws://sim/{venue}", rest=f"http://sim/{venue}")
        self.sessions: list[SimSession] = []
        for plan in spec.plan(endpoints, streams):
            parts = urlsplit(plan.url)
            path = (
                parts.path[len(f"/{venue}") :] if parts.path.startswith(f"/{venue}") else parts.path
            )
            session = SimSession(path=path, query=dict(parse_qsl(parts.query)))
            frames = list(self.sim.on_open(session))
            for sub in plan.subscribe:
                frames.extend(self.sim.on_message(session, sub))
            self.sessions.append(session)
            for f in frames:
                self._parse(f, start_ns)
        self.oi_polls: dict[str, tuple[str, dict[str, str]]] = {}
        for poll in spec.polls(endpoints, streams):
            parts = urlsplit(poll.url)
            path = parts.path[len(f"/{venue}") :]
            for st in poll.streams:
                if st.channel == "open_interest":
                    self.oi_polls[st.symbol] = (path, dict(parse_qsl(parts.query)))

    def feed(self, ev: Event) -> list[Event]:
        """Render ``ev`` in the venue's format and parse what a subscriber would receive."""
        out: list[Event] = []
        frames = self.sim.encode(ev)
        for session in self.sessions:
            subs = session.subscriptions
            for topic, frame in frames:
                if topic in subs:
                    out.extend(self._parse(frame, ev.ts_event))
        if type(ev) is OpenInterest:
            poll = self.oi_polls.get(ev.symbol)
            if poll is not None:
                reply = self.sim.rest(poll[0], poll[1])
                if reply is not None and reply.status == 200:
                    body = (
                        reply.body
                        if isinstance(reply.body, str)
                        else msgspec.json.encode(reply.body).decode()
                    )
                    out.extend(self._parse(body, ev.ts_event))
        return out

    def _parse(self, frame: str, ts_recv: int) -> list[Event]:
        self.stats.frames += 1
        try:
            events = self.parser.parse(frame, ts_recv)
        except ParseError as e:
            self.stats.skip(e.kind)
            return []
        self.stats.events += len(events)
        return events


# ---------------------------------------------------------------------- recording


_TRACKED = frozenset(
    {
        "price_ref",
        "price_drawdown_pct",
        "oi_usd",
        "oi_drawdown_pct",
        "liq_usd",
        "liq_burst_z",
        "peg_deviation_bps",
        "peg_median_deviation_bps",
        "funding_rate_8h",
        "deleveraging_score",
    }
)

SeriesKey = tuple[str, tuple[tuple[str, str], ...]]


def _key(name: str, **labels: str) -> SeriesKey:
    return name, tuple(sorted(labels.items()))


class Recorder:
    """The latest value of the charted series at every minute boundary of event time."""

    def __init__(self) -> None:
        self.latest: dict[SeriesKey, float] = {}
        self.rows: list[tuple[int, dict[SeriesKey, float]]] = []
        self._next: int | None = None

    def on_signals(self, signals: Iterable[Signal]) -> None:
        """Fold signals (in event-time order) into the per-minute record."""
        latest = self.latest
        for s in signals:
            if s.name not in _TRACKED:
                continue
            if self._next is None:
                self._next = (s.ts // MINUTE + 1) * MINUTE
            while s.ts > self._next:
                self.rows.append((self._next, dict(latest)))
                self._next += MINUTE
            labels = s.labels
            if s.name == "liq_usd" and (
                labels.get("asset") != "all" or labels.get("window") == "5m"
            ):
                continue
            if s.name == "oi_usd" and labels.get("venue") != "all":
                continue
            if s.name == "funding_rate_8h" and labels.get("venue") != "oi_weighted":
                continue
            latest[(s.name, tuple(sorted(labels.items())))] = s.value

    def finish(self) -> None:
        """Record the last boundary."""
        if self._next is not None:
            self.rows.append((self._next, dict(self.latest)))

    def series(self, key: SeriesKey) -> tuple[list[int], list[float]]:
        """``(times, values)`` of one series (minutes where it had no value yet are left out)."""
        ts: list[int] = []
        vs: list[float] = []
        for t, row in self.rows:
            v = row.get(key)
            if v is not None:
                ts.append(t)
                vs.append(v)
        return ts, vs

    def keys(self, name: str) -> list[SeriesKey]:
        """Every recorded series of ``name``."""
        seen: set[SeriesKey] = set()
        for _, row in self.rows[-1:] or []:
            seen.update(k for k in row if k[0] == name)
        return sorted(seen)


# ---------------------------------------------------------------------- results


@dataclass
class BacktestResult:
    """What one backtest produced."""

    scenario: str
    source: str
    rules: str
    seed: int | None
    description: str
    start_ns: int
    end_ns: int
    worst_ns: int | None
    notices: list[AlertNotice] = field(default_factory=list)
    stats: FrameStats = field(default_factory=FrameStats)
    input_events: int = 0
    recorder: Recorder = field(default_factory=Recorder)
    backfill: Backfill = field(default_factory=Backfill)
    notes: list[str] = field(default_factory=list)
    wall_s: float = 0.0

    def counts(self) -> dict[str, int]:
        """Firing notices by severity."""
        c: Counter[str] = Counter(n.severity for n in self.notices if n.status == "firing")
        return {s: c[s] for s in SEVERITIES}

    def fired(self, rule: str, severity: str | None = None, **labels: str) -> list[AlertNotice]:
        """The firing notices of ``rule`` (optionally of one severity and matching labels)."""
        return [
            n
            for n in self.notices
            if n.status == "firing"
            and n.rule == rule
            and (severity is None or n.severity == severity)
            and all(n.labels.get(k) == v for k, v in labels.items())
        ]


@dataclass(frozen=True)
class AlertRow:
    """One alert series (one fingerprint) in the report's table."""

    rule: str
    severity: str
    labels: dict[str, str]
    first_fire_ns: int
    lead_s: float | None
    duration_s: float
    firings: int
    open_at_end: bool
    summary: str


def _run(
    pipeline: Pipeline, events: Iterable[Event], result: BacktestResult, end_ns: int | None
) -> None:
    rec = result.recorder
    notices = result.notices
    for ev in events:
        step = pipeline.on_event(ev)
        if step.signals:
            rec.on_signals(step.signals)
        if step.notices:
            notices.extend(step.notices)
    if end_ns is not None and end_ns > pipeline.engine.watermark_ns:
        step = pipeline.advance(end_ns)
        rec.on_signals(step.signals)
        notices.extend(step.notices)
    step = pipeline.flush()
    rec.on_signals(step.signals)
    notices.extend(step.notices)
    rec.finish()


def _pipeline(rules: str, tick_s: float = 1.0) -> Pipeline:
    engine = StreamEngine(default_processors(), tick_ns=max(1, round(tick_s * NS)))
    return Pipeline(engine, AlertEvaluator(load_ruleset(rules)))


def backtest_scenario(
    name: str, seed: int = 7, rules: str = "november-2025", tick_s: float = 1.0
) -> BacktestResult:
    """Run scenario ``name`` (seeded) through simulators, parsers and the pipeline.

    ``tick_s`` is the stream engine's tick in event time: 1 s as in the daemon (the default).
    Coarser ticks run long scenarios several times faster, but rule timers and window figures
    are then sampled less often than the daemon samples them: use them for exploration only.

    Raises:
        KeyError: an unknown scenario.
    """
    started = time.monotonic()
    scenario: Scenario = get_scenario(name, seed)
    info = scenario.info
    backfill = scenario.backfill()
    result = BacktestResult(
        scenario=info.name,
        source="scenario",
        rules=rules,
        seed=seed,
        description=info.description,
        start_ns=info.start_ns,
        end_ns=info.end_ns,
        worst_ns=info.worst_ns,
        backfill=backfill,
        notes=list(info.notes),
    )
    pipeline = _pipeline(rules, tick_s)
    seed_backfill(pipeline.engine.processors, backfill)
    bridges = {
        venue: VenueBridge(
            venue,
            symbols,
            info.channels.get(venue),
            result.stats,
            info.extra_instruments.get(venue, []),
            info.start_ns,
        )
        for venue, symbols in info.symbols.items()
    }

    def parsed() -> Iterator[Event]:
        for ev in scenario.events():
            result.input_events += 1
            bridge = bridges.get(ev.venue)
            if bridge is not None:
                yield from bridge.feed(ev)

    _run(pipeline, parsed(), result, info.end_ns)
    result.wall_s = time.monotonic() - started
    log.info(
        "backtest.done",
        scenario=name,
        seed=seed,
        events=result.input_events,
        frames=result.stats.frames,
        skipped=sum(result.stats.skipped.values()),
        notices=len(result.notices),
        wall_s=round(result.wall_s, 2),
    )
    return result


def backtest_summary(
    name: str, seed: int = 7, rules: str = "november-2025", tick_s: float = 1.0
) -> dict[str, Any]:
    """:func:`summary` of :func:`backtest_scenario` (picklable: for worker processes)."""
    return summary(backtest_scenario(name, seed, rules, tick_s))


def backtest_capture(
    path: str | Path, rules: str = "november-2025", tick_s: float = 1.0
) -> BacktestResult:
    """Run a capture file (as written by ``riskmon capture``) through parsers and the pipeline.

    A capture has no declared worst point: the lowest BTC (else first asset) reference price seen
    is used for lead times.
    """
    from monitor.capture import open_text

    started = time.monotonic()
    p = Path(path)
    result = BacktestResult(
        scenario=p.name,
        source="capture",
        rules=rules,
        seed=None,
        description=f"Capture file {p.name}",
        start_ns=0,
        end_ns=0,
        worst_ns=None,
    )
    pipeline = _pipeline(rules, tick_s)
    first: list[int] = []

    def events() -> Iterator[Event]:
        with open_text(p) as fh:
            for ev in parse_lines(read_frames(fh), result.stats):
                result.input_events += 1
                if not first and type(ev).__name__ != "FeedStatus":
                    first.append(ev.ts_event)
                yield ev

    _run(pipeline, events(), result, None)
    result.start_ns = first[0] if first else 0
    result.end_ns = pipeline.engine.watermark_ns
    keys = result.recorder.keys("price_ref")
    key = next((k for k in keys if dict(k[1]).get("asset") == "BTC"), keys[0] if keys else None)
    if key is not None:
        times, values = result.recorder.series(key)
        if values:
            result.worst_ns = times[min(range(len(values)), key=values.__getitem__)]
    result.wall_s = time.monotonic() - started
    return result


# ---------------------------------------------------------------------- tables


def alert_table(result: BacktestResult) -> list[AlertRow]:
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
        lead = None if result.worst_ns is None else (result.worst_ns - n.starts_at) / NS
        rows.append(
            AlertRow(
                rule=n.rule,
                severity=n.severity,
                labels=dict(n.labels),
                first_fire_ns=n.starts_at,
                lead_s=lead,
                duration_s=duration[fp] / NS,
                firings=firings[fp],
                open_at_end=fp in open_since,
                summary=n.summary,
            )
        )
    rows.sort(key=lambda r: (r.first_fire_ns, -SEVERITIES.index(r.severity), r.rule))
    return rows


def per_day(result: BacktestResult) -> dict[str, dict[str, int]]:
    """Firing notices per UTC day and severity."""
    out: dict[str, dict[str, int]] = {}
    for n in result.notices:
        if n.status != "firing":
            continue
        day = _iso(n.starts_at)[:10]
        row = out.setdefault(day, dict.fromkeys(SEVERITIES, 0))
        row[n.severity] = row.get(n.severity, 0) + 1
    return dict(sorted(out.items()))


def _iso(ns: int) -> str:
    return datetime.fromtimestamp(ns / NS, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


def _labels_text(labels: dict[str, str]) -> str:
    skip = {"alertname", "severity", "category"}
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()) if k not in skip)


def _dur(seconds: float | None) -> str:
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
        "start": _iso(result.start_ns),
        "end": _iso(result.end_ns),
        "worst": None if result.worst_ns is None else _iso(result.worst_ns),
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
                "first_fire": _iso(r.first_fire_ns),
                "lead_s": r.lead_s,
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
        f"{_iso(result.start_ns)} → {_iso(result.end_ns)} UTC"
        + ("" if result.worst_ns is None else f", worst point {_iso(result.worst_ns)}"),
        f"{'first fire (UTC)':19}  {'lead':>8}  {'duration':>8}  {'n':>2}  {'severity':8}  "
        "rule [labels]",
    ]
    for r in rows:
        tier = "+extreme" if r.labels.get("tier") == "extreme" else ""
        lab = _labels_text({k: v for k, v in r.labels.items() if k != "tier"})
        lines.append(
            f"{_iso(r.first_fire_ns):19}  {_dur(r.lead_s):>8}  {_dur(r.duration_s):>8}  "
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


# ---------------------------------------------------------------------- HTML report


def write_report(result: BacktestResult, path: str | Path) -> None:
    """Write a self-contained HTML report (charts as embedded PNGs) to ``path``."""
    Path(path).write_text(_html(result, render_charts(result)), encoding="utf-8")


def _png_tag(title: str, png: bytes) -> str:
    data = base64.b64encode(png).decode()
    return (
        f'<figure><img alt="{html.escape(title)}" src="data:image/png;base64,{data}">'
        f"<figcaption>{html.escape(title)}</figcaption></figure>"
    )


_CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:24px;color:#1d2330;
background:#fafbfc}
h1{margin:0 0 4px 0;font-size:22px}h2{font-size:17px;margin:28px 0 8px 0}
.sub{color:#5a6372;margin-bottom:14px}
table{border-collapse:collapse;font-size:13px;background:#fff}
th,td{border:1px solid #dde1e7;padding:4px 8px;text-align:left;white-space:nowrap}
th{background:#eef1f5}td.num{text-align:right;font-variant-numeric:tabular-nums}
.critical{color:#b3001b;font-weight:600}.warning{color:#b35c00;font-weight:600}
.info{color:#2f5fa7}.extreme{background:#b3001b;color:#fff;padding:0 4px;border-radius:3px}
figure{margin:12px 0;background:#fff;border:1px solid #dde1e7;padding:8px;display:inline-block}
figcaption{color:#5a6372;font-size:12px}img{max-width:100%}
.cards{display:flex;gap:12px;margin:12px 0}.card{background:#fff;border:1px solid #dde1e7;
padding:10px 16px;min-width:110px}.card b{font-size:22px;display:block}
ul.notes{color:#5a6372;font-size:13px}
"""


def _html(result: BacktestResult, charts: list[tuple[str, bytes]]) -> str:
    c = result.counts()
    rows = alert_table(result)
    esc = html.escape
    out = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>riskmon backtest: {esc(result.scenario)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>riskmon backtest: {esc(result.scenario)}</h1>",
        f"<div class='sub'>{esc(result.description)}</div>",
        f"<div class='sub'>Streamed {_iso(result.start_ns)} → {_iso(result.end_ns)} UTC"
        + ("" if result.worst_ns is None else f"; worst point {_iso(result.worst_ns)} UTC")
        + f"; rules <b>{esc(result.rules)}</b>"
        + ("" if result.seed is None else f"; seed {result.seed}")
        + f"; {result.input_events:,} events, {result.stats.frames:,} frames parsed, "
        f"{sum(result.stats.skipped.values())} skipped.</div>",
        "<div class='cards'>",
        f"<div class='card critical'><b>{c['critical']}</b>critical</div>",
        f"<div class='card warning'><b>{c['warning']}</b>warning</div>",
        f"<div class='card info'><b>{c['info']}</b>info</div>",
        f"<div class='card'><b>{len(rows)}</b>alert series</div></div>",
        "<h2>Alerts</h2><table><tr><th>first fire (UTC)</th><th>lead before worst</th>"
        "<th>firing for</th><th>firings</th><th>severity</th><th>rule</th><th>labels</th>"
        "<th>summary</th></tr>",
    ]
    for r in rows:
        tier = " <span class='extreme'>extreme</span>" if r.labels.get("tier") == "extreme" else ""
        lab = _labels_text({k: v for k, v in r.labels.items() if k != "tier"})
        out.append(
            f"<tr><td>{_iso(r.first_fire_ns)}</td><td class='num'>{_dur(r.lead_s)}</td>"
            f"<td class='num'>{_dur(r.duration_s)}{' (open)' if r.open_at_end else ''}</td>"
            f"<td class='num'>{r.firings}</td><td class='{r.severity}'>{r.severity}{tier}</td>"
            f"<td>{esc(r.rule)}</td><td>{esc(lab)}</td><td>{esc(r.summary)}</td></tr>"
        )
    out.append("</table><h2>Alerts per day by severity</h2><table><tr><th>day (UTC)</th>")
    out.extend(f"<th class='{s}'>{s}</th>" for s in SEVERITIES)
    out.append("</tr>")
    for day, sev in per_day(result).items():
        out.append(
            f"<tr><td>{day}</td>" + "".join(f"<td class='num'>{sev[s]}</td>" for s in SEVERITIES)
        )
    out.append("</table><h2>Charts</h2>")
    out.extend(_png_tag(title, png) for title, png in charts)
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


# ---------------------------------------------------------------------- charts

_SEV_COLOR = {"info": "#2f5fa7", "warning": "#e08a00", "critical": "#c8102e", "extreme": "#5c0010"}
_VENUE_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2"]


def _dt(ns: int) -> datetime:
    return datetime.fromtimestamp(ns / NS, tz=UTC)


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=96, bbox_inches="tight")
    plt = _pyplot()

    plt.close(fig)
    return buf.getvalue()


def _pyplot() -> Any:
    """``matplotlib.pyplot`` on the Agg backend (typed loosely: charts only)."""
    import importlib

    import matplotlib

    matplotlib.use("Agg")
    return importlib.import_module("matplotlib.pyplot")


def _style_time_axis(ax: Any) -> None:
    import importlib

    mdates: Any = importlib.import_module("matplotlib.dates")

    loc = mdates.AutoDateLocator(minticks=4, maxticks=10)
    ax.xaxis.set_major_locator(loc)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(loc))
    ax.grid(True, alpha=0.25)


def _mark_worst(ax: Any, result: BacktestResult) -> None:
    if result.worst_ns is not None:
        ax.axvline(_dt(result.worst_ns), color="black", ls="--", lw=1, alpha=0.7, label="worst")


def render_charts(result: BacktestResult) -> list[tuple[str, bytes]]:
    """The report's charts as ``(title, PNG bytes)``, rendered with matplotlib's Agg backend."""
    charts = [
        ("Price with alert markers", _chart_price(result)),
        ("Open interest vs its 60-day peak", _chart_oi(result)),
        ("Liquidations per minute, long vs short", _chart_liquidations(result)),
        ("Stablecoin peg deviation by venue", _chart_pegs(result)),
        ("Funding, OI-weighted, per 8 h", _chart_funding(result)),
    ]
    return [(t, png) for t, png in charts if png]


def _assets(result: BacktestResult) -> list[str]:
    names = [dict(k[1]).get("asset", "") for k in result.recorder.keys("price_ref")]
    order = {"BTC": 0, "ETH": 1}
    return sorted((a for a in names if a), key=lambda a: (order.get(a, 9), a))


def _chart_price(result: BacktestResult) -> bytes:
    plt = _pyplot()

    assets = _assets(result)[:2]
    if not assets:
        return b""
    hist = bool(result.backfill.price)
    fig, axes = plt.subplots(2 if hist else 1, 1, figsize=(12, 7.5 if hist else 4.5), squeeze=False)
    rec = result.recorder
    colors = ["#f7931a", "#627eea"]
    if hist:
        ax = axes[0][0]
        twin = ax.twinx()
        for i, a in enumerate(assets):
            target = ax if i == 0 else twin
            bt, bv = zip(*result.backfill.price.get(a, []), strict=False) or ((), ())
            lt, lv = rec.series(_key("price_ref", asset=a))
            target.plot([_dt(t) for t in (*bt, *lt)], [*bv, *lv], color=colors[i], lw=1.1, label=a)
            target.set_ylabel(f"{a} (USD)", color=colors[i])
        ax.axvspan(_dt(result.start_ns), _dt(result.end_ns), color="#999", alpha=0.15)
        ax.set_title("History (backfilled hourly) and the streamed window (shaded)")
        _mark_worst(ax, result)
        _style_time_axis(ax)
    ax = axes[-1][0]
    twin = ax.twinx()
    for i, a in enumerate(assets):
        target = ax if i == 0 else twin
        lt, lv = rec.series(_key("price_ref", asset=a))
        target.plot([_dt(t) for t in lt], lv, color=colors[i], lw=1.2, label=a)
        target.set_ylabel(f"{a} (USD)", color=colors[i])
    bt_, bv_ = rec.series(_key("price_ref", asset=assets[0]))
    firsts = [r for r in alert_table(result) if r.severity != "info"]
    labelled: set[str] = set()
    for r in firsts:
        sev = "extreme" if r.labels.get("tier") == "extreme" else r.severity
        x = _dt(r.first_fire_ns)
        ax.axvline(x, color=_SEV_COLOR[sev], lw=0.8, alpha=0.55)
        y = _value_at(bt_, bv_, r.first_fire_ns)
        if y is not None:
            ax.plot([x], [y], marker="v", color=_SEV_COLOR[sev], ms=8, zorder=5)
        if sev in ("critical", "extreme") and r.rule not in labelled and y is not None:
            labelled.add(r.rule)
            ax.annotate(
                f"{r.rule} ({r.labels.get('asset') or r.labels.get('coin') or 'all'})",
                (x, y),
                xytext=(6 if len(labelled) % 2 else -6, 12 + 13 * (len(labelled) % 6)),
                ha="left" if len(labelled) % 2 else "right",
                textcoords="offset points",
                fontsize=8,
                color=_SEV_COLOR[sev],
            )
    _mark_worst(ax, result)
    ax.set_title("Streamed window: first firing of each warning (orange) and critical (red) alert")
    _style_time_axis(ax)
    fig.tight_layout()
    return _png(fig)


def _value_at(ts: list[int], vs: list[float], t: int) -> float | None:
    if not ts:
        return None
    import bisect

    i = min(max(bisect.bisect_left(ts, t), 0), len(ts) - 1)
    return vs[i]


def _chart_oi(result: BacktestResult) -> bytes:
    plt = _pyplot()

    assets = [
        a
        for a in _assets(result)
        if result.recorder.series(_key("oi_usd", asset=a, venue="all"))[0]
    ][:2]
    if not assets:
        return b""
    fig, axes = plt.subplots(1, len(assets), figsize=(12, 4), squeeze=False)
    for ax, a in zip(axes[0], assets, strict=False):
        ht: dict[int, float] = {}
        for (asset, _v), pts in result.backfill.open_interest.items():
            if asset == a:
                for t, usd in pts:
                    ht[t] = ht.get(t, 0.0) + usd
        times = sorted(ht)
        hv = [ht[t] for t in times]
        peak = _rolling_max(times, hv, 60 * 24 * 3600 * NS)
        lt, lv = result.recorder.series(_key("oi_usd", asset=a, venue="all"))
        dd = dict(zip(*result.recorder.series(_key("oi_drawdown_pct", asset=a)), strict=True))
        lp = [
            v / (1.0 + dd[t] / 100.0) if t in dd and dd[t] > -99 else float("nan")
            for t, v in zip(lt, lv, strict=True)
        ]
        ax.plot(
            [_dt(t) for t in (*times, *lt)], [v / 1e9 for v in (*hv, *lv)], lw=1.2, label=f"{a} OI"
        )
        ax.plot(
            [_dt(t) for t in (*times, *lt)],
            [v / 1e9 for v in (*peak, *lp)],
            lw=1.0,
            ls="--",
            color="#555",
            label="60-day peak",
        )
        ax.axvspan(_dt(result.start_ns), _dt(result.end_ns), color="#999", alpha=0.12)
        _mark_worst(ax, result)
        ax.set_ylabel("USD bn")
        last_dd = dd[lt[-1]] if lt and lt[-1] in dd else None
        ax.set_title(
            f"{a} perp open interest"
            + ("" if last_dd is None else f" (end: {last_dd:.1f}% from peak)")
        )
        ax.legend(loc="lower left", fontsize=8)
        _style_time_axis(ax)
    fig.tight_layout()
    return _png(fig)


def _rolling_max(times: list[int], values: list[float], window: int) -> list[float]:
    """Max of ``values`` over the trailing ``window`` at each time (monotonic deque)."""
    from collections import deque

    dq: deque[int] = deque()
    out: list[float] = []
    for i, t in enumerate(times):
        while dq and values[dq[-1]] <= values[i]:
            dq.pop()
        dq.append(i)
        while times[dq[0]] < t - window:
            dq.popleft()
        out.append(values[dq[0]])
    return out


def _chart_liquidations(result: BacktestResult) -> bytes:
    plt = _pyplot()

    rec = result.recorder
    lt, lv = rec.series(_key("liq_usd", asset="all", side="long", window="1m"))
    st, sv = rec.series(_key("liq_usd", asset="all", side="short", window="1m"))
    if not lt and not st:
        return b""
    fig, ax = plt.subplots(figsize=(12, 4))
    width = 1.0 / 1440 * (1.0 if len(lt) < 3000 else 3.0)
    ax.bar(
        [_dt(t - MINUTE // 2) for t in lt],
        [v / 1e6 for v in lv],
        width=width,
        color="#c8102e",
        label="longs liquidated",
    )
    ax.bar(
        [_dt(t - MINUTE // 2) for t in st],
        [-v / 1e6 for v in sv],
        width=width,
        color="#2ca02c",
        label="shorts liquidated",
    )
    ax.axhline(0, color="#333", lw=0.6)
    ax.set_ylabel("USD m per minute (shorts below 0)")
    h1 = rec.series(_key("liq_usd", asset="all", side="all", window="1h"))[1]
    d1 = rec.series(_key("liq_usd", asset="all", side="all", window="24h"))[1]
    ax.set_title(
        "Liquidations per minute, all assets"
        + (
            f" (max 1 h: \\${max(h1) / 1e6:,.0f}M, max 24 h: \\${max(d1) / 1e6:,.0f}M)"
            if h1 and d1
            else ""
        )
    )
    _mark_worst(ax, result)
    ax.legend(loc="upper left", fontsize=8)
    _style_time_axis(ax)
    fig.tight_layout()
    return _png(fig)


def _chart_pegs(result: BacktestResult) -> bytes:
    plt = _pyplot()

    rec = result.recorder
    by_coin: dict[str, list[SeriesKey]] = {}
    for k in rec.keys("peg_deviation_bps"):
        by_coin.setdefault(dict(k[1])["coin"], []).append(k)
    if not by_coin:
        return b""
    coins = sorted(by_coin, key=lambda c: ("USDT", "USDC", "DAI", "USDE", "FDUSD", c).index(c))
    fig, axes = plt.subplots(
        len(coins), 1, figsize=(12, 2.4 * len(coins)), squeeze=False, sharex=True
    )
    for ax, coin in zip((a[0] for a in axes), coins, strict=True):
        lo = 0.0
        for i, k in enumerate(by_coin[coin]):
            t, v = rec.series(k)
            lo = min([lo, *v])
            ax.plot(
                [_dt(x) for x in t],
                v,
                lw=1.0,
                color=_VENUE_COLORS[i % len(_VENUE_COLORS)],
                label=dict(k[1])["venue"],
            )
        mt, mv = rec.series(_key("peg_median_deviation_bps", coin=coin))
        ax.plot([_dt(x) for x in mt], mv, lw=1.6, color="black", alpha=0.6, label="median")
        for y in (30, -30, -100) + ((-300, -1000) if lo < -200 else ()):
            ax.axhline(y, color="#999", lw=0.6, ls=":")
        ax.set_ylabel(f"{coin} (bps)")
        ax.legend(loc="lower left", fontsize=7, ncol=6)
        _mark_worst(ax, result)
        _style_time_axis(ax)
    axes[0][0].set_title("Deviation from $1 by venue (bps); dotted: ±30, −100, −300, −1000")
    fig.tight_layout()
    return _png(fig)


def _chart_funding(result: BacktestResult) -> bytes:
    plt = _pyplot()

    assets = _assets(result)
    keys = [(a, _key("funding_rate_8h", asset=a, venue="oi_weighted")) for a in assets]
    keys = [(a, k) for a, k in keys if result.recorder.series(k)[0]]
    if not keys:
        return b""
    fig, ax = plt.subplots(figsize=(12, 3.2))
    for a, k in keys:
        t, v = result.recorder.series(k)
        ax.plot([_dt(x) for x in t], [x * 100 for x in v], lw=1.2, label=a)
    ax.axhline(0.01, color="#999", ls=":", lw=0.8)
    ax.axhline(0.0, color="#333", lw=0.6)
    ax.set_ylabel("% per 8 h")
    ax.set_title("OI-weighted funding (baseline 0.01%/8h dotted)")
    _mark_worst(ax, result)
    ax.legend(loc="lower left", fontsize=8)
    _style_time_axis(ax)
    fig.tight_layout()
    return _png(fig)
