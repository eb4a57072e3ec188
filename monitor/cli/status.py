"""``riskmon status``: a glance at a running daemon, from the ``/status`` endpoint it serves.

Feeds by venue (state, age), the key signals per asset, peg medians and quorum, firing alerts
with their age: as tables, as the endpoint's JSON (``--json``), or refreshed (``--watch N``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any

from monitor.cli.common import CliError, add_config_option, add_verb

if TYPE_CHECKING:
    from rich.console import Group

__all__ = ["add_status", "fetch_status", "render_status"]

_TIMEOUT_S = 5.0
_EXAMPLES = (
    "examples: riskmon status --config /etc/riskmon/riskmon.yaml; "
    "riskmon status --url http://127.0.0.1:9464 --json; riskmon status --watch 5"
)


def _status_url(args: argparse.Namespace) -> str:
    if args.url:
        url: str = args.url.rstrip("/")
        return url if url.endswith("/status") else url + "/status"
    from monitor.settings import ConfigError, load_settings

    try:
        settings = load_settings(args.config)
    except ConfigError as e:
        raise CliError(str(e)) from e
    m = settings.metrics
    if not m.enabled:
        raise CliError(f"{args.config or 'settings'}: metrics are disabled: no /status to read")
    host = "127.0.0.1" if m.host in ("", "0.0.0.0") else ("[::1]" if m.host == "::" else m.host)
    return f"http://{host}:{m.port}/status"


def fetch_status(url: str) -> dict[str, Any]:
    """The JSON body of a daemon's ``/status``; :class:`CliError` when it cannot be read."""
    try:
        with urllib.request.urlopen(url, timeout=_TIMEOUT_S) as resp:  # noqa: S310 (user's URL)
            body = json.loads(resp.read())
    except urllib.error.HTTPError as e:
        raise CliError(f"{url}: HTTP {e.code} (is it a riskmon daemon?)") from e
    except urllib.error.URLError as e:
        reason = getattr(e.reason, "strerror", None) or str(e.reason)
        raise CliError(f"cannot reach the daemon at {url}: {reason}") from e
    except (OSError, ValueError) as e:
        raise CliError(f"cannot read {url}: {e}") from e
    if not isinstance(body, dict) or "feeds" not in body:
        raise CliError(f"{url}: not a riskmon status (no feeds)")
    return body


def _num(v: Any, fmt: str, suffix: str = "") -> str:
    return "–" if v is None else f"{v:{fmt}}{suffix}"


def _usd(v: Any) -> str:
    if v is None:
        return "–"
    for scale, unit in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= scale:
            return f"${v / scale:,.1f}{unit}"
    return f"${v:,.0f}"


def _age(v: Any) -> str:
    if v is None:
        return "–"
    s = float(v)
    if s < 120:
        return f"{s:.0f}s"
    if s < 7200:
        return f"{s / 60:.0f}m"
    return f"{s / 3600:.1f}h"


def render_status(body: dict[str, Any], url: str) -> Group:
    """The status as rich tables: feeds, assets, pegs, firing alerts."""
    from rich import box
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    from monitor.backtest.summary import iso_utc

    now = body.get("now_ns")
    head = Text(
        f"riskmon status  {url}  at {iso_utc(now) if now else '?'}  events {body.get('events')}",
        style="bold",
    )
    feeds = Table(title="feeds", box=box.SIMPLE, title_justify="left")
    for col in ("venue", "state", "age", "channels (age)"):
        feeds.add_column(col)
    for venue, f in body["feeds"].items():
        state = str(f.get("state"))
        style = "green" if state == "subscribed" else "yellow" if state == "connected" else "red"
        chans = ", ".join(f"{c} {_age(a)}" for c, a in sorted(f.get("channels", {}).items()))
        feeds.add_row(venue, Text(state, style=style), _age(f.get("age_s")), chans)
    assets = Table(title="assets", box=box.SIMPLE, title_justify="left")
    for col in (
        "asset",
        "delev. score",
        "OI",
        "OI vs peak",
        "liq 1h",
        "liq 24h",
        "long share",
        "funding 8h",
        "price",
        "drawdown",
    ):
        assets.add_column(col, justify="left" if col == "asset" else "right")
    for asset, a in body.get("assets", {}).items():
        funding = a.get("funding_rate_8h")
        assets.add_row(
            asset,
            _num(a.get("deleveraging_score"), ".0f"),
            _usd(a.get("oi_usd")),
            _num(a.get("oi_drawdown_pct"), "+.1f", "%"),
            _usd(a.get("liq_usd_1h")),
            _usd(a.get("liq_usd_24h")),
            _num(
                None if a.get("liq_long_share_1h") is None else a["liq_long_share_1h"] * 100,
                ".0f",
                "%",
            ),
            _num(None if funding is None else funding * 100, "+.4f", "%"),
            "–" if a.get("price_ref") is None else f"${a['price_ref']:,.2f}",
            _num(a.get("price_drawdown_pct"), "+.1f", "%"),
        )
    pegs = Table(title="pegs", box=box.SIMPLE, title_justify="left")
    for col in ("coin", "median dev.", "venues", "deviating ≥30/100/300 bps"):
        pegs.add_column(col, justify="left" if col == "coin" else "right")
    for coin, p in body.get("pegs", {}).items():
        dev = p.get("venues_deviating", {})
        pegs.add_row(
            coin,
            _num(p.get("median_deviation_bps"), "+.1f", " bps"),
            _num(p.get("venues"), "d"),
            " / ".join(_num(dev.get(t), "d") for t in ("30", "100", "300")),
        )
    alerts = Table(title="firing alerts", box=box.SIMPLE, title_justify="left")
    for col in ("severity", "rule", "labels", "age", "summary"):
        alerts.add_column(col, overflow="fold", ratio=3 if col == "summary" else None)
    colours = {"critical": "bold red", "warning": "yellow", "info": "cyan"}
    for a in body.get("alerts", []):
        labels = ",".join(
            f"{k}={v}" for k, v in sorted(a.get("labels", {}).items()) if k != "severity"
        )
        sev = str(a.get("severity"))
        alerts.add_row(
            Text(sev, style=colours.get(sev, "")),
            str(a.get("rule")),
            labels,
            _age(a.get("age_s")),
            str(a.get("summary", "")),
        )
    if not body.get("alerts"):
        alerts.add_row("", Text("none firing", style="green"), "", "", "")
    return Group(head, feeds, assets, pegs, alerts)


def _cmd_status(args: argparse.Namespace) -> int:
    """A glance at a running daemon: feeds, key signals per asset, pegs, firing alerts.

    Read a running daemon's /status endpoint (served beside /metrics) and show its feeds by venue
    (state, age of the newest event), the key signals per asset (deleveraging score, OI vs its
    peak, liquidations 1 h / 24 h and long share, OI-weighted funding, price drawdown), peg
    medians and quorum, and the firing alerts with their age.
    """
    from rich.console import Console

    if args.watch is not None and args.watch <= 0:
        raise CliError("--watch must be a positive number of seconds")
    url = _status_url(args)
    if args.json:
        while True:
            print(json.dumps(fetch_status(url)), flush=True)
            if args.watch is None:
                return 0
            time.sleep(args.watch)
    console = Console(width=None if sys.stdout.isatty() else 200)  # piped: no 80-column wrap
    if args.watch is None:
        console.print(render_status(fetch_status(url), url))
        return 0
    from rich.live import Live

    try:
        with Live(render_status(fetch_status(url), url), console=console) as live:
            while True:
                time.sleep(args.watch)
                live.update(render_status(fetch_status(url), url))
    except KeyboardInterrupt:
        return 0


def add_status(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``riskmon status``."""
    s = add_verb(sub, "status", _cmd_status, _EXAMPLES)
    s.add_argument(
        "--url",
        metavar="URL",
        help="the daemon's HTTP address, e.g. http://127.0.0.1:9464 (default: the metrics "
        "address of --config)",
    )
    add_config_option(
        s,
        "YAML settings file whose metrics host/port to read (default: built-in settings and "
        "RISKMON_* variables)",
    )
    s.add_argument("--json", action="store_true", help="print the endpoint's JSON (one line)")
    s.add_argument(
        "--watch",
        type=float,
        default=None,
        metavar="SECONDS",
        help="refresh every SECONDS until Ctrl-C (with --json: one JSON line per refresh)",
    )
