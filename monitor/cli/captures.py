"""``riskmon capture``, ``parse`` and ``replay``: record live frames, parse and replay them.

Data goes to stdout as JSON lines, diagnostics (one line per skipped frame, a closing summary) to
stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

from monitor.cli.common import (
    CliError,
    add_config_option,
    add_rules_option,
    add_verb,
    check_writable,
    load_rules_or_fail,
    no_events,
    open_input,
)
from monitor.logs import configure_logging

__all__ = ["add_capture", "add_parse", "add_replay"]


def _cmd_capture(args: argparse.Namespace) -> int:
    """Record raw frames from live venues to a capture file.

    Record every raw frame (and polled REST body) as JSON lines
    {"ts_recv": ns, "venue": id, "frame": text}; gzip when OUT ends in .gz.
    """
    from monitor.replay.record import run_capture
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
    check_writable(args.out, make_parents=True)
    lines = asyncio.run(run_capture(settings, venues, Path(args.out), args.duration))
    print(f"riskmon capture: wrote {lines} frames to {args.out}", file=sys.stderr)
    return 0


def _cmd_parse(args: argparse.Namespace) -> int:
    """Parse raw frames into normalized events (JSON lines).

    Read capture lines or bare frames (one per line) and print normalized events as JSON lines.
    Frames that cannot be parsed are reported on stderr with the reason and counted; never fatal.
    """
    from monitor.capture import read_frames
    from monitor.replay.parse import FrameStats, parse_lines
    from monitor.venues import UnknownVenueError, get_venue
    from streams.events import encode_event

    try:
        get_venue(args.venue)
    except UnknownVenueError as e:
        raise CliError(str(e.args[0])) from e
    stats = FrameStats()
    out = sys.stdout
    with open_input(args.file) as fh:
        lines = read_frames(fh, default_venue=args.venue, now_ns=time.time_ns())
        for ev in parse_lines(lines, stats, errors=sys.stderr, venue=args.venue):
            out.write(encode_event(ev).decode())
            out.write("\n")
    print(f"riskmon parse: {stats.summary()}", file=sys.stderr)
    return 0


def _cmd_replay(args: argparse.Namespace) -> int:
    """Run a capture through the full pipeline, in event time.

    Run a capture file through parsers, processors and rules as fast as possible, in event time,
    and print JSON lines. The same file always gives the same output.
    """
    from monitor.capture import read_frames
    from monitor.replay.parse import FrameStats, HeldLines
    from monitor.replay.run import replay

    if args.bus == "kafka":  # kafka scale-out: publish the events instead of printing
        from monitor.kafka.cli import replay_to_kafka

        return replay_to_kafka(args)
    rules = load_rules_or_fail(args.rules)
    stats = FrameStats()
    errors = HeldLines(sys.stderr, stats)
    with open_input(args.file) as fh:
        replay(
            read_frames(fh),
            sys.stdout,
            rules,
            emit=args.emit,
            every_s=args.every,
            errors=errors,
            stats=stats,
        )
    if not stats.events:
        raise no_events(args.file, stats)
    errors.release()
    print(f"riskmon replay: {stats.summary()}", file=sys.stderr)
    return 0


def add_capture(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``riskmon capture``."""
    c = add_verb(sub, "capture", _cmd_capture)
    c.add_argument("out", metavar="OUT", help="capture file to write")
    add_config_option(c, "YAML settings file (venues, symbols, URLs)")
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


def add_parse(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``riskmon parse``."""
    pa = add_verb(sub, "parse", _cmd_parse)
    pa.add_argument("--venue", required=True, metavar="ID", help="venue id, e.g. binance-usdm")
    pa.add_argument(
        "file",
        nargs="?",
        default="-",
        metavar="FILE",
        help="input file (.gz ok), or - for stdin (default)",
    )


def add_replay(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``riskmon replay``."""
    rp = add_verb(sub, "replay", _cmd_replay)
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
    add_rules_option(rp)
    from monitor.kafka.cli import add_replay_args

    add_replay_args(rp)  # --bus/--config (kafka scale-out)
