"""The daemon's live state at a glance: the JSON body of ``GET /status`` (``riskmon status``).

Built on request from what the daemon already holds: its feeds' connection states, the latest
value of every signal series (the exporter's, so stale series are already gone) and the
evaluator's firing alerts. Ages are in event time, as the rules see it: a feed's is the time
since its newest event (``feed_age_seconds``), an alert's the time from its start to the
watermark (the newest event time processed). ``now_ns`` is the daemon's clock (the scenario's
against the simulator).

Body (keys are a contract for scripts reading ``riskmon status --json``)::

    {"now_ns", "watermark_ns", "events",
     "feeds": {venue: {"state", "connections": {key: state}, "age_s", "channels": {ch: age_s}}},
     "assets": {asset: {"deleveraging_score", "oi_usd", "oi_drawdown_pct", "liq_usd_1h",
                        "liq_usd_24h", "liq_long_share_1h", "funding_rate_8h",
                        "price_ref", "price_drawdown_pct"}},
     "pegs": {coin: {"median_deviation_bps", "venues", "venues_deviating": {bps: n}}},
     "alerts": [{"rule", "severity", "labels", "value", "starts_at", "age_s", "summary"}]}

A figure the daemon has not computed yet is ``null``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from alerts.evaluator import AlertEvaluator
from streams.units import NS_PER_SECOND

if TYPE_CHECKING:
    from monitor.daemon import Daemon

__all__ = ["ASSET_FIGURES", "daemon_status", "feed_state"]

#: status key -> (signal, the labels it must carry besides ``asset``)
ASSET_FIGURES: dict[str, tuple[str, dict[str, str]]] = {
    "deleveraging_score": ("deleveraging_score", {}),
    "oi_usd": ("oi_usd", {"venue": "all"}),
    "oi_drawdown_pct": ("oi_drawdown_pct", {}),
    "liq_usd_1h": ("liq_usd", {"side": "all", "window": "1h"}),
    "liq_usd_24h": ("liq_usd", {"side": "all", "window": "24h"}),
    "liq_long_share_1h": ("liq_long_share", {"window": "1h"}),
    "funding_rate_8h": ("funding_rate_8h", {"venue": "oi_weighted"}),
    "price_ref": ("price_ref", {}),
    "price_drawdown_pct": ("price_drawdown_pct", {}),
}
_PEG_SIGNALS = ("peg_median_deviation_bps", "peg_venues", "peg_venues_deviating")
_FEED_SIGNALS = ("feed_age_seconds",)
#: the worse state wins when a venue's connections disagree
_STATE_ORDER = ("disconnected", "stale", "connecting", "rotating", "connected", "subscribed")


def feed_state(states: Iterable[str]) -> str:
    """One state for a venue: its worst connection's (``none`` without connections)."""
    ranked = sorted(states, key=lambda s: _STATE_ORDER.index(s) if s in _STATE_ORDER else -1)
    return ranked[0] if ranked else "none"


def daemon_status(daemon: Daemon) -> dict[str, Any]:
    """The ``/status`` body of a running daemon."""
    now_ns = daemon.clock.now_ns()
    exporter = daemon.exporter
    names = {sig for sig, _ in ASSET_FIGURES.values()} | set(_PEG_SIGNALS) | set(_FEED_SIGNALS)
    samples = list(exporter.latest(names))

    feeds: dict[str, dict[str, Any]] = {}
    for feed in daemon.feeds:
        conns = {c.plan.key: str(c.state) for c in feed.connections}
        feeds[feed.venue] = {
            "state": feed_state(conns.values()),
            "connections": conns,
            "age_s": None,
            "channels": {},
        }
    assets: dict[str, dict[str, Any]] = {}
    pegs: dict[str, dict[str, Any]] = {}
    for name, labels, value in samples:
        v = _finite(value)
        if name == "feed_age_seconds":
            entry = feeds.setdefault(
                labels["venue"],
                {"state": "none", "connections": {}, "age_s": None, "channels": {}},
            )
            entry["channels"][labels["channel"]] = _round(v)
            ages = [a for a in entry["channels"].values() if a is not None]
            entry["age_s"] = min(ages) if ages else None
        elif name in _PEG_SIGNALS:
            peg = pegs.setdefault(
                labels["coin"],
                {"median_deviation_bps": None, "venues": None, "venues_deviating": {}},
            )
            if name == "peg_median_deviation_bps":
                peg["median_deviation_bps"] = _round(v)
            elif name == "peg_venues":
                peg["venues"] = None if v is None else int(v)
            else:
                peg["venues_deviating"][labels["threshold"]] = None if v is None else int(v)
        elif "asset" in labels and labels["asset"] != "all":
            for key, (sig, want) in ASSET_FIGURES.items():
                if sig == name and all(labels.get(k) == w for k, w in want.items()):
                    row = assets.setdefault(labels["asset"], dict.fromkeys(ASSET_FIGURES))
                    row[key] = v
    watermark = daemon.pipeline.engine.watermark_ns
    evaluator = daemon.pipeline.evaluator
    firing = evaluator.active() if isinstance(evaluator, AlertEvaluator) else []
    alerts = [
        {
            "rule": n.rule,
            "severity": n.severity,
            "labels": dict(n.labels),
            "value": _finite(n.value),
            "starts_at": n.starts_at,
            "age_s": _round(max(0, watermark - n.starts_at) / NS_PER_SECOND),
            "summary": n.summary,
        }
        for n in sorted(firing, key=lambda n: n.starts_at)
    ]
    return {
        "now_ns": now_ns,
        "watermark_ns": watermark,
        "events": daemon.events_processed,
        "feeds": dict(sorted(feeds.items())),
        "assets": dict(sorted(assets.items())),
        "pegs": dict(sorted(pegs.items())),
        "alerts": alerts,
    }


def _finite(v: float) -> float | None:
    return v if v == v and v not in (float("inf"), float("-inf")) else None


def _round(v: float | None) -> float | None:
    return None if v is None else round(v, 3)
