"""``riskmon demo`` and ``riskmon simulate``: the exchange simulator, with or without the daemon.

``demo`` plays a scenario through the simulator and the full daemon with a live terminal view (or
JSON lines when stdout is not a terminal); ``simulate`` serves the simulator standalone.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from monitor.cli.common import CliError, add_seed_option, add_verb
from monitor.logs import configure_logging
from streams.units import NS_PER_HOUR, NS_PER_SECOND

if TYPE_CHECKING:
    from monitor.demo.run import DemoResult

__all__ = ["add_demo", "add_simulate"]


def _cmd_demo(args: argparse.Namespace) -> int:
    """Play a stress scenario offline through the simulator and the full daemon; print alerts as
    they fire.

    Start the exchange simulator on 127.0.0.1, run the daemon against it over real websockets,
    play a scenario compressed in time (the November 2025 deleveraging by default, in about two
    minutes), show a live view of prices, open interest, liquidations, pegs and the alerts the
    desk receives (through the real alert path: store, grouping, inhibition, silences,
    resolutions), and a summary at the end. When stdout is not a terminal, the desk's alerts are
    printed as JSON lines instead of the live view.
    """
    from monitor.demo.run import run_demo
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
    span_h = (info.end_ns - info.start_ns) / NS_PER_HOUR
    print(
        f"riskmon demo: playing {args.scenario!r} ({span_h:.1f} h of event time) at {speed:g}x "
        f"(about {span_h * 3600 / speed / 60:.1f} min) through the exchange simulator on "
        f"127.0.0.1 and the full daemon over real websockets ({len(info.symbols)} venues)",
        file=sys.stderr,
    )
    try:  # the daemon never subscribing (a port taken by something else, a dead machine)
        if live:
            from rich.console import Console

            from monitor.demo.view import DemoView

            view = DemoView(info, speed, Console())
            with view:
                result = asyncio.run(
                    run_demo(
                        args.scenario,
                        speed=speed,
                        seed=args.seed,
                        on_signals=view.on_signals,
                        on_notification=lambda note: view.on_notices(note.alerts),
                    )
                )
            view.console.print(view.summary(result))
        else:
            result = asyncio.run(
                run_demo(args.scenario, speed=speed, seed=args.seed, out=sys.stdout)
            )
            _print_demo_summary(result)
    except TimeoutError as e:
        raise CliError(f"demo: {e}") from e
    counts = result.counts()
    print(
        f"riskmon demo: done in {result.wall_s:.1f}s: {result.events_published} events played, "
        f"{result.frames_received} frames received, {result.frames_skipped} skipped, "
        f"{result.events_processed} events processed; alerts fired: "
        f"{counts['critical']} critical, {counts['warning']} warning, {counts['info']} info",
        file=sys.stderr,
    )
    return 0


def _print_demo_summary(result: DemoResult) -> None:
    """The first firing of each rule and severity, as plain lines on stderr."""
    seen: set[tuple[str, ...]] = set()
    print("riskmon demo: first firing of each alert (event time, UTC):", file=sys.stderr)
    for n in result.notices:
        labels = tuple(n.labels.get(k, "") for k in ("tier", "asset", "coin", "venue"))
        key = (n.rule, n.severity, *labels)
        if n.status != "firing" or key in seen:
            continue
        seen.add(key)
        when = datetime.fromtimestamp(n.starts_at / NS_PER_SECOND, tz=UTC)
        when_text = when.strftime("%Y-%m-%d %H:%M:%S")
        tier = "+extreme" if labels[0] == "extreme" else ""
        print(f"  {when_text}  {n.severity}{tier:8}  {n.rule}: {n.summary}", file=sys.stderr)


def _cmd_simulate(args: argparse.Namespace) -> int:
    """Run the exchange simulator standalone.

    Serve every venue's websocket and REST protocol on one loopback port (venues under
    /<venue-id>/...). Point the daemon at it with 'simulator: http://HOST:PORT' in the config.
    Faults can be injected with POST /_control/fault.
    """
    from monitor.simulator.run import run_simulator
    from monitor.simulator.scenarios import SCENARIOS

    if args.scenario is not None and args.scenario not in SCENARIOS:
        raise CliError(f"unknown scenario {args.scenario!r}; known: {', '.join(sorted(SCENARIOS))}")
    configure_logging("console", "info")
    return asyncio.run(
        run_simulator(args.host, args.port, args.scenario, args.speed, args.seed, args.loop)
    )


def add_demo(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``riskmon demo``."""
    d = add_verb(sub, "demo", _cmd_demo)
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
    add_seed_option(d)
    d.add_argument(
        "--plain",
        action="store_true",
        help="no live view: print alerts as JSON lines (the default when stdout is not a terminal)",
    )
    d.add_argument("-v", "--verbose", action="store_true", help="show the daemon's logs")


def add_simulate(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``riskmon simulate``."""
    s = add_verb(sub, "simulate", _cmd_simulate)
    s.add_argument("--host", default="127.0.0.1", help="bind address (default: 127.0.0.1)")
    s.add_argument("--port", type=int, default=8765, help="port (default: 8765)")
    s.add_argument("--scenario", default=None, help="scenario to play once clients connect")
    s.add_argument("--speed", type=float, default=1.0, help="event-time compression (default: 1)")
    add_seed_option(s)
    s.add_argument("--loop", action="store_true", help="replay the scenario forever")
