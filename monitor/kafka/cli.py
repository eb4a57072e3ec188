"""The Kafka verbs of the ``riskmon`` command line: ``worker``, ``alerter``, and the Kafka
branches of ``run`` (feeds only) and ``replay --bus kafka``.

The CLI registers them with :func:`add_parsers` and :func:`add_replay_args`, and hands
``run``/``replay`` over to :func:`run_feeds` and :func:`replay_to_kafka` when the bus is Kafka.
Errors are one line on stderr and exit code 2, like every verb.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from monitor.kafka.partition import PartitionFactory
    from monitor.settings import Settings

__all__ = ["add_parsers", "add_replay_args", "replay_to_kafka", "run_feeds"]

EXIT_USAGE = 2


def _fail(msg: str) -> NoReturn:
    print(f"riskmon: error: {msg}", file=sys.stderr)
    raise SystemExit(EXIT_USAGE)


def _kafka_settings(config: str | None) -> Any:
    """Settings whose bus is Kafka, or a one-line error."""
    from monitor.kafka.settings import KafkaBusSettings
    from monitor.settings import ConfigError, load_settings

    if config is None:
        _fail("--config FILE with 'bus: {kind: kafka, brokers: [...]}' is required")
    try:
        settings = load_settings(config)
    except ConfigError as e:
        _fail(str(e))
    if not isinstance(settings.bus, KafkaBusSettings):
        _fail(f"{config}: bus.kind must be kafka for this command")
    return settings


def _bind_failed(settings: Settings, e: OSError) -> NoReturn:
    """A one-line error for an endpoint port that cannot be bound (re-raise anything else)."""
    from monitor.health import BIND_ERRORS

    if e.errno not in BIND_ERRORS:
        raise e
    m = settings.metrics
    _fail(f"cannot serve metrics on {m.host}:{m.port}: {os.strerror(e.errno or 0)}")


def _run_until_signalled(
    settings: Settings, run: Callable[[], Coroutine[Any, Any, None]], stop: Callable[[], None]
) -> int:
    """Run ``run()`` to its end; SIGINT and SIGTERM call ``stop()`` (which ends it). Exit 0."""

    async def main() -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop)
        try:
            await run()
        except OSError as e:
            _bind_failed(settings, e)
        return 0

    return asyncio.run(main())


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def partition_factory(settings: Settings) -> PartitionFactory:
    """Each partition's processors as the daemon's: the liquidation coverage of ``settings``."""
    from monitor.coverage import streams_config
    from monitor.kafka.partition import PartitionProcessor
    from streams.engine import StreamEngine
    from streams.processors import default_processors

    config = streams_config(settings)

    def factory(partition: int) -> PartitionProcessor:
        return PartitionProcessor(partition, StreamEngine(default_processors(config)))

    return factory


def _cmd_worker(args: argparse.Namespace) -> int:
    from monitor.kafka.worker import run_worker
    from monitor.logs import configure_logging

    settings = _kafka_settings(args.config)
    configure_logging(settings.log_format, settings.log_level)
    datadir = Path(args.datadir) if args.datadir else settings.state_dir / "worker"
    try:
        return run_worker(
            settings.bus, datadir, settings.log_level, partition_factory(settings), settings.metrics
        )
    except OSError as e:
        _bind_failed(settings, e)


def _cmd_alerter(args: argparse.Namespace) -> int:
    from alerts.rules import RuleError
    from alerts.service import AlertService
    from monitor.kafka.alerter import Alerter
    from monitor.logs import configure_logging
    from monitor.settings import ConfigError
    from monitor.wiring import alert_settings

    settings = _kafka_settings(args.config)
    try:
        alerting = alert_settings(settings)
        service = AlertService.from_settings(alerting)
    except ConfigError as e:
        _fail(f"{args.config}: {e}")
    except RuleError as e:
        _fail(f"rules {settings.rules}: {_first_line(e)}")
    configure_logging(settings.log_format, settings.log_level)
    bus = settings.bus
    lock = Path(bus.alerter_lock) if bus.alerter_lock else Path(f"{alerting.db_path}.lock")
    alerter = Alerter(bus, service, settings.state_dir, lock, settings.metrics)
    return _run_until_signalled(settings, alerter.run, alerter.stop)


def run_feeds(settings: Any) -> int:
    """``riskmon run`` with a Kafka bus: the feeds only, until SIGINT/SIGTERM."""
    from monitor.kafka.feeds import FeedsOnly

    feeds = FeedsOnly(settings)
    return _run_until_signalled(settings, feeds.run, feeds.stop)


def replay_to_kafka(args: argparse.Namespace) -> int:
    """``riskmon replay FILE --bus kafka --config FILE``."""
    from monitor.capture import CaptureFormatError, open_text, read_frames
    from monitor.kafka.replay import publish_capture
    from monitor.replay.parse import FrameStats, HeldLines

    settings = _kafka_settings(args.config)
    try:
        fh = sys.stdin if args.file == "-" else open_text(args.file)
    except OSError as e:
        _fail(f"cannot read {args.file}: {e.strerror or e}")
    stats = FrameStats()
    errors = HeldLines(sys.stderr, stats)  # skip reports wait for a first event
    try:
        with fh:
            _, pub = asyncio.run(publish_capture(read_frames(fh), settings.bus, errors, stats))
    except CaptureFormatError as e:
        _fail(f"cannot read {args.file}: {e}")
    if not stats.events:
        _fail(f"no events in {args.file}: {stats.summary()}; not a capture file?")
    errors.release()
    print(
        f"riskmon replay: {stats.summary()}; published {pub.events} events in {pub.records} "
        f"records to {settings.bus.topics.events}"
        + (f"; {pub.lost_events} events lost" if pub.lost_events else ""),
        file=sys.stderr,
    )
    return 1 if pub.lost_events else 0


def add_replay_args(rp: argparse.ArgumentParser) -> None:
    """``--bus`` and ``--config`` of ``riskmon replay``."""
    rp.add_argument(
        "--bus",
        choices=("none", "kafka"),
        default="none",
        help="kafka: publish the capture's events to the events topic of --config's bus "
        "instead of printing (default: none)",
    )
    rp.add_argument(
        "--config", metavar="FILE", help="YAML settings with the Kafka bus (with --bus kafka)"
    )


def _add_process(
    sub: Any, name: str, func: Callable[[argparse.Namespace], int], *, help: str, description: str
) -> argparse.ArgumentParser:
    """Add a scale-out process verb: it reads the Kafka bus from the required ``--config``."""
    p: argparse.ArgumentParser = sub.add_parser(name, help=help, description=description)
    p.add_argument("--config", metavar="FILE", required=True, help="YAML settings (bus: kafka)")
    p.set_defaults(func=func)
    return p


def add_parsers(sub: Any) -> None:
    """Add ``worker`` and ``alerter`` to the ``riskmon`` subcommands."""
    w = _add_process(
        sub,
        "worker",
        _cmd_worker,
        help="run stream processors on the events topic (Kafka scale-out)",
        description="Join the worker group on the events topic, run the processors for the "
        "partitions this worker owns and publish signals (see docs/scale-out.md). Start "
        "several: they share the partitions. Stops cleanly on SIGINT/SIGTERM.",
    )
    w.add_argument(
        "--datadir",
        metavar="DIR",
        help="faust's data directory (default: STATE_DIR/worker; one per worker on a host)",
    )
    _add_process(
        sub,
        "alerter",
        _cmd_alerter,
        help="evaluate rules on the signals topic and deliver alerts (Kafka scale-out)",
        description="Consume signals, evaluate the rules and deliver notifications with the "
        "store and outbox of the single process. One alerter is active at a time; start a "
        "second as a standby (same store): it takes over when the first stops or dies.",
    )
