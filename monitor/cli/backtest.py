"""``riskmon backtest``: a scenario or a capture through the pipeline at full speed; a report.

Prints the alert table (or one JSON object with ``--json``) on stdout and a one-line summary on
stderr; ``--report`` also writes the HTML report.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from monitor.cli.common import (
    CliError,
    add_rules_option,
    add_seed_option,
    add_verb,
    check_writable,
    load_rules_or_fail,
    no_events,
)
from monitor.logs import configure_logging

__all__ = ["add_backtest"]

_EXAMPLES = (
    "examples: riskmon backtest --scenario november-2025 --report nov.html; "
    "riskmon backtest capture.jsonl.gz --json"
)


def _cmd_backtest(args: argparse.Namespace) -> int:
    """Run a scenario or a capture through the pipeline at full speed; write a report.

    Run a scenario (rendered by each venue's simulator and parsed by the real venue parsers,
    without sockets) or a capture file through processors and rules as fast as possible, in event
    time. Prints the alert table (first fire, lead time before the episode's worst point,
    duration) and alerts per day by severity, or one JSON object with --json. The same scenario
    and seed (or capture) always give the same result.
    """
    import json

    from monitor.backtest.report import write_report
    from monitor.backtest.run import backtest_capture, backtest_scenario
    from monitor.backtest.summary import format_table, summary
    from monitor.capture import CaptureFormatError
    from monitor.simulator.scenarios import EPISODES, SCENARIOS

    if (args.file is None) == (args.scenario is None):
        raise CliError("give either a capture FILE or --scenario NAME")
    if args.scenario is not None and args.scenario not in SCENARIOS:
        raise CliError(f"unknown scenario {args.scenario!r}; known: {', '.join(sorted(SCENARIOS))}")
    if args.file is not None and not Path(args.file).is_file():
        raise CliError(f"cannot read {args.file}: no such file")
    if args.tick <= 0:
        raise CliError("--tick must be positive")
    if args.coverage != "whole" and args.scenario is None:
        raise CliError("--coverage applies to --scenario runs (a capture is what it is)")
    if args.coverage != "whole" and args.scenario not in EPISODES:
        raise CliError(
            f"scenario {args.scenario!r} has no coverage variant; episodes: {', '.join(EPISODES)}"
        )
    if args.report:
        check_writable(args.report)
    load_rules_or_fail(args.rules)
    configure_logging("console", "info" if args.verbose else "warning")
    with _progress_bar(args.scenario or Path(args.file).name) as progress:
        if args.scenario is not None:
            result = backtest_scenario(
                args.scenario,
                seed=args.seed,
                rules=args.rules,
                tick_s=args.tick,
                coverage=args.coverage,
                progress=progress,
            )
        else:
            try:
                result = backtest_capture(
                    args.file, rules=args.rules, tick_s=args.tick, progress=progress
                )
            except CaptureFormatError as e:
                raise CliError(f"cannot read {args.file}: {e}") from e
            except OSError as e:
                raise CliError(f"cannot read {args.file}: {e.strerror or e}") from e
            if not result.stats.events:
                raise no_events(args.file, result.stats)
    if args.report:
        try:
            write_report(result, args.report)
        except OSError as e:
            raise CliError(f"cannot write {args.report}: {e.strerror or e}") from e
    if args.json:
        print(json.dumps(summary(result)))
    else:
        print(format_table(result))
    c = result.counts()
    print(
        f"riskmon backtest: {result.scenario}: {result.input_events} events, "
        f"{result.stats.frames} frames parsed, {sum(result.stats.skipped.values())} skipped, "
        f"{c['critical']} critical / {c['warning']} warning / {c['info']} info firing notices "
        f"in {result.wall_s:.1f}s" + (f"; report: {args.report}" if args.report else ""),
        file=sys.stderr,
    )
    return 0


@contextlib.contextmanager
def _progress_bar(label: str) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on stderr when it is a terminal (None otherwise: nothing is drawn)."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TimeElapsedColumn

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task(f"backtest {label}", total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def add_backtest(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``riskmon backtest``."""
    b = add_verb(sub, "backtest", _cmd_backtest, _EXAMPLES)
    b.add_argument("file", nargs="?", default=None, metavar="CAPTURE", help="capture file (.gz ok)")
    b.add_argument(
        "--scenario",
        metavar="NAME",
        help="scenario to run instead of a capture (see docs/scenarios.md): november-2025, "
        "october-10-2025, march-2023-usdc, august-2024, calm-week, ...",
    )
    add_seed_option(b)
    add_rules_option(b)
    b.add_argument(
        "--report",
        metavar="FILE.html",
        help="write a self-contained HTML report (charts embedded as PNG)",
    )
    b.add_argument(
        "--json",
        action="store_true",
        help='print one JSON object: {"scenario", "alerts" (as riskmon replay prints them), '
        '"counts" by severity, "table", "per_day", ...}',
    )
    b.add_argument(
        "--coverage",
        choices=("whole", "live"),
        default="whole",
        help="whole (default): the scenario is the whole market (liq_coverage_share 1); live: "
        "render only the liquidations the default live configuration's feeds show (see "
        "docs/coverage.md) and scale the USD thresholds by that share, as riskmon run does",
    )
    b.add_argument(
        "--tick",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="stream-engine tick in event time (default: 1, as the daemon). Coarser ticks "
        "run week-long scenarios several times faster but sample rule timers less often",
    )
    b.add_argument("-v", "--verbose", action="store_true", help="show progress logs")
