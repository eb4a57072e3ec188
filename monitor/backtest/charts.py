"""The backtest report's charts, drawn with matplotlib's Agg backend into PNG bytes.

Price with alert markers, open interest against its 60-day peak, liquidations per minute (long
vs short), stablecoin peg deviation by venue and OI-weighted funding. Each chart reads the
result's per-minute :class:`~monitor.backtest.recorder.Recorder` and backfilled history; a chart
with nothing to draw is left out. matplotlib is imported on first use only.
"""

from __future__ import annotations

import importlib
import io
import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from monitor.backtest.recorder import SeriesKey, series_key
from monitor.backtest.result import BacktestResult
from monitor.backtest.summary import TableRow, alert_table
from streams.units import NS_PER_DAY, NS_PER_MINUTE, NS_PER_SECOND

__all__ = ["PRICE_CHART", "Marker", "alert_markers", "render_charts"]

#: the title of the price chart, whose numbered markers the report lists
PRICE_CHART = "Price with alert markers (numbered, listed below)"

_SEV_COLOR = {"info": "#2f5fa7", "warning": "#e08a00", "critical": "#c8102e", "extreme": "#5c0010"}
_VENUE_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2"]
_ASSET_COLORS = {"BTC": "#f7931a", "ETH": "#627eea"}
#: the first asset solid on the left axis, the second dashed on the right (their paths may match)
_ASSET_LS = ("-", "--")
#: the worst point: a solid purple line, unlike any series (peaks are dotted grey)
_WORST = {"color": "#7b2cbf", "ls": "-", "lw": 1.6, "alpha": 0.8, "label": "worst point"}
_PEAK = {"color": "#555", "ls": ":", "lw": 1.6, "label": "60-day peak"}
#: alerts whose first firings lie closer than this share of the window share one marker
_MARKER_GAP = 0.012
_SEV_RANK = {"warning": 0, "critical": 1, "extreme": 2}


@dataclass(frozen=True)
class Marker:
    """One numbered marker on the price chart: the first firings of one or more alert series."""

    number: int
    at_ns: int
    #: ``extreme``, ``critical`` or ``warning``: the highest of its rows
    severity: str
    rows: tuple[TableRow, ...]


def alert_markers(result: BacktestResult) -> list[Marker]:
    """The price chart's markers: warning and critical first firings, close ones grouped.

    Numbered from 1 in time order; the report lists what each number stands for.
    """
    rows = [r for r in alert_table(result) if r.severity != "info"]
    gap = max(1, result.end_ns - result.start_ns) * _MARKER_GAP
    groups: list[list[TableRow]] = []
    for r in rows:
        if groups and r.first_fire_ns - groups[-1][0].first_fire_ns <= gap:
            groups[-1].append(r)
        else:
            groups.append([r])
    return [
        Marker(
            number=i,
            at_ns=g[0].first_fire_ns,
            severity=max((_severity(r) for r in g), key=_SEV_RANK.__getitem__),
            rows=tuple(g),
        )
        for i, g in enumerate(groups, 1)
    ]


def _severity(r: TableRow) -> str:
    return "extreme" if r.labels.get("tier") == "extreme" else r.severity


def _usd_axis(ax: Any, unit: str = "") -> None:
    """``$`` tick labels with thousands separators (``$120,000``, ``$5.5bn``, ``-$5M``).

    As many decimals as the tick spacing needs, the same for every tick of the axis.
    """
    ticker: Any = importlib.import_module("matplotlib.ticker")

    def fmt(v: float, _pos: object = None) -> str:
        ticks = sorted(ax.get_yticks())
        step = min((b - a for a, b in itertools.pairwise(ticks) if b > a), default=1.0)
        decimals = max(0, min(4, -math.floor(math.log10(step)))) if 0 < step < 1 else 0
        sign = "-" if v < 0 else ""
        return f"{sign}${abs(v):,.{decimals}f}{unit}"

    ax.yaxis.set_major_formatter(ticker.FuncFormatter(fmt))


def _dt(ns: int) -> datetime:
    return datetime.fromtimestamp(ns / NS_PER_SECOND, tz=UTC)


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=96, bbox_inches="tight")
    plt = _pyplot()

    plt.close(fig)
    return buf.getvalue()


def _pyplot() -> Any:
    """``matplotlib.pyplot`` on the Agg backend (typed loosely: charts only)."""

    import matplotlib

    matplotlib.use("Agg")
    return importlib.import_module("matplotlib.pyplot")


def _style_time_axis(ax: Any) -> None:

    mdates: Any = importlib.import_module("matplotlib.dates")

    loc = mdates.AutoDateLocator(minticks=4, maxticks=10)
    ax.xaxis.set_major_locator(loc)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(loc))
    ax.grid(True, alpha=0.25)


def _mark_worst(ax: Any, result: BacktestResult) -> None:
    if result.worst_ns is not None:
        ax.axvline(_dt(result.worst_ns), **_WORST)


def _legend(ax: Any, *others: Any, **kw: Any) -> None:
    """One legend for the lines of ``ax`` and of its twins ``others``: series first."""
    handles, labels = ax.get_legend_handles_labels()
    for o in others:
        h, lab = o.get_legend_handles_labels()
        handles += h
        labels += lab
    marks = ("streamed", "worst point", _PEAK["label"])
    order = sorted(range(len(labels)), key=lambda i: labels[i] in marks)
    ax.legend(
        [handles[i] for i in order], [labels[i] for i in order], fontsize=8, framealpha=0.9, **kw
    )


def render_charts(result: BacktestResult) -> list[tuple[str, bytes]]:
    """The report's charts as ``(title, PNG bytes)``, rendered with matplotlib's Agg backend."""
    charts = [
        (PRICE_CHART, _chart_price(result)),
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
    fig, axes = plt.subplots(2 if hist else 1, 1, figsize=(12, 8 if hist else 4.8), squeeze=False)
    rec = result.recorder
    if hist:
        ax = axes[0][0]
        twin = ax.twinx()

        def history(a: str) -> tuple[Sequence[int], Sequence[float]]:
            bt, bv = zip(*result.backfill.price.get(a, []), strict=False) or ((), ())
            lt, lv = rec.series(series_key("price_ref", asset=a))
            return (*bt, *lt), [*bv, *lv]

        _plot_prices(ax, twin, assets, history, lw=1.1)
        ax.axvspan(
            _dt(result.start_ns), _dt(result.end_ns), color="#999", alpha=0.2, label="streamed"
        )
        ax.set_title("History (backfilled hourly) and the streamed window (shaded)")
        _mark_worst(ax, result)
        _legend(ax, twin, loc="upper right")
        _style_time_axis(ax)
    ax = axes[-1][0]
    twin = ax.twinx()
    _plot_prices(ax, twin, assets, lambda a: rec.series(series_key("price_ref", asset=a)), lw=1.4)
    _mark_worst(ax, result)
    _draw_markers(ax, result)
    _legend(ax, twin, loc="upper right")
    ax.set_title(
        "Streamed window: numbered first firings of warning (orange) and critical (red) "
        "alerts, listed below",
        pad=34,
    )
    _style_time_axis(ax)
    fig.tight_layout()
    return _png(fig)


def _plot_prices(
    ax: Any,
    twin: Any,
    assets: Sequence[str],
    points: Callable[[str], tuple[Sequence[int], Sequence[float]]],
    lw: float,
) -> None:
    """Each asset's price line from ``points(asset)``: the first on ``ax``, the second on
    ``twin`` (the right axis), each axis labelled in its asset's colour."""
    for i, a in enumerate(assets):
        target = ax if i == 0 else twin
        times, values = points(a)
        color = _ASSET_COLORS.get(a, _VENUE_COLORS[i])
        target.plot(
            [_dt(t) for t in times],
            values,
            color=color,
            lw=lw,
            ls=_ASSET_LS[i],
            label=f"{a} (right axis)" if i else a,
        )
        target.set_ylabel(f"{a} price", color=color)
        _usd_axis(target)


def _draw_markers(ax: Any, result: BacktestResult) -> None:
    """A line per marker and its number above the axes, staggered so no two numbers overlap."""
    span = max(1, result.end_ns - result.start_ns)
    last_x: list[float] = []  # per row of numbers: the x (share of span) of its last number
    for m in alert_markers(result):
        x = _dt(m.at_ns)
        color = _SEV_COLOR[m.severity]
        ax.axvline(x, color=color, lw=1.0, alpha=0.7)
        pos = (m.at_ns - result.start_ns) / span
        row = next((i for i, lx in enumerate(last_x) if pos - lx >= 0.028), len(last_x))
        if row == len(last_x):
            last_x.append(pos)
        last_x[row] = pos
        ax.annotate(
            str(m.number),
            (x, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(0, 4 + 15 * (row % 3)),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=8,
            fontweight="bold",
            color="white",
            bbox={"boxstyle": "circle,pad=0.2", "fc": color, "ec": "none"},
            annotation_clip=False,
        )


def _chart_oi(result: BacktestResult) -> bytes:
    plt = _pyplot()

    assets = [
        a
        for a in _assets(result)
        if result.recorder.series(series_key("oi_usd", asset=a, venue="all"))[0]
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
        peak = _rolling_max(times, hv, 60 * NS_PER_DAY)
        lt, lv = result.recorder.series(series_key("oi_usd", asset=a, venue="all"))
        dd = dict(zip(*result.recorder.series(series_key("oi_drawdown_pct", asset=a)), strict=True))
        lp = [
            v / (1.0 + dd[t] / 100.0) if t in dd and dd[t] > -99 else float("nan")
            for t, v in zip(lt, lv, strict=True)
        ]
        ax.plot(
            [_dt(t) for t in (*times, *lt)],
            [v / 1e9 for v in (*hv, *lv)],
            lw=1.3,
            color=_ASSET_COLORS.get(a, _VENUE_COLORS[0]),
            label=f"{a} open interest",
        )
        ax.plot([_dt(t) for t in (*times, *lt)], [v / 1e9 for v in (*peak, *lp)], **_PEAK)
        ax.axvspan(
            _dt(result.start_ns), _dt(result.end_ns), color="#999", alpha=0.2, label="streamed"
        )
        _mark_worst(ax, result)
        ax.set_ylabel("open interest")
        _usd_axis(ax, "bn")
        last_dd = dd[lt[-1]] if lt and lt[-1] in dd else None
        ax.set_title(
            f"{a} perp open interest"
            + ("" if last_dd is None else f" (end: {last_dd:.1f}% from peak)")
        )
        _legend(ax, loc="lower left")
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
    lt, lv = rec.series(series_key("liq_usd", asset="all", side="long", window="1m"))
    st, sv = rec.series(series_key("liq_usd", asset="all", side="short", window="1m"))
    if not lt and not st:
        return b""
    fig, ax = plt.subplots(figsize=(12, 4))
    width = 1.0 / 1440 * (1.0 if len(lt) < 3000 else 3.0)
    ax.bar(
        [_dt(t - NS_PER_MINUTE // 2) for t in lt],
        [v / 1e6 for v in lv],
        width=width,
        color="#c8102e",
        label="longs liquidated",
    )
    ax.bar(
        [_dt(t - NS_PER_MINUTE // 2) for t in st],
        [-v / 1e6 for v in sv],
        width=width,
        color="#2ca02c",
        label="shorts liquidated",
    )
    ax.axhline(0, color="#333", lw=0.6)
    ax.set_ylabel("per minute (shorts below 0)")
    _usd_axis(ax, "M")
    h1 = rec.series(series_key("liq_usd", asset="all", side="all", window="1h"))[1]
    d1 = rec.series(series_key("liq_usd", asset="all", side="all", window="24h"))[1]
    ax.set_title(
        "Liquidations per minute, all assets"
        + (
            f" (max 1 h: \\${max(h1) / 1e6:,.0f}M, max 24 h: \\${max(d1) / 1e6:,.0f}M)"
            if h1 and d1
            else ""
        )
    )
    _mark_worst(ax, result)
    _legend(ax, loc="upper left")
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
    venues = sorted({dict(k[1])["venue"] for keys in by_coin.values() for k in keys})
    colors = {v: _VENUE_COLORS[i % len(_VENUE_COLORS)] for i, v in enumerate(venues)}
    fig, axes = plt.subplots(
        len(coins), 1, figsize=(12, 2.4 * len(coins)), squeeze=False, sharex=True
    )
    for ax, coin in zip((a[0] for a in axes), coins, strict=True):
        lo = 0.0
        for k in sorted(by_coin[coin], key=lambda k: dict(k[1])["venue"]):
            t, v = rec.series(k)
            lo = min([lo, *v])
            venue = dict(k[1])["venue"]
            ax.plot([_dt(x) for x in t], v, lw=1.0, color=colors[venue], label=venue)
        mt, mv = rec.series(series_key("peg_median_deviation_bps", coin=coin))
        ax.plot([_dt(x) for x in mt], mv, lw=1.6, color="black", alpha=0.6, label="median")
        for y in (30, -30, -100) + ((-300, -1000) if lo < -200 else ()):
            ax.axhline(y, color="#999", lw=0.6, ls=":")
        ax.set_ylabel(f"{coin} (bps)")
        _mark_worst(ax, result)
        _legend(ax, loc="lower left", ncol=8)
        _style_time_axis(ax)
    axes[0][0].set_title("Deviation from $1 by venue (bps); dotted: ±30, −100, −300, −1000")
    fig.tight_layout()
    return _png(fig)


def _chart_funding(result: BacktestResult) -> bytes:
    plt = _pyplot()

    assets = _assets(result)
    keys = [(a, series_key("funding_rate_8h", asset=a, venue="oi_weighted")) for a in assets]
    keys = [(a, k) for a, k in keys if result.recorder.series(k)[0]]
    if not keys:
        return b""
    fig, ax = plt.subplots(figsize=(12, 3.2))
    for a, k in keys:
        t, v = result.recorder.series(k)
        color = _ASSET_COLORS.get(a)
        ax.plot([_dt(x) for x in t], [x * 100 for x in v], lw=1.3, color=color, label=a)
    ax.axhline(0.01, color="#999", ls=":", lw=0.8)
    ax.axhline(0.0, color="#333", lw=0.6)
    ax.set_ylabel("per 8 h")
    ticker: Any = importlib.import_module("matplotlib.ticker")
    ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _pos: f"{v:.4g}%"))
    ax.set_title("OI-weighted funding (baseline 0.01%/8h dotted)")
    _mark_worst(ax, result)
    _legend(ax, loc="best")
    _style_time_axis(ax)
    fig.tight_layout()
    return _png(fig)
