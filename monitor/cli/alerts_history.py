"""``riskmon alerts list|show``: read the alert history of the daemon's store.

``list`` shows each alert's first-fired and last-changed times in UTC and filters by rule,
severity, label and time; ``show`` prints one alert with its state changes and notifications in
human times (``--json`` for the machine form). Times are event times (live: the wall clock).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from alerts.model import AlertNotice
from alerts.store import AlertHistoryRow
from monitor.cli.alert_store import (
    UsageError,
    add_store_options,
    fmt_ago,
    fmt_ns,
    now_ns,
    open_store,
    parse_time_ns,
    wrap,
)
from monitor.cli.common import add_command_group

__all__ = ["register_alerts"]


def _labels(values: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for v in values:
        key, sep, value = v.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--label: expected KEY=VALUE, got {v!r}")
        out[key.strip()] = value.strip()
    return out


def _row_json(h: AlertHistoryRow) -> dict[str, Any]:
    r = h.alert
    return {
        "fingerprint": r.fingerprint,
        "rule": r.rule,
        "severity": r.severity,
        "status": r.status,
        "labels": r.labels,
        "value": r.value,
        "starts_at": r.starts_at,
        "ends_at": r.ends_at,
        "summary": r.summary,
        "first_fired_at": h.first_fired_ns,
        "last_changed_at": h.last_changed_ns,
    }


def _alerts_list(args: argparse.Namespace, out: TextIO) -> int:
    now = now_ns()
    since = parse_time_ns(args.since, "--since", now) if args.since else None
    until = parse_time_ns(args.until, "--until", now) if args.until else None
    labels = _labels(args.label or [])
    if args.limit < 1:
        raise UsageError("--limit: must be at least 1")
    store = open_store(args)
    try:
        rows = store.history(
            status=args.status,
            rules=args.rule or (),
            severities=args.severity or (),
            labels=labels,
            since_ns=since,
            until_ns=until,
            limit=args.limit,
        )
    finally:
        store.close()
    if args.json:
        for h in rows:
            out.write(json.dumps(_row_json(h)) + "\n")
        return 0
    if not rows:
        out.write("no alerts\n")
        return 0
    out.write(
        f"{'FINGERPRINT':<16}  {'STATUS':<8}  {'SEVERITY':<9}  {'FIRST FIRED (UTC)':<19}  "
        f"{'LAST CHANGED (UTC)':<19}  {'RULE':<28}  SUMMARY\n"
    )
    for h in rows:
        r = h.alert
        sev = r.severity + ("*" if r.labels.get("tier") == "extreme" else "")
        out.write(
            f"{r.fingerprint:<16}  {r.status:<8}  {sev:<9}  {fmt_ns(h.first_fired_ns):<19}  "
            f"{fmt_ns(h.last_changed_ns):<19}  {r.rule:<28}  {r.summary}\n"
        )
    return 0


def _when(ns: int | None, now: int) -> str:
    return "-" if ns is None else f"{fmt_ns(ns)} UTC ({fmt_ago(ns, now)})"


def _show_text(
    r: AlertNotice, events: list[dict[str, Any]], notes: list[dict[str, Any]], out: TextIO
) -> None:
    now = now_ns()
    sev = r.severity + (" (extreme tier)" if r.labels.get("tier") == "extreme" else "")
    out.write(f"{r.rule}  {r.status.upper()}  {sev}\n")
    out.write(f"  fingerprint  {r.fingerprint}\n")
    out.write(f"  summary      {r.summary}\n")
    out.write(f"  value        {r.value:g}\n")
    out.write(f"  fired        {_when(r.starts_at, now)}\n")
    if r.status == "resolved":
        out.write(f"  resolved     {_when(r.ends_at, now)}\n")
    out.write("  labels       " + ", ".join(f"{k}={v}" for k, v in sorted(r.labels.items())) + "\n")
    for k, v in sorted(r.annotations.items()):
        if k != "summary":
            out.write(f"  {k:<12} {v}\n")
    out.write("history (UTC):\n")
    for e in events:
        at = e["ends_at"] if e["status"] == "resolved" else e["starts_at"]
        out.write(f"  {fmt_ns(at)}  {e['status']:<8}  value {e['value']:g}  {e['summary']}\n")
    out.write("notifications (UTC):\n" if notes else "notifications: none\n")
    for n in notes:
        when = fmt_ns(n["delivered_ns"]) if n["delivered_ns"] is not None else "-" * 19
        err = f"  last error: {n['last_error']}" if n["last_error"] else ""
        out.write(
            f"  {when}  {n['receiver']:<16}  {n['state']:<10}  attempts {n['attempts']}{err}\n"
        )


def _alerts_show(args: argparse.Namespace, out: TextIO) -> int:
    store = open_store(args)
    try:
        r = store.alert(args.fingerprint)
        if r is None:
            print(f"error: no single alert matches {args.fingerprint!r}", file=sys.stderr)
            return 1
        events = store.alert_events(r.fingerprint)
        notes = [
            {
                "receiver": n.receiver,
                "state": n.state,
                "attempts": n.attempts,
                "idempotency_key": n.idempotency_key,
                "delivered_ns": n.delivered_ns,
                "last_error": n.last_error,
            }
            for n in store.notifications_for(r.fingerprint)
        ]
    finally:
        store.close()
    if not args.json:
        _show_text(r, events, notes, out)
        return 0
    doc: dict[str, Any] = {
        "fingerprint": r.fingerprint,
        "rule": r.rule,
        "severity": r.severity,
        "status": r.status,
        "labels": r.labels,
        "annotations": r.annotations,
        "value": r.value,
        "summary": r.summary,
        "starts_at": r.starts_at,
        "ends_at": r.ends_at,
        "history": events,
        "notifications": notes,
    }
    out.write(json.dumps(doc, indent=2) + "\n")
    return 0


def register_alerts(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``riskmon alerts list|show``."""
    fmt = argparse.RawDescriptionHelpFormatter
    asub = add_command_group(
        subparsers, "alerts", help="read the alert history", description="Read the alert history."
    )
    alst = asub.add_parser(
        "list",
        help="list alerts, most recently changed first",
        description="List stored alerts, most recently changed first, with when each first\n"
        "fired and last changed (UTC). A '*' after the severity marks the extreme tier.\n"
        "Filters combine; --rule, --severity and --label repeat. --since/--until take an\n"
        "ISO time (UTC unless it has an offset) or a duration before now (30m, 2h, 1d)\n"
        "and select by the last change.",
        formatter_class=fmt,
        epilog="examples:\n"
        "  riskmon alerts list --config /etc/riskmon/riskmon.yaml --status firing\n"
        "  riskmon alerts list --rule stablecoin_depeg --severity critical --since 2h\n"
        "  riskmon alerts list --label venue=bybit-linear --since 2025-11-21T00:00 "
        "--until 2025-11-22T00:00",
    )
    alst.add_argument("--status", choices=["firing", "resolved"], help="filter by status")
    alst.add_argument("--rule", action="append", metavar="NAME", help="only this rule")
    alst.add_argument(
        "--severity",
        action="append",
        choices=["info", "warning", "critical"],
        help="only this severity",
    )
    alst.add_argument("--label", action="append", metavar="KEY=VALUE", help="label equals value")
    alst.add_argument("--since", metavar="TIME", help="changed at or after (ISO or 2h)")
    alst.add_argument("--until", metavar="TIME", help="changed at or before (ISO or 2h)")
    alst.add_argument("-n", "--limit", type=int, default=50, help="at most N alerts (50)")
    alst.add_argument("--json", action="store_true", help="one JSON object per line")
    add_store_options(alst)
    alst.set_defaults(func=wrap(_alerts_list))
    show = asub.add_parser(
        "show",
        help="show one alert with its history and notifications",
        description="Show one alert (by fingerprint or unique prefix): labels, annotations,\n"
        "state changes and notifications with their delivery state, times in UTC\n"
        "(--json: the same as JSON, times in ns).",
        formatter_class=fmt,
    )
    show.add_argument("fingerprint", help="alert fingerprint or a unique prefix")
    show.add_argument("--json", action="store_true", help="print JSON")
    add_store_options(show)
    show.set_defaults(func=wrap(_alerts_show))
