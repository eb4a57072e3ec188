"""``riskmon rules``, ``silence`` and ``alerts``: check rule files, mute alerts, read the history.

These verbs work on rule files and on the alert store (SQLite) the daemon writes, found from the
daemon's own settings (:mod:`monitor.cli.alert_store`); they never start the daemon and never
create a store. Every handler returns an exit code; bad input prints one line ``error: ...`` on
stderr (no traceback) and returns a non-zero code: 1 for invalid rules / not found, 2 for usage
errors (a missing store included). ``alerts list|show`` are in :mod:`monitor.cli.alerts_history`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime
from typing import TextIO

from alerts.export.cli import add_export_command
from alerts.matchers import MatcherError, parse_matcher
from alerts.rules import RuleError, load_pack, load_rules
from alerts.rules.loader import parse_duration_ns
from monitor.cli.alert_store import (
    UsageError,
    add_store_options,
    fmt_ns,
    now_ns,
    open_store,
    wrap,
)
from monitor.cli.alerts_history import register_alerts
from monitor.cli.common import add_command_group
from monitor.cli.signals import add_signals_command
from streams.units import NS_PER_SECOND

__all__ = ["register"]


# --- rules ------------------------------------------------------------------------------------


def _rules_check(args: argparse.Namespace, out: TextIO) -> int:
    failed = False
    targets: list[tuple[str, bool]] = [(f, False) for f in args.files] + [
        (p, True) for p in args.pack or []
    ]
    if not targets:
        raise UsageError("give at least one FILE or --pack NAME")
    for target, is_pack in targets:
        try:
            rs = load_pack(target) if is_pack else load_rules(target)
        except RuleError as e:
            failed = True
            for problem in e.problems:
                print(f"error: {problem}", file=sys.stderr)
            continue
        names = {r.name for r in rs.rules}
        out.write(
            f"ok: {target}: {len(names)} rules, {len(rs.rules)} alert levels,"
            f" {len(rs.inhibit)} inhibition rules\n"
        )
        if args.verbose:
            for r in rs.rules:
                tier = " tier=extreme" if r.labels.get("tier") == "extreme" else ""
                out.write(f"  {r.id:<42} {r.severity:<8}{tier}  ({r.source})\n")
    return 1 if failed else 0


# --- silences ---------------------------------------------------------------------------------


def _silence_add(args: argparse.Namespace, out: TextIO) -> int:
    try:
        matchers = [parse_matcher(m) for m in args.matchers]
    except MatcherError as e:
        raise UsageError(str(e)) from None
    now = now_ns()
    if args.until is not None:
        try:
            until = datetime.fromisoformat(args.until)
        except ValueError:
            raise UsageError(f"--until: not an ISO time: {args.until!r}") from None
        if until.tzinfo is None:
            until = until.replace(tzinfo=UTC)
        ends = int(until.timestamp() * NS_PER_SECOND)
    else:
        try:
            ends = now + parse_duration_ns(args.duration)
        except ValueError as e:
            raise UsageError(f"--duration: {e}") from None
    if ends <= now:
        raise UsageError("the silence would end in the past")
    store = open_store(args)
    try:
        s = store.add_silence(matchers, now, ends, args.author, args.comment, now)
    finally:
        store.close()
    out.write(f"{s.id}\n")
    if not args.quiet:
        print(
            f"silence {s.id} until {fmt_ns(ends)} UTC: {', '.join(map(str, matchers))}",
            file=sys.stderr,
        )
    return 0


def _silence_list(args: argparse.Namespace, out: TextIO) -> int:
    store = open_store(args)
    try:
        now = now_ns()
        rows = store.silences(include_expired=args.all, now_ns=now)
    finally:
        store.close()
    if args.json:
        for s in rows:
            out.write(
                json.dumps(
                    {
                        "id": s.id,
                        "matchers": [str(m) for m in s.matchers],
                        "starts_ns": s.starts_ns,
                        "ends_ns": s.ends_ns,
                        "created_by": s.created_by,
                        "comment": s.comment,
                        "active": s.active(now),
                    }
                )
                + "\n"
            )
        return 0
    if not rows:
        out.write("no silences\n")
        return 0
    out.write(f"{'ID':<12}  {'ENDS (UTC)':<19}  {'STATE':<7}  MATCHERS / COMMENT\n")
    for s in rows:
        state = "active" if s.active(now) else ("expired" if s.ends_ns <= now else "pending")
        ms = ", ".join(map(str, s.matchers))
        out.write(f"{s.id:<12}  {fmt_ns(s.ends_ns):<19}  {state:<7}  {ms}  # {s.comment}\n")
    return 0


def _silence_expire(args: argparse.Namespace, out: TextIO) -> int:
    store = open_store(args)
    try:
        ok = store.expire_silence(args.id, now_ns())
    finally:
        store.close()
    if not ok:
        print(f"error: no active silence with id {args.id!r}", file=sys.stderr)
        return 1
    out.write(f"expired {args.id}\n")
    return 0


# --- registration -----------------------------------------------------------------------------


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``rules``, ``silence`` and ``alerts`` commands to a subparsers action.

    Each leaf parser sets ``func``: call ``sys.exit(args.func(args))`` after parsing.
    """
    fmt = argparse.RawDescriptionHelpFormatter

    rsub = add_command_group(
        subparsers,
        "rules",
        help="work with alert rule files",
        description="Work with alert rule files.",
    )
    check = rsub.add_parser(
        "check",
        help="validate rule files or packs",
        formatter_class=fmt,
        description="Validate alert rule files (YAML) or shipped packs.\n\n"
        "Every problem is printed as FILE:LINE:COLUMN: FIELD: MESSAGE. Exit code 0 if all\n"
        "are valid, 1 otherwise.",
        epilog="examples:\n  riskmon rules check deploy/rules/*.yaml\n"
        "  riskmon rules check --pack november-2025 -v",
    )
    check.add_argument("files", nargs="*", metavar="FILE", help="rule file or directory")
    check.add_argument(
        "--pack", action="append", metavar="NAME", help="check a shipped pack (repeatable)"
    )
    check.add_argument("-v", "--verbose", action="store_true", help="list every alert level")
    check.set_defaults(func=wrap(_rules_check))
    add_export_command(rsub)  # riskmon rules export (alerts/export)
    add_signals_command(rsub)  # riskmon rules signals (the signal catalogue)

    ssub = add_command_group(
        subparsers,
        "silence",
        help="mute alerts by label matchers",
        description="Create, list and expire silences in the daemon's alert store (found from\n"
        "--config FILE and the RISKMON_* variables as for `riskmon run`, or --db PATH). The\n"
        "running daemon re-reads silences every 5 s.",
        formatter_class=fmt,
    )
    add = ssub.add_parser(
        "add",
        help="create a silence",
        formatter_class=fmt,
        description="Create a silence: alerts matching ALL matchers are not notified until it\n"
        "ends. Matchers use Alertmanager syntax: name=value, name!=value, name=~regex,\n"
        "name!~regex; 'alertname' is the rule name. Prints the new silence id on stdout.",
        epilog="examples:\n"
        "  riskmon silence add alertname=feed_stale venue=bybit-linear -d 2h -c 'maintenance'\n"
        "  riskmon silence add --config /etc/riskmon/riskmon.yaml asset=ETH -d 30m",
    )
    add.add_argument("matchers", nargs="+", metavar="MATCHER", help="label matcher")
    add.add_argument(
        "-d", "--duration", default="1h", help="how long, e.g. 30m, 2h, 1d (default 1h)"
    )
    add.add_argument("--until", metavar="ISO_TIME", help="end time instead of --duration (UTC)")
    add.add_argument("-c", "--comment", default="", help="why (shown in lists)")
    add.add_argument(
        "-a", "--author", default=os.environ.get("USER", "unknown"), help="who (default $USER)"
    )
    add.add_argument("-q", "--quiet", action="store_true", help="print only the id")
    add_store_options(add)
    add.set_defaults(func=wrap(_silence_add))
    lst = ssub.add_parser("list", help="list silences", description="List silences.")
    lst.add_argument("--all", action="store_true", help="include expired silences")
    lst.add_argument("--json", action="store_true", help="one JSON object per line")
    add_store_options(lst)
    lst.set_defaults(func=wrap(_silence_list))
    exp = ssub.add_parser(
        "expire", help="end a silence now", description="End a silence now (id or id prefix)."
    )
    exp.add_argument("id", help="silence id (or a unique prefix)")
    add_store_options(exp)
    exp.set_defaults(func=wrap(_silence_expire))

    register_alerts(subparsers)  # riskmon alerts list|show (monitor/cli/alerts_history.py)
