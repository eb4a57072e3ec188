"""``riskmon rules``, ``silence`` and ``alerts``: check rule files, mute alerts, read the history.

These verbs work on rule files and on the alert store (SQLite) the daemon writes; they never
start the daemon. Every handler returns an exit code; bad input prints one line ``error: ...`` on
stderr (no traceback) and returns a non-zero code: 1 for invalid rules / not found, 2 for usage
errors.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from alerts.export.cli import add_export_command
from alerts.matchers import MatcherError, parse_matcher
from alerts.rules import RuleError, load_pack, load_rules
from alerts.rules.loader import parse_duration_ns
from alerts.store import Store, StoreError
from monitor.cli.signals import add_signals_command
from streams.units import NS_PER_SECOND

__all__ = ["default_db_path", "register"]


def default_db_path() -> str:
    """Return the store path: ``$RISKMON_DB`` or ``riskmon.db`` in the current directory."""
    return os.environ.get("RISKMON_DB") or "riskmon.db"


class _UsageError(Exception):
    pass


def _fmt_ns(ns: int | None) -> str:
    if ns is None:
        return "-"
    return datetime.fromtimestamp(ns / NS_PER_SECOND, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


def _add_db(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--db",
        metavar="PATH",
        default=None,
        help="alert store (SQLite) path; default $RISKMON_DB or ./riskmon.db",
    )


def _open(args: argparse.Namespace, must_exist: bool) -> Store:
    path = args.db or default_db_path()
    if must_exist and not Path(path).exists():
        raise _UsageError(f"no alert store at {path} (use --db PATH or set RISKMON_DB)")
    return Store.open(path)


# --- rules ------------------------------------------------------------------------------------


def _rules_check(args: argparse.Namespace, out: TextIO) -> int:
    failed = False
    targets: list[tuple[str, bool]] = [(f, False) for f in args.files] + [
        (p, True) for p in args.pack or []
    ]
    if not targets:
        raise _UsageError("give at least one FILE or --pack NAME")
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
        raise _UsageError(str(e)) from None
    now = time.time_ns()
    if args.until is not None:
        try:
            until = datetime.fromisoformat(args.until)
        except ValueError:
            raise _UsageError(f"--until: not an ISO time: {args.until!r}") from None
        if until.tzinfo is None:
            until = until.replace(tzinfo=UTC)
        ends = int(until.timestamp() * NS_PER_SECOND)
    else:
        try:
            ends = now + parse_duration_ns(args.duration)
        except ValueError as e:
            raise _UsageError(f"--duration: {e}") from None
    if ends <= now:
        raise _UsageError("the silence would end in the past")
    store = _open(args, must_exist=False)
    try:
        s = store.add_silence(matchers, now, ends, args.author, args.comment, now)
    finally:
        store.close()
    out.write(f"{s.id}\n")
    if not args.quiet:
        print(
            f"silence {s.id} until {_fmt_ns(ends)} UTC: {', '.join(map(str, matchers))}",
            file=sys.stderr,
        )
    return 0


def _silence_list(args: argparse.Namespace, out: TextIO) -> int:
    store = _open(args, must_exist=False)
    try:
        now = time.time_ns()
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
        out.write(f"{s.id:<12}  {_fmt_ns(s.ends_ns):<19}  {state:<7}  {ms}  # {s.comment}\n")
    return 0


def _silence_expire(args: argparse.Namespace, out: TextIO) -> int:
    store = _open(args, must_exist=True)
    try:
        ok = store.expire_silence(args.id, time.time_ns())
    finally:
        store.close()
    if not ok:
        print(f"error: no active silence with id {args.id!r}", file=sys.stderr)
        return 1
    out.write(f"expired {args.id}\n")
    return 0


# --- alerts -----------------------------------------------------------------------------------


def _alerts_list(args: argparse.Namespace, out: TextIO) -> int:
    store = _open(args, must_exist=True)
    try:
        rows = store.alerts(status=args.status, limit=args.limit)
    finally:
        store.close()
    if args.json:
        for r in rows:
            out.write(
                json.dumps(
                    {
                        "fingerprint": r.fingerprint,
                        "rule": r.rule,
                        "severity": r.severity,
                        "status": r.status,
                        "labels": r.labels,
                        "value": r.value,
                        "starts_at": r.starts_at,
                        "ends_at": r.ends_at,
                        "summary": r.summary,
                    }
                )
                + "\n"
            )
        return 0
    if not rows:
        out.write("no alerts\n")
        return 0
    out.write(f"{'FINGERPRINT':<16}  {'STATUS':<8}  {'SEVERITY':<8}  {'RULE':<28}  SUMMARY\n")
    for r in rows:
        sev = r.severity + ("*" if r.labels.get("tier") == "extreme" else "")
        out.write(f"{r.fingerprint:<16}  {r.status:<8}  {sev:<8}  {r.rule:<28}  {r.summary}\n")
    return 0


def _alerts_show(args: argparse.Namespace, out: TextIO) -> int:
    store = _open(args, must_exist=True)
    try:
        r = store.alert(args.fingerprint)
        if r is None:
            print(f"error: no single alert matches {args.fingerprint!r}", file=sys.stderr)
            return 1
        events = store.alert_events(r.fingerprint)
        notes = store.notifications_for(r.fingerprint)
    finally:
        store.close()
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
        "notifications": [
            {
                "receiver": n.receiver,
                "state": n.state,
                "attempts": n.attempts,
                "idempotency_key": n.idempotency_key,
                "delivered_ns": n.delivered_ns,
                "last_error": n.last_error,
            }
            for n in notes
        ],
    }
    out.write(json.dumps(doc, indent=2) + "\n")
    return 0


# --- registration -----------------------------------------------------------------------------


def _wrap(handler: Any) -> Any:
    def run(args: argparse.Namespace) -> int:
        try:
            code: int = handler(args, sys.stdout)
        except _UsageError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        except StoreError as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
        return code

    return run


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``rules``, ``silence`` and ``alerts`` commands to a subparsers action.

    Each leaf parser sets ``func``: call ``sys.exit(args.func(args))`` after parsing.
    """
    fmt = argparse.RawDescriptionHelpFormatter

    rules = subparsers.add_parser(
        "rules", help="work with alert rule files", description="Work with alert rule files."
    )
    rsub = rules.add_subparsers(dest="rules_command", metavar="COMMAND", required=True)
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
    check.set_defaults(func=_wrap(_rules_check))
    add_export_command(rsub)  # riskmon rules export (alerts/export)
    add_signals_command(rsub)  # riskmon rules signals (the signal catalogue)

    sil = subparsers.add_parser(
        "silence",
        help="mute alerts by label matchers",
        description="Create, list and expire silences in the alert store.",
    )
    ssub = sil.add_subparsers(dest="silence_command", metavar="COMMAND", required=True)
    add = ssub.add_parser(
        "add",
        help="create a silence",
        formatter_class=fmt,
        description="Create a silence: alerts matching ALL matchers are not notified until it\n"
        "ends. Matchers use Alertmanager syntax: name=value, name!=value, name=~regex,\n"
        "name!~regex; 'alertname' is the rule name. Prints the new silence id on stdout.",
        epilog="example:\n"
        "  riskmon silence add alertname=feed_stale venue=bybit -d 2h -c 'maintenance'",
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
    _add_db(add)
    add.set_defaults(func=_wrap(_silence_add))
    lst = ssub.add_parser("list", help="list silences", description="List silences.")
    lst.add_argument("--all", action="store_true", help="include expired silences")
    lst.add_argument("--json", action="store_true", help="one JSON object per line")
    _add_db(lst)
    lst.set_defaults(func=_wrap(_silence_list))
    exp = ssub.add_parser(
        "expire", help="end a silence now", description="End a silence now (id or id prefix)."
    )
    exp.add_argument("id", help="silence id (or a unique prefix)")
    _add_db(exp)
    exp.set_defaults(func=_wrap(_silence_expire))

    al = subparsers.add_parser(
        "alerts", help="read the alert history", description="Read the alert history."
    )
    asub = al.add_subparsers(dest="alerts_command", metavar="COMMAND", required=True)
    alst = asub.add_parser(
        "list",
        help="list alerts, newest first",
        description="List stored alerts, most recently changed first. A '*' after the\n"
        "severity marks the extreme tier.",
        formatter_class=fmt,
    )
    alst.add_argument("--status", choices=["firing", "resolved"], help="filter by status")
    alst.add_argument("-n", "--limit", type=int, default=50, help="at most N alerts (50)")
    alst.add_argument("--json", action="store_true", help="one JSON object per line")
    _add_db(alst)
    alst.set_defaults(func=_wrap(_alerts_list))
    show = asub.add_parser(
        "show",
        help="show one alert with its history and notifications",
        description="Show one alert (by fingerprint or unique prefix) as JSON: labels,\n"
        "annotations, state changes and notifications with their delivery state.",
        formatter_class=fmt,
    )
    show.add_argument("fingerprint", help="alert fingerprint or a unique prefix")
    _add_db(show)
    show.set_defaults(func=_wrap(_alerts_show))
