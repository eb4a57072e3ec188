"""Failures mid-stream: a second worker joins (rebalance), the first is killed with SIGKILL,
the active alerter is killed and its standby takes over. The alerts are still exactly those of
``riskmon replay`` (no event lost or counted twice in any window), each delivered once."""

from __future__ import annotations

import gzip
import signal
import subprocess
from pathlib import Path

from tests.test_kafka.conftest import Cluster, wait_until


async def test_join_sigkill_worker_and_alerter_takeover(
    cluster: Cluster, cascade_capture: Path, cascade_expected: set[tuple[str, str, str, int]]
) -> None:
    expected = cascade_expected
    last = max(a[3] for a in expected)
    # the first half of the capture now, the rest after the failures: mid-stream by construction
    first, rest = split_capture(cascade_capture, cluster.tmp)
    r = cluster.replay(first)
    assert r.returncode == 0, r.stderr
    a = cluster.start("worker", tag="a")
    x = cluster.start("alerter", tag="x")
    await wait_until(lambda: bool(cluster.events(x, "kafka.alerter_active")), 20, "alerter x")
    y = cluster.start("alerter", tag="y")  # standby: same store and lock
    await wait_until(lambda: bool(cluster.events(y, "kafka.alerter_standby")), 20, "standby y")
    await wait_until(lambda: bool(cluster.events(a, "kafka.partition_restored")), 40, "a runs")

    b = cluster.start("worker", tag="b")  # join: rebalance, every partition rewinds
    await wait_until(lambda: owns(cluster, b), 40, "b joins")
    assert len(cluster.fired(x)) < len(expected), "the stream ended before the failures"

    a.send_signal(signal.SIGKILL)  # mid-stream: b takes over a's partitions
    a.wait()
    x.send_signal(signal.SIGKILL)  # the active alerter dies: y takes over
    x.wait()
    await wait_until(lambda: bool(cluster.events(y, "kafka.alerter_active")), 20, "takeover")
    r = cluster.replay(rest)
    assert r.returncode == 0, r.stderr

    await wait_until(
        lambda: any(k[3] >= last for k in cluster.fired(y)), 120, "the last replay alert"
    )
    fired = [k for k in cluster.fired(x) + cluster.fired(y) if k[3] <= last]
    assert set(fired) == expected
    # delivered once each (which lower severities the pack inhibits depends on timing)
    await wait_until(
        lambda: any(k[3] >= last for k in cluster.printed(x, y)), 30, "the last delivery"
    )
    delivered = cluster.printed(x, y)
    assert len(delivered) == len(set(delivered)), "a notification repeated"
    assert set(delivered) <= expected
    assert {k for k in expected if k[1] == "critical"} <= set(delivered)
    keys = [e["idempotency_key"] for p in (x, y) for e in cluster.events(p, "notify.delivered")]
    assert len(keys) == len(set(keys)), "a notification delivered twice"
    # b restored a's checkpoints
    restored = cluster.events(b, "kafka.partition_restored")
    assert any(e["checkpoint_offset"] is not None for e in restored)


def split_capture(capture: Path, tmp: Path) -> tuple[Path, Path]:
    """The capture's first half and the rest (by lines, so by receive time), as two files."""
    with gzip.open(capture, "rt", encoding="utf-8") as fh:
        lines = fh.readlines()
    half = len(lines) // 2
    out = (tmp / "first.jsonl", tmp / "rest.jsonl")
    out[0].write_text("".join(lines[:half]), encoding="utf-8")
    out[1].write_text("".join(lines[half:]), encoding="utf-8")
    return out


def owns(cluster: Cluster, worker: subprocess.Popen[bytes]) -> bool:
    got = cluster.events(worker, "kafka.worker_assigned")
    return bool(got and got[-1]["partitions"])
