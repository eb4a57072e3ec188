"""``riskmon run``: the always-on daemon, from a settings file until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal

from monitor.cli.common import (
    CliError,
    add_config_option,
    add_verb,
    first_line,
    load_daemon_settings,
)
from monitor.health import BIND_ERRORS
from monitor.logs import configure_logging

__all__ = ["add_run"]


def _cmd_run(args: argparse.Namespace) -> int:
    """Run the always-on daemon.

    Run the daemon: subscribe to the configured venues (live by default, no API keys), compute
    signals, evaluate rules, deliver alerts, serve /metrics. Stops cleanly on SIGINT/SIGTERM.
    """
    from alerts.rules import RuleError
    from alerts.service import AlertService
    from alerts.store import Store, StoreError
    from monitor.daemon import Daemon
    from monitor.wiring import run_clock
    from streams.clock import SystemClock

    settings, alerting = load_daemon_settings(args.config)
    configure_logging(settings.log_format, settings.log_level)
    if settings.bus.kind == "kafka":  # kafka scale-out: this process runs the feeds only
        from monitor.kafka.cli import run_feeds

        return run_feeds(settings)
    try:  # a store that cannot be opened is a one-line start-up error, not a dead dispatcher
        Store.open(alerting.db_path).close()
    except StoreError as e:
        raise CliError(str(e)) from e
    try:
        clock = run_clock(settings)  # one clock: the scenario's against the simulator
        # silences carry wall-clock times (riskmon silence add), whatever clock the run is on
        service = AlertService.from_settings(alerting, clock=clock, silence_clock=SystemClock())
        daemon = Daemon(settings, alert_service=service, clock=clock)
    except RuleError as e:
        raise CliError(f"rules {settings.rules}: {first_line(e)}") from e
    except (ValueError, KeyError, OSError) as e:
        raise CliError(f"cannot start: {e}") from e

    async def main() -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, daemon.stop)
        try:
            await daemon.run()
        except OSError as e:
            if e.errno not in BIND_ERRORS:
                raise
            m = settings.metrics
            why = os.strerror(e.errno) if e.errno else str(e)
            raise CliError(f"cannot serve metrics on {m.host}:{m.port}: {why}") from e
        return 0

    return asyncio.run(main())


def add_run(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``riskmon run``."""
    r = add_verb(sub, "run", _cmd_run)
    add_config_option(
        r,
        "YAML settings file (default: built-in defaults: every venue, majors, the "
        "november-2025 rule pack)",
    )
