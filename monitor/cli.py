"""The ``riskmon`` command line.

Every verb prints a one-line error and exits non-zero on bad input (no traceback); data goes to
stdout as JSON lines, diagnostics to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, NoReturn

from monitor.logs import configure_logging

if TYPE_CHECKING:
    from alerts.rules import RuleSet

__all__ = ["main"]

EXIT_USAGE = 2


class CliError(Exception):
    """A user error: printed as one line, exit code 2."""


def _fail(msg: str) -> NoReturn:
    print(f"riskmon: error: {msg}", file=sys.stderr)
    raise SystemExit(EXIT_USAGE)


# ------------------------------------------------------------------ verbs


def _cmd_demo(args: argparse.Namespace) -> int:
    from monitor.demo import run_demo
    from monitor.simulator.scenarios import SCENARIOS, get_scenario

    if args.scenario not in SCENARIOS:
        raise CliError(f"unknown scenario {args.scenario!r}; known: {', '.join(sorted(SCENARIOS))}")
    if args.speed is not None and args.speed <= 0:
        raise CliError("--speed must be positive")
    live = sys.stdout.isatty() and not args.plain
    # the live view owns the terminal: below --verbose only errors are logged over it
    quiet = "error" if live else "warning"
    configure_logging("console", "info" if args.verbose else quiet)
    info = get_scenario(args.scenario, args.seed).info
    speed = info.demo_speed if args.speed is None else args.speed
    span_h = (info.end_ns - info.start_ns) / 3.6e12
    print(
        f"riskmon demo: playing {args.scenario!r} ({span_h:.1f} h of event time) at {speed:g}x "
        f"(about {span_h * 3600 / speed / 60:.1f} min) through the exchange simulator on "
        f"127.0.0.1 and the full daemon over real websockets ({len(info.symbols)} venues)",
        file=sys.stderr,
    )
    if live:
        from rich.console import Console

        from monitor.demo_view import DemoView

        view = DemoView(info, speed, Console())
        with view:
            result = asyncio.run(
                run_demo(
                    args.scenario,
                    speed=speed,
                    seed=args.seed,
                    on_notices=view.on_notices,
                    on_signals=view.on_signals,
                )
            )
        view.console.print(view.summary(result))
    else:
        result = asyncio.run(run_demo(args.scenario, speed=speed, seed=args.seed, out=sys.stdout))
        _print_demo_summary(result)
    counts = result.counts()
    print(
        f"riskmon demo: done in {result.wall_s:.1f}s: {result.events_published} events played, "
        f"{result.frames_received} frames received, {result.frames_skipped} skipped, "
        f"{result.events_processed} events processed; alerts fired: "
        f"{counts['critical']} critical, {counts['warning']} warning, {counts['info']} info",
        file=sys.stderr,
    )
    return 0


def _print_demo_summary(result: object) -> None:
    """The first firing of each rule and severity, as plain lines on stderr."""
    from datetime import UTC, datetime

    from monitor.demo import DemoResult

    assert isinstance(result, DemoResult)
    seen: set[tuple[str, ...]] = set()
    print("riskmon demo: first firing of each alert (event time, UTC):", file=sys.stderr)
    for n in result.notices:
        labels = tuple(n.labels.get(k, "") for k in ("tier", "asset", "coin", "venue"))
        key = (n.rule, n.severity, *labels)
        if n.status != "firing" or key in seen:
            continue
        seen.add(key)
        when = datetime.fromtimestamp(n.starts_at / 1e9, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")
        tier = "+extreme" if labels[0] == "extreme" else ""
        print(f"  {when}  {n.severity}{tier:8}  {n.rule}: {n.summary}", file=sys.stderr)


def _cmd_backtest(args: argparse.Namespace) -> int:
    import json

    from monitor.backtest import (
        backtest_capture,
        backtest_scenario,
        format_table,
        summary,
        write_report,
    )
    from monitor.simulator.scenarios import SCENARIOS

    if (args.file is None) == (args.scenario is None):
        raise CliError("give either a capture FILE or --scenario NAME")
    if args.scenario is not None and args.scenario not in SCENARIOS:
        raise CliError(f"unknown scenario {args.scenario!r}; known: {', '.join(sorted(SCENARIOS))}")
    if args.file is not None and not Path(args.file).is_file():
        raise CliError(f"cannot read {args.file}: no such file")
    if args.tick <= 0:
        raise CliError("--tick must be positive")
    _load_rules_or_fail(args.rules)
    configure_logging("console", "info" if args.verbose else "warning")
    if args.scenario is not None:
        result = backtest_scenario(
            args.scenario, seed=args.seed, rules=args.rules, tick_s=args.tick
        )
    else:
        result = backtest_capture(args.file, rules=args.rules, tick_s=args.tick)
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


def _cmd_run(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from alerts.rules import RuleError
    from alerts.service import AlertService
    from monitor.daemon import Daemon, alert_settings
    from monitor.settings import ConfigError, load_settings

    try:
        settings = load_settings(args.config)
        alerting = alert_settings(settings)
    except ConfigError as e:
        raise CliError(str(e)) from e
    except ValidationError as e:
        raise CliError(f"{args.config or 'settings'}: alerting: {_first_line(e)}") from e
    configure_logging(settings.log_format, settings.log_level)
    try:
        daemon = Daemon(settings, alert_service=AlertService.from_settings(alerting))
    except RuleError as e:
        raise CliError(f"rules {settings.rules}: {_first_line(e)}") from e
    except (ValueError, KeyError, OSError) as e:
        raise CliError(f"cannot start: {e}") from e

    async def main() -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, daemon.stop)
        await daemon.run()
        return 0

    return asyncio.run(main())


def _first_line(e: Exception) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def _cmd_parse(args: argparse.Namespace) -> int:
    from monitor.capture import read_frames
    from monitor.replay import FrameStats, parse_lines
    from monitor.venues import UnknownVenueError, get_venue
    from streams.events import encode_event

    try:
        get_venue(args.venue)
    except UnknownVenueError as e:
        raise CliError(str(e.args[0])) from e
    stats = FrameStats()
    out = sys.stdout
    with _open_input(args.file) as fh:
        lines = read_frames(fh, default_venue=args.venue, now_ns=time.time_ns())
        for ev in parse_lines(lines, stats, errors=sys.stderr, venue=args.venue):
            out.write(encode_event(ev).decode())
            out.write("\n")
    print(f"riskmon parse: {stats.summary()}", file=sys.stderr)
    return 0


def _cmd_replay(args: argparse.Namespace) -> int:
    from monitor.capture import read_frames
    from monitor.replay import replay

    rules = _load_rules_or_fail(args.rules)
    with _open_input(args.file) as fh:
        stats = replay(
            read_frames(fh),
            sys.stdout,
            rules,
            emit=args.emit,
            every_s=args.every,
            errors=sys.stderr,
        )
    print(f"riskmon replay: {stats.summary()}", file=sys.stderr)
    return 0


def _cmd_capture(args: argparse.Namespace) -> int:
    from monitor.capture_run import run_capture
    from monitor.settings import ConfigError, load_settings

    try:
        settings = load_settings(args.config) if args.config else load_settings()
    except ConfigError as e:
        raise CliError(str(e)) from e
    configure_logging("console" if sys.stderr.isatty() else "json", "info")
    venues = args.venue or [v for v, vs in settings.venues.items() if vs.enabled]
    unknown = sorted(set(venues) - set(settings.venues))
    if unknown:
        raise CliError(f"unknown venue(s): {', '.join(unknown)}")
    lines = asyncio.run(run_capture(settings, venues, Path(args.out), args.duration))
    print(f"riskmon capture: wrote {lines} frames to {args.out}", file=sys.stderr)
    return 0


def _cmd_simulate(args: argparse.Namespace) -> int:
    from monitor.simulator.run import run_simulator
    from monitor.simulator.scenarios import SCENARIOS

    if args.scenario is not None and args.scenario not in SCENARIOS:
        raise CliError(f"unknown scenario {args.scenario!r}; known: {', '.join(sorted(SCENARIOS))}")
    configure_logging("console", "info")
    return asyncio.run(
        run_simulator(args.host, args.port, args.scenario, args.speed, args.seed, args.loop)
    )


def _load_rules_or_fail(name: str) -> RuleSet:
    from alerts.rules import RuleError
    from monitor.daemon import load_ruleset

    try:
        return load_ruleset(name)
    except RuleError as e:
        raise CliError(_first_line(e)) from e
    except (OSError, KeyError, ValueError) as e:
        raise CliError(f"cannot load rules {name!r}: {e}") from e


@contextlib.contextmanager
def _open_input(path: str) -> Iterator[IO[str]]:
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


# ------------------------------------------------------------------ parser


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``riskmon``."""
    p = argparse.ArgumentParser(
        prog="riskmon",
        description="Streaming risk monitor for crypto markets: liquidations, open interest, "
        "funding, stablecoin pegs and drawdown, with alerts to Slack, email and Prometheus.",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    d = sub.add_parser(
        "demo",
        help="play a stress scenario offline through the simulator and "
        "the full daemon; print alerts as they fire",
        description="Start the exchange simulator on 127.0.0.1, run the daemon "
        "against it over real websockets, play a scenario compressed in time (the November "
        "2025 deleveraging by default, in about two minutes), show a live view of prices, "
        "open interest, liquidations, pegs and firing alerts, print each alert as it fires "
        "and a summary at the end. When stdout is not a terminal, alerts are printed as "
        "JSON lines instead of the live view.",
    )
    d.add_argument(
        "--scenario",
        default="november-2025",
        help="scenario to play (default: november-2025); also october-10-2025, "
        "march-2023-usdc, august-2024, calm-week, november-2025-morning, cascade",
    )
    d.add_argument(
        "--speed",
        type=float,
        default=None,
        help="event-time compression, e.g. 60 = one hour per minute (default: the "
        "scenario's own, about two minutes of wall time)",
    )
    d.add_argument("--seed", type=int, default=7, help="scenario seed (default: 7)")
    d.add_argument(
        "--plain",
        action="store_true",
        help="no live view: print alerts as JSON lines (the default when stdout is not a terminal)",
    )
    d.add_argument("-v", "--verbose", action="store_true", help="show the daemon's logs")
    d.set_defaults(func=_cmd_demo)

    b = sub.add_parser(
        "backtest",
        help="run a scenario or a capture through the pipeline at full speed; write a report",
        description="Run a scenario (rendered by each venue's simulator and parsed by the real "
        "venue parsers, without sockets) or a capture file through processors and rules as "
        "fast as possible, in event time. Prints the alert table (first fire, lead time "
        "before the episode's worst point, duration) and alerts per day by severity, or one "
        "JSON object with --json. The same scenario and seed (or capture) always give the "
        "same result.",
        epilog="examples: riskmon backtest --scenario november-2025 --report nov.html; "
        "riskmon backtest capture.jsonl.gz --json",
    )
    b.add_argument("file", nargs="?", default=None, metavar="CAPTURE", help="capture file (.gz ok)")
    b.add_argument(
        "--scenario",
        metavar="NAME",
        help="scenario to run instead of a capture (see docs/scenarios.md): november-2025, "
        "october-10-2025, march-2023-usdc, august-2024, calm-week, ...",
    )
    b.add_argument("--seed", type=int, default=7, help="scenario seed (default: 7)")
    b.add_argument(
        "--rules",
        default="november-2025",
        help="rule pack name or rule file (default: november-2025)",
    )
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
        "--tick",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="stream-engine tick in event time (default: 1, as the daemon). Coarser ticks "
        "run week-long scenarios several times faster but sample rule timers less often",
    )
    b.add_argument("-v", "--verbose", action="store_true", help="show progress logs")
    b.set_defaults(func=_cmd_backtest)

    r = sub.add_parser(
        "run",
        help="run the always-on daemon",
        description="Run the daemon: subscribe to the configured venues (live by "
        "default, no API keys), compute signals, evaluate rules, deliver alerts, "
        "serve /metrics. Stops cleanly on SIGINT/SIGTERM.",
    )
    r.add_argument(
        "--config",
        metavar="FILE",
        help="YAML settings file (default: built-in "
        "defaults: every venue, majors, the november-2025 rule pack)",
    )
    r.set_defaults(func=_cmd_run)

    c = sub.add_parser(
        "capture",
        help="record raw frames from live venues to a capture file",
        description="Record every raw frame (and polled REST body) as JSON lines "
        '{"ts_recv": ns, "venue": id, "frame": text}; gzip when OUT ends in .gz.',
    )
    c.add_argument("out", metavar="OUT", help="capture file to write")
    c.add_argument("--config", metavar="FILE", help="YAML settings file (venues, symbols, URLs)")
    c.add_argument(
        "--venue",
        action="append",
        metavar="ID",
        help="only this venue (repeatable; default: every enabled venue)",
    )
    c.add_argument(
        "--duration",
        type=float,
        default=None,
        metavar="SECONDS",
        help="stop after this many seconds (default: until Ctrl-C)",
    )
    c.set_defaults(func=_cmd_capture)

    pa = sub.add_parser(
        "parse",
        help="parse raw frames into normalized events (JSON lines)",
        description="Read capture lines or bare frames (one per line) and print "
        "normalized events as JSON lines. Frames that cannot be parsed are "
        "reported on stderr with the reason and counted; never fatal.",
    )
    pa.add_argument("--venue", required=True, metavar="ID", help="venue id, e.g. binance-usdm")
    pa.add_argument(
        "file",
        nargs="?",
        default="-",
        metavar="FILE",
        help="input file (.gz ok), or - for stdin (default)",
    )
    pa.set_defaults(func=_cmd_parse)

    rp = sub.add_parser(
        "replay",
        help="run a capture through the full pipeline, in event time",
        description="Run a capture file through parsers, processors and rules "
        "as fast as possible, in event time, and print JSON lines. The same "
        "file always gives the same output.",
    )
    rp.add_argument("file", metavar="FILE", help="capture file (.gz ok), or - for stdin")
    rp.add_argument(
        "--emit",
        choices=("events", "signals", "alerts"),
        default="alerts",
        help="what to print (default: alerts)",
    )
    rp.add_argument(
        "--every",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="with --emit signals: at most one sample per signal per SECONDS of "
        "event time (the last sample of every signal is always printed)",
    )
    rp.add_argument(
        "--rules",
        default="november-2025",
        help="rule pack name or rule file (default: november-2025)",
    )
    rp.set_defaults(func=_cmd_replay)

    s = sub.add_parser(
        "simulate",
        help="run the exchange simulator standalone",
        description="Serve every venue's websocket and REST protocol on one "
        "loopback port (venues under /<venue-id>/...). Point the daemon at it "
        "with 'simulator: http://HOST:PORT' in the config. Faults can be "
        "injected with POST /_control/fault.",
    )
    s.add_argument("--host", default="127.0.0.1", help="bind address (default: 127.0.0.1)")
    s.add_argument("--port", type=int, default=8765, help="port (default: 8765)")
    s.add_argument("--scenario", default=None, help="scenario to play once clients connect")
    s.add_argument("--speed", type=float, default=1.0, help="event-time compression (default: 1)")
    s.add_argument("--seed", type=int, default=7, help="scenario seed (default: 7)")
    s.add_argument("--loop", action="store_true", help="replay the scenario forever")
    s.set_defaults(func=_cmd_simulate)

    try:
        from alerts.cli import register_cli
    except ImportError:  # pragma: no cover - alerts CLI not installed
        pass
    else:
        register_cli(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``riskmon`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
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


if __name__ == "__main__":
    raise SystemExit(main())
