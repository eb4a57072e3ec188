"""The live terminal view of ``riskmon demo`` (rich), fed by the daemon's signals and notices.

:class:`DemoState` folds signals and alert notices into what the view shows (prices, open interest
against its peak, liquidations per minute, pegs, firing alerts); :class:`DemoView` renders it with
``rich.live.Live``, prints every alert as it fires above the live area and prints a summary at the
end. Rendering happens on the caller's thread (the asyncio loop), at most a few times per second,
never from a background thread. When stdout is not a terminal the CLI does not use this view: it
prints plain JSON lines instead.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from rich import box
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from alerts.model import AlertNotice
from streams.signals import Signal
from streams.units import NS_PER_MINUTE, NS_PER_SECOND

if TYPE_CHECKING:
    from monitor.demo.run import DemoResult
    from monitor.simulator.scenarios import ScenarioInfo

__all__ = ["DemoState", "DemoView", "format_usd", "sparkline"]

_BARS = " ▁▂▃▄▅▆▇█"
_SEV_STYLE = {"info": "cyan", "warning": "yellow", "critical": "bold red"}
_PEG_ORDER = ("USDT", "USDC", "DAI", "USDE", "FDUSD", "USDS")


def format_usd(x: float | None) -> str:
    """``$1.23B``, ``$45.6M``, ``$7.8k``, ``$90``."""
    if x is None:
        return "-"
    a = abs(x)
    for div, unit in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if a >= div:
            return f"${x / div:,.2f}{unit}" if div == 1e9 else f"${x / div:,.1f}{unit}"
    return f"${x:,.0f}"


def sparkline(values: Sequence[float]) -> str:
    """Unicode block bars scaled to the largest value."""
    top = max(values, default=0.0)
    if top <= 0:
        return " " * len(values)
    return "".join(_BARS[min(8, round(v / top * 8))] for v in values)


def _hhmm(ns: int) -> str:
    return datetime.fromtimestamp(ns / NS_PER_SECOND, tz=UTC).strftime("%d %b %H:%M")


@dataclass
class DemoState:
    """What the view shows, folded from signals and notices."""

    watermark_ns: int = 0
    values: dict[tuple[str, tuple[tuple[str, str], ...]], float] = field(default_factory=dict)
    liq_minutes: deque[tuple[int, float, float]] = field(default_factory=lambda: deque(maxlen=60))
    firing: dict[str, AlertNotice] = field(default_factory=dict)
    log: deque[AlertNotice] = field(default_factory=lambda: deque(maxlen=6))
    fired: list[AlertNotice] = field(default_factory=list)
    _next_minute: int | None = None

    def on_signals(self, signals: Sequence[Signal]) -> None:
        """Keep the latest value of every series; close liquidation minutes as time passes."""
        values = self.values
        for s in signals:
            if s.ts > self.watermark_ns:
                self.watermark_ns = s.ts
            if self._next_minute is None:
                self._next_minute = (s.ts // NS_PER_MINUTE + 1) * NS_PER_MINUTE
            while s.ts > self._next_minute:
                self.liq_minutes.append(
                    (
                        self._next_minute - NS_PER_MINUTE,
                        self.get("liq_usd", asset="all", side="long", window="1m") or 0.0,
                        self.get("liq_usd", asset="all", side="short", window="1m") or 0.0,
                    )
                )
                self._next_minute += NS_PER_MINUTE
            values[(s.name, tuple(sorted(s.labels.items())))] = s.value

    def on_notices(self, notices: Sequence[AlertNotice]) -> None:
        """Track firing alerts and the recent notices."""
        for n in notices:
            if n.status == "firing":
                self.firing[n.fingerprint] = n
                self.fired.append(n)
            else:
                self.firing.pop(n.fingerprint, None)
            self.log.append(n)

    def get(self, name: str, **labels: str) -> float | None:
        """The latest value of one series."""
        return self.values.get((name, tuple(sorted(labels.items()))))

    def assets(self) -> list[str]:
        """Priced assets, BTC and ETH first."""
        names = {dict(k[1]).get("asset", "") for k in self.values if k[0] == "price_ref"}
        order = {"BTC": 0, "ETH": 1}
        return sorted((a for a in names if a), key=lambda a: (order.get(a, 9), a))

    def coins(self) -> list[str]:
        """Stablecoins with a cross-venue median."""
        names = {dict(k[1])["coin"] for k in self.values if k[0] == "peg_median_deviation_bps"}
        return sorted(names, key=lambda c: (*_PEG_ORDER, c).index(c))

    def venue_devs(self, coin: str) -> list[tuple[str, float]]:
        """``(venue, deviation bps)`` of one coin."""
        out = []
        for (name, labels), v in self.values.items():
            d = dict(labels)
            if name == "peg_deviation_bps" and d.get("coin") == coin:
                out.append((d["venue"], v))
        return sorted(out)


def notice_line(n: AlertNotice) -> Text:
    """One alert notice as a coloured line."""
    tier = " EXTREME" if n.labels.get("tier") == "extreme" else ""
    t = Text()
    t.append(_hhmm(n.ends_at if n.status == "resolved" and n.ends_at else n.starts_at) + "  ")
    if n.status == "firing":
        t.append(f"{n.severity.upper()}{tier}", style=_SEV_STYLE[n.severity])
    else:
        t.append("resolved", style="green")
    t.append(f"  {n.rule}  ", style="bold")
    t.append(n.summary, style="dim" if n.status == "resolved" else "")
    return t


class DemoView:
    """The rich live view of a demo run.

    Args:
        info: the scenario being played.
        speed: the playback speed (shown in the header).
        console: where to draw (default: stdout).
        refresh_s: minimum wall time between two redraws.
    """

    def __init__(
        self,
        info: ScenarioInfo,
        speed: float,
        console: Console | None = None,
        refresh_s: float = 0.25,
    ) -> None:
        self.info = info
        self.speed = speed
        self.console = console or Console()
        self.state = DemoState()
        self.refresh_s = refresh_s
        self._live: Live | None = None
        self._last_draw = 0.0
        self._started = time.monotonic()

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> DemoView:
        self._live = Live(self.render(), console=self.console, auto_refresh=False, transient=False)
        self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.update(self.render(), refresh=True)
            self._live.__exit__(None, None, None)
            self._live = None

    # ------------------------------------------------------------------ feeding

    def on_signals(self, signals: Sequence[Signal]) -> None:
        """Fold signals in; redraw when due."""
        self.state.on_signals(signals)
        self._maybe_draw()

    def on_notices(self, notices: Sequence[AlertNotice]) -> None:
        """Fold notices in; print each firing alert above the live area."""
        self.state.on_notices(notices)
        for n in notices:
            if n.status == "firing":
                self.console.print(notice_line(n))
        self._maybe_draw(force=True)

    def _maybe_draw(self, force: bool = False) -> None:
        now = time.monotonic()
        if self._live is None or (not force and now - self._last_draw < self.refresh_s):
            return
        self._last_draw = now
        self._live.update(self.render(), refresh=True)

    # ------------------------------------------------------------------ rendering

    def render(self) -> RenderableType:
        """The whole view."""
        st = self.state
        info = self.info
        span = max(1, info.end_ns - info.start_ns)
        done = (
            min(1.0, max(0.0, (st.watermark_ns - info.start_ns) / span)) if st.watermark_ns else 0.0
        )
        head = Text()
        head.append(f"riskmon demo · {info.name}", style="bold")
        head.append(
            f" · event time {_hhmm(st.watermark_ns) if st.watermark_ns else '-'} UTC"
            f" · {self.speed:g}x · {done:.0%} · {time.monotonic() - self._started:.0f}s"
        )
        return Group(
            Panel(head, border_style="blue"),
            self._markets(),
            self._liquidations(),
            self._pegs(),
            self._alerts(),
        )

    def _markets(self) -> Table:
        st = self.state
        t = Table(title="Markets", expand=True, title_justify="left")
        for col in (
            "asset",
            "price",
            "1h",
            "from 90d high",
            "perp OI",
            "OI vs 60d peak",
            "funding/8h",
        ):
            t.add_column(col, justify="right" if col != "asset" else "left")
        for a in st.assets():
            px = st.get("price_ref", asset=a)
            r1h = st.get("price_return_pct", asset=a, window="1h")
            dd = st.get("price_drawdown_pct", asset=a)
            oi = st.get("oi_usd", asset=a, venue="all")
            odd = st.get("oi_drawdown_pct", asset=a)
            fr = st.get("funding_rate_8h", asset=a, venue="oi_weighted")
            t.add_row(
                a,
                "-" if px is None else f"{px:,.2f}",
                _pct(r1h),
                _pct(dd, warn=-20, crit=-30),
                format_usd(oi),
                _pct(odd, warn=-20, crit=-30),
                "-" if fr is None else f"{fr * 100:+.4f}%",
            )
        return t

    def _liquidations(self) -> Panel:
        st = self.state
        mins = list(st.liq_minutes)
        totals = [lo + sh for _, lo, sh in mins]
        last = mins[-1] if mins else None
        body = Text()
        body.append("last minute: ")
        body.append(format_usd(last[1] if last else None), style="red")
        body.append(" longs / ")
        body.append(format_usd(last[2] if last else None), style="green")
        body.append(" shorts   1 h: ")
        body.append(
            format_usd(st.get("liq_usd", asset="all", side="all", window="1h")), style="bold"
        )
        body.append("   24 h: ")
        body.append(
            format_usd(st.get("liq_usd", asset="all", side="all", window="24h")), style="bold"
        )
        share = st.get("liq_long_share", asset="all", window="24h")
        if share is not None:
            body.append(f"   long share 24 h: {share:.0%}")
        body.append("\n")
        body.append(sparkline(totals), style="red")
        if totals:
            body.append(
                f"  per minute, last {len(totals)} min (max {format_usd(max(totals))})", style="dim"
            )
        return Panel(body, title="Liquidations", title_align="left")

    def _pegs(self) -> Panel:
        st = self.state
        body = Text()
        for i, c in enumerate(st.coins()):
            if i:
                body.append("\n")
            body.append(f"{c:<6}", style="bold")
            body.append("median ")
            body.append_text(_bps(st.get("peg_median_deviation_bps", coin=c)))
            body.append("   ")
            for v, d in st.venue_devs(c):
                body.append(f"{v} ")
                body.append_text(_bps(d))
                body.append("  ")
        return Panel(body, title="Stablecoin pegs (bps from $1)", title_align="left")

    def _alerts(self) -> Table:
        st = self.state
        t = Table(
            title=f"Firing alerts ({len(st.firing)})",
            expand=True,
            title_justify="left",
            box=box.SIMPLE_HEAD,
            padding=(0, 1),
        )
        t.add_column("since (UTC)", no_wrap=True)
        t.add_column("severity", no_wrap=True)
        t.add_column("rule", no_wrap=True)
        t.add_column("summary", overflow="ellipsis", no_wrap=True, ratio=1)
        rank = {"critical": 0, "warning": 1, "info": 2}
        rows = sorted(st.firing.values(), key=lambda n: (rank[n.severity], n.starts_at))
        for n in rows[:10]:
            tier = " extreme" if n.labels.get("tier") == "extreme" else ""
            t.add_row(
                _hhmm(n.starts_at),
                Text(n.severity + tier, style=_SEV_STYLE[n.severity]),
                n.rule,
                n.summary,
            )
        if len(rows) > 10:
            t.add_row("", "", f"... {len(rows) - 10} more", "")
        return t

    # ------------------------------------------------------------------ summary

    def summary(self, result: DemoResult) -> RenderableType:
        """The end-of-run summary: counts and the first firing of each rule and severity."""
        return render_summary(result)


def render_summary(result: DemoResult) -> RenderableType:
    """Each alert episode: when it first fired, its lead time before the scenario's worst point,
    its peak value; the worst point and the counts in the title."""
    c = result.counts()
    worst = result.worst_ns
    title = (
        f"{result.scenario}: {c['critical']} critical, {c['warning']} warning, "
        f"{c['info']} info in {result.wall_s:.0f}s ({result.events_published:,} events, "
        f"{result.frames_received:,} frames, {result.frames_skipped} skipped)"
    )
    if worst is not None:
        title += f"; worst point {_hhmm(worst)} UTC"
    t = Table(title=title, title_justify="left")
    t.add_column("first fired (UTC)")
    t.add_column("lead before worst", justify="right")
    t.add_column("severity")
    t.add_column("rule")
    t.add_column("labels")
    t.add_column("peak", justify="right")
    first: dict[str, AlertNotice] = {}
    peak: dict[str, float] = {}
    for n in result.notices:
        if n.status == "firing":
            first.setdefault(n.fingerprint, n)
        if n.fingerprint in first and abs(n.value) > abs(peak.get(n.fingerprint, 0.0)):
            peak[n.fingerprint] = n.value
    for fp, n in sorted(first.items(), key=lambda kv: kv[1].starts_at):
        tier = n.labels.get("tier", "")
        lab = ",".join(
            f"{k}={v}"
            for k, v in sorted(n.labels.items())
            if k not in ("alertname", "severity", "category", "tier")
        )
        lead = "-" if worst is None else _lead(worst - n.starts_at)
        t.add_row(
            _hhmm(n.starts_at),
            lead,
            Text(
                n.severity + (" extreme" if tier == "extreme" else ""), style=_SEV_STYLE[n.severity]
            ),
            n.rule,
            lab,
            f"{peak.get(fp, n.value):,.4g}",
        )
    return t


def _lead(ns: int) -> str:
    """A lead time as ``+1h05m`` (before the worst point) or ``-12m`` (after it)."""
    sign = "+" if ns >= 0 else "-"
    minutes = abs(ns) // (60 * 1_000_000_000)
    h, m = divmod(minutes, 60)
    return f"{sign}{h}h{m:02d}m" if h else f"{sign}{m}m"


def _pct(x: float | None, warn: float | None = None, crit: float | None = None) -> Text:
    if x is None:
        return Text("-")
    style = ""
    if crit is not None and x <= crit:
        style = "bold red"
    elif warn is not None and x <= warn:
        style = "yellow"
    return Text(f"{x:+.1f}%", style=style)


def _bps(x: float | None) -> Text:
    if x is None:
        return Text("-")
    style = "bold red" if abs(x) >= 300 else "yellow" if abs(x) >= 30 else ""
    return Text(f"{x:+.0f}", style=style)
