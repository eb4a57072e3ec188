"""The backtest report's charts, drawn with matplotlib's Agg backend into PNG bytes.

Price with alert markers, open interest against its 60-day peak, liquidations per minute (long
vs short), stablecoin peg deviation by venue and OI-weighted funding. Each chart reads the
result's per-minute :class:`~monitor.backtest.recorder.Recorder` and backfilled history; a chart
with nothing to draw is left out. matplotlib is imported on first use only.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

from monitor.backtest.recorder import SeriesKey, series_key
from monitor.backtest.result import BacktestResult
from monitor.backtest.summary import alert_table
from streams.units import NS_PER_DAY, NS_PER_MINUTE, NS_PER_SECOND

__all__ = ["render_charts"]

_SEV_COLOR = {"info": "#2f5fa7", "warning": "#e08a00", "critical": "#c8102e", "extreme": "#5c0010"}
_VENUE_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2"]


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
            lt, lv = rec.series(series_key("price_ref", asset=a))
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
        lt, lv = rec.series(series_key("price_ref", asset=a))
        target.plot([_dt(t) for t in lt], lv, color=colors[i], lw=1.2, label=a)
        target.set_ylabel(f"{a} (USD)", color=colors[i])
    bt_, bv_ = rec.series(series_key("price_ref", asset=assets[0]))
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
    ax.set_ylabel("USD m per minute (shorts below 0)")
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
        mt, mv = rec.series(series_key("peg_median_deviation_bps", coin=coin))
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
    keys = [(a, series_key("funding_rate_8h", asset=a, venue="oi_weighted")) for a in assets]
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
