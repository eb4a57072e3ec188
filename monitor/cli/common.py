"""What every ``riskmon`` verb shares: the one-line user error, rule loading, input files, options.

A verb raises :class:`CliError` for bad input; :func:`monitor.cli.main` prints it as
``riskmon: error: MESSAGE`` on stderr and exits with :data:`EXIT_USAGE` (no traceback).
"""

from __future__ import annotations

import argparse
import contextlib
import inspect
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from alerts.rules import RuleSet
    from alerts.settings import AlertsSettings
    from monitor.replay.parse import FrameStats
    from monitor.settings import Settings

__all__ = [
    "EXIT_USAGE",
    "CliError",
    "add_command_group",
    "add_config_option",
    "add_rules_option",
    "add_seed_option",
    "add_verb",
    "check_writable",
    "first_line",
    "load_daemon_settings",
    "load_rules_or_fail",
    "no_events",
    "open_input",
]

EXIT_USAGE = 2


class CliError(Exception):
    """A user error: printed as one line, exit code 2."""


def first_line(e: Exception) -> str:
    """The first line of an exception's message (its type name when it has none)."""
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def load_daemon_settings(config: str | None) -> tuple[Settings, AlertsSettings]:
    """The daemon's settings and its alert settings, from ``config`` (None: built-ins) and the
    ``RISKMON_*`` environment; :class:`CliError` naming the bad field when invalid."""
    from monitor.settings import ConfigError, load_settings
    from monitor.wiring import alert_settings

    try:
        settings = load_settings(config)
    except ConfigError as e:
        raise CliError(str(e)) from e
    try:
        return settings, alert_settings(settings)
    except ConfigError as e:
        raise CliError(f"{config or 'settings'}: {e}") from e


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
    """A capture or frame file (``.gz`` ok) opened as text, or stdin for ``-``.

    A file that turns out not to be text (or not gzip) while it is read is a :class:`CliError`.
    """
    from monitor.capture import CaptureFormatError, open_text

    try:
        if path == "-":
            yield sys.stdin
            return
        try:
            fh = open_text(path)
        except OSError as e:
            raise CliError(f"cannot read {path}: {e.strerror or e}") from e
        with fh:
            yield fh
    except CaptureFormatError as e:
        raise CliError(f"cannot read {path}: {e}") from e


def no_events(path: str, stats: FrameStats) -> CliError:
    """The error of a replay or backtest input that gave no event: empty, or not a capture."""
    name = "stdin" if path == "-" else path
    if not stats.frames:
        return CliError(f"{name} is empty: no frames to replay")
    return CliError(f"no events in {name}: {stats.summary()}; not a capture file?")


def check_writable(path: str, make_parents: bool = False) -> None:
    """Fail before any work, not after it, when no file can be written at ``path``.

    Tries it: opens the file for appending (creating, then removing it when it did not exist);
    ``make_parents`` first creates missing parent directories, as the capture writer does.
    """
    p = Path(path)
    if p.is_dir():
        raise CliError(f"cannot write {path}: is a directory")
    try:
        if make_parents:
            p.parent.mkdir(parents=True, exist_ok=True)
        elif not p.parent.is_dir():
            raise CliError(f"cannot write {path}: no such directory {p.parent}")
        existed = p.exists()
        with p.open("a"):
            pass
        if not existed:
            p.unlink()
    except OSError as e:
        raise CliError(f"cannot write {path}: {e.strerror or e}") from e


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


def add_config_option(p: argparse.ArgumentParser, help: str) -> None:
    """Add ``--config FILE``, the daemon's YAML settings file; ``help`` says what the verb uses."""
    p.add_argument("--config", metavar="FILE", help=help)


def add_command_group(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    *,
    help: str,
    description: str,
    formatter_class: type[argparse.HelpFormatter] = argparse.HelpFormatter,
) -> argparse._SubParsersAction[argparse.ArgumentParser]:
    """Add the command group ``riskmon NAME COMMAND``; its commands are added to the returned
    action (the chosen one in ``args.<name>_command``)."""
    group = sub.add_parser(
        name, help=help, description=description, formatter_class=formatter_class
    )
    return group.add_subparsers(dest=f"{name}_command", metavar="COMMAND", required=True)


def add_verb(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    run: Callable[[argparse.Namespace], int],
    epilog: str | None = None,
) -> argparse.ArgumentParser:
    """Add the verb ``riskmon NAME``, run by ``run`` and documented by its docstring.

    As in click, a verb's handler documents it: the docstring's first paragraph is the one-line
    help that ``riskmon --help`` lists (lower-cased, without its full stop), the rest is the
    description of ``riskmon NAME --help``.
    """
    summary, _, details = inspect.cleandoc(run.__doc__ or "").partition("\n\n")
    summary = " ".join(summary.split()).removesuffix(".")
    p = sub.add_parser(
        name,
        help=summary[:1].lower() + summary[1:],
        description=details or summary,
        epilog=epilog,
    )
    p.set_defaults(func=run)
    return p
