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
    from alerts.model import AlertNotice
    from alerts.rules import RuleSet
    from monitor.daemon import Deliver

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
    from monitor.simulator.scenarios import SCENARIOS

    if args.scenario not in SCENARIOS:
        raise CliError(f"unknown scenario {args.scenario!r}; known: {', '.join(sorted(SCENARIOS))}")
    configure_logging("console", "warning" if not args.verbose else "info")
    print(
        f"riskmon demo: playing scenario {args.scenario!r} at {args.speed:g}x through the "
        "exchange simulator on 127.0.0.1 and the full daemon over real websockets",
        file=sys.stderr,
    )
    result = asyncio.run(run_demo(args.scenario, speed=args.speed, seed=args.seed, out=sys.stdout))
    counts = result.counts()
    print(
        f"riskmon demo: done in {result.wall_s:.1f}s: {result.events_published} events played, "
        f"{result.frames_received} frames received, {result.frames_skipped} skipped, "
        f"{result.events_processed} events processed; alerts fired: "
        f"{counts['critical']} critical, {counts['warning']} warning, {counts['info']} info",
        file=sys.stderr,
    )
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from alerts.rules import RuleError
    from monitor.daemon import Daemon
    from monitor.settings import ConfigError, load_settings

    try:
        settings = load_settings(args.config)
    except ConfigError as e:
        raise CliError(str(e)) from e
    configure_logging(settings.log_format, settings.log_level)
    try:
        daemon = Daemon(settings, deliver=_console_delivery())
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


def _console_delivery() -> Deliver:
    """Deliver notices as JSON lines on stdout."""
    from alerts.notify.console import write_notices

    async def deliver(notices: Sequence[AlertNotice]) -> None:
        write_notices(notices, sys.stdout)
        sys.stdout.flush()

    return deliver


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
        "against it over real websockets, play a scenario compressed in time, "
        "and print each alert as a JSON line as it fires.",
    )
    d.add_argument("--scenario", default="cascade", help="scenario to play (default: cascade)")
    d.add_argument(
        "--speed",
        type=float,
        default=60.0,
        help="event-time compression, e.g. 60 = one hour per minute (default: 60)",
    )
    d.add_argument("--seed", type=int, default=7, help="scenario seed (default: 7)")
    d.add_argument("-v", "--verbose", action="store_true", help="show the daemon's logs")
    d.set_defaults(func=_cmd_demo)

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
