"""What the ``silence`` and ``alerts`` verbs share: finding the daemon's store, times, errors.

The store is the one the daemon writes: ``--db PATH`` if given; else the ``store:`` of the
``--config`` file (``alerting.db_path`` if set there), with ``RISKMON_*`` variables winning over
the file exactly as for ``riskmon run``; without ``--config``, ``$RISKMON_DB`` (kept for existing
deployments), else the ``RISKMON_*`` variables over the defaults (``./riskmon.db``). A store that
does not exist is refused (one line, exit 2): these verbs never create an empty store that the
daemon would not read.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from alerts.rules.loader import parse_duration_ns
from alerts.store import Store, StoreError
from streams.units import NS_PER_SECOND

__all__ = [
    "UsageError",
    "add_store_options",
    "fmt_ago",
    "fmt_ns",
    "open_store",
    "parse_time_ns",
    "store_path",
    "wrap",
]

Handler = Callable[[argparse.Namespace, TextIO], int]


class UsageError(Exception):
    """Bad input: printed as ``error: MESSAGE``, exit 2."""


def fmt_ns(ns: int | None) -> str:
    """``YYYY-MM-DD HH:MM:SS`` in UTC, or ``-``."""
    if ns is None:
        return "-"
    return datetime.fromtimestamp(ns / NS_PER_SECOND, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


def fmt_ago(ns: int, now_ns: int) -> str:
    """How long before ``now_ns``, in its two largest units (``3d 4h``, ``2h 0m``, ``5s``;
    ``in 1h 0m`` for the future)."""
    rest = abs(now_ns - ns) // NS_PER_SECOND
    parts: list[str] = []
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)):
        if parts or rest >= size or size == 1:
            parts.append(f"{rest // size}{unit}")
            rest %= size
            if len(parts) == 2:
                break
    text = " ".join(parts)
    return f"in {text}" if ns > now_ns else f"{text} ago"


_RELATIVE = re.compile(r"^(\d+(\.\d+)?(ms|s|m|h|d|w))+$")


def parse_time_ns(text: str, flag: str, now_ns: int) -> int:
    """An ISO time (UTC unless it has an offset) or a duration before now (``2h``, ``3d``)."""
    if _RELATIVE.match(text.strip()):
        try:
            return now_ns - parse_duration_ns(text.strip())
        except ValueError as e:
            raise UsageError(f"{flag}: {e}") from None
    try:
        t = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"{flag}: not an ISO time or a duration like 2h: {text!r}") from None
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return int(t.timestamp() * NS_PER_SECOND)


def add_store_options(p: argparse.ArgumentParser) -> None:
    """Add ``--config`` and ``--db``: where the daemon's store is."""
    p.add_argument(
        "--config",
        metavar="FILE",
        default=None,
        help="the daemon's YAML settings: use its store (RISKMON_* variables win, as for run)",
    )
    p.add_argument(
        "--db",
        metavar="PATH",
        default=None,
        help="the alert store (SQLite) itself; overrides --config",
    )


def store_path(args: argparse.Namespace) -> Path:
    """The daemon's store path for these arguments (see the module docstring)."""
    from pydantic import ValidationError

    from monitor.cli.common import first_line
    from monitor.settings import ConfigError, load_settings
    from monitor.wiring import alert_settings

    if args.db:
        return Path(args.db)
    if args.config is None and os.environ.get("RISKMON_DB"):
        return Path(os.environ["RISKMON_DB"])
    try:
        return Path(alert_settings(load_settings(args.config)).db_path)
    except ConfigError as e:
        raise UsageError(str(e)) from None
    except ValidationError as e:
        raise UsageError(f"{args.config or 'settings'}: alerting: {first_line(e)}") from None


def open_store(args: argparse.Namespace) -> Store:
    """Open the daemon's existing store; :class:`UsageError` when there is none."""
    path = store_path(args)
    if not path.is_file():
        where = f" (from {args.config})" if args.config and not args.db else ""
        raise UsageError(
            f"no alert store at {path}{where}; the daemon creates it: give the daemon's"
            " --config FILE or --db PATH"
        )
    return Store.open(path)


def now_ns() -> int:
    """The wall clock (silences and history filters are wall-clock times)."""
    return time.time_ns()


def wrap(handler: Handler) -> Callable[[argparse.Namespace], int]:
    """Run a handler on stdout; one ``error:`` line on stderr for bad input or a bad store."""

    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args, sys.stdout)
        except UsageError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        except StoreError as e:
            print(f"error: {e}", file=sys.stderr)
            return 1

    return run
