"""What every ``riskmon`` verb shares: the one-line user error, rule loading, input files, options.

A verb raises :class:`CliError` for bad input; :func:`monitor.cli.main` prints it as
``riskmon: error: MESSAGE`` on stderr and exits with :data:`EXIT_USAGE` (no traceback).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from alerts.rules import RuleSet

__all__ = [
    "EXIT_USAGE",
    "CliError",
    "add_rules_option",
    "add_seed_option",
    "first_line",
    "load_rules_or_fail",
    "open_input",
]

EXIT_USAGE = 2


class CliError(Exception):
    """A user error: printed as one line, exit code 2."""


def first_line(e: Exception) -> str:
    """The first line of an exception's message (its type name when it has none)."""
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def load_rules_or_fail(name: str) -> RuleSet:
    """The rule pack ``name`` or the rule file at ``name``; :class:`CliError` when invalid."""
    from alerts.rules import RuleError, load_ruleset

    try:
        return load_ruleset(name)
    except RuleError as e:
        raise CliError(first_line(e)) from e
    except (OSError, KeyError, ValueError) as e:
        raise CliError(f"cannot load rules {name!r}: {e}") from e


@contextlib.contextmanager
def open_input(path: str) -> Iterator[IO[str]]:
    """A capture or frame file (``.gz`` ok) opened as text, or stdin for ``-``."""
    from monitor.capture import open_text

    if path == "-":
        yield sys.stdin
        return
    try:
        fh = open_text(path)
    except OSError as e:
        raise CliError(f"cannot read {path}: {e.strerror or e}") from e
    with fh:
        yield fh


def add_seed_option(p: argparse.ArgumentParser) -> None:
    """Add ``--seed``, the scenario seed of the verbs that play scenarios."""
    p.add_argument("--seed", type=int, default=7, help="scenario seed (default: 7)")


def add_rules_option(p: argparse.ArgumentParser) -> None:
    """Add ``--rules``, a rule pack name or rule file read by :func:`load_rules_or_fail`."""
    p.add_argument(
        "--rules",
        default="november-2025",
        help="rule pack name or rule file (default: november-2025)",
    )
