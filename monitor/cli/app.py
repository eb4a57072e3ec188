"""The ``riskmon`` parser and entry point: every verb's module adds its sub-command here.

Every verb prints a one-line error and exits non-zero on bad input (no traceback); data goes to
stdout as JSON lines, diagnostics to stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Sequence
from typing import NoReturn

from monitor.cli import alerts, backtest, captures, config, run, simulator, status
from monitor.cli.common import EXIT_USAGE, CliError
from monitor.kafka.cli import add_parsers as add_kafka_parsers
from monitor.logs import configure_logging

__all__ = ["build_parser", "main"]


def _fail(msg: str) -> NoReturn:
    print(f"riskmon: error: {msg}", file=sys.stderr)
    raise SystemExit(EXIT_USAGE)


def _version() -> str:
    """The installed distribution's version (``0+unknown`` when run from a bare checkout)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("riskmon")
    except PackageNotFoundError:
        return "0+unknown"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``riskmon``."""
    p = argparse.ArgumentParser(
        prog="riskmon",
        description="Streaming risk monitor for crypto markets: liquidations, open interest, "
        "funding, stablecoin pegs and drawdown, with alerts to Slack, email and Prometheus.",
    )
    p.add_argument("--version", action="version", version=f"riskmon {_version()}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    simulator.add_demo(sub)
    backtest.add_backtest(sub)
    run.add_run(sub)
    status.add_status(sub)
    captures.add_capture(sub)
    captures.add_parse(sub)
    captures.add_replay(sub)
    simulator.add_simulate(sub)
    alerts.register(sub)
    config.add_config(sub)
    add_kafka_parsers(sub)  # worker, alerter (kafka scale-out)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``riskmon`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    # logs go to stderr in every verb (stdout carries data: JSON lines, YAML); a verb may
    # reconfigure the format and level, never the stream
    configure_logging("console" if sys.stderr.isatty() else "json", "warning")
    try:
        rc: int = args.func(args)
    except CliError as e:
        _fail(str(e))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        with contextlib.suppress(OSError):
            sys.stdout.close()
        return 0
    return rc
