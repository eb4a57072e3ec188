"""The partitioned path without a broker: records as the publisher cuts them, one
:class:`PartitionProcessor` per partition, :class:`AlerterCore` in front of the evaluator.
Re-deliveries (rewinds), a restore from a checkpoint and any interleaving of partitions leave
the alerts of the single process unchanged."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from alerts.evaluator import AlertEvaluator
from alerts.model import AlertNotice
from alerts.rules import load_pack
from monitor.capture import open_text, read_frames
from monitor.kafka.alerter_core import AlerterCore, MarketWideMerger
from monitor.kafka.codec import (
    SchemaError,
    decode_checkpoint,
    decode_events,
    encode,
    events_record,
)
from monitor.kafka.partition import OffsetGate, PartitionProcessor
from monitor.replay.parse import FrameStats, parse_lines
from streams.events import Event
from streams.signals import Signal
from streams.units import NS_PER_SECOND
from tests.test_kafka.conftest import alert_key

N_PARTITIONS = 4


def records(capture: Path) -> list[tuple[int, bytes]]:
    """(partition, value) in publish order: per asset, flushed at each second of event time."""
    from aiokafka.partitioner import DefaultPartitioner

    part = DefaultPartitioner()
    ids = list(range(N_PARTITIONS))
    out: list[tuple[int, bytes]] = []
    pending: dict[str, list[Event]] = {}
    second = 0

    def flush() -> None:
        for asset, evs in pending.items():
            out.append((part(asset.encode(), ids, ids), encode(events_record(asset, 1, evs))))
        pending.clear()

    with open_text(capture) as fh:
        for ev in parse_lines(read_frames(fh), FrameStats()):
            s = ev.ts_event // NS_PER_SECOND
            if s > second:
                flush()
                second = s
            pending.setdefault(ev.asset, []).append(ev)
    flush()
    return out


def firing(notices: list[AlertNotice]) -> set[tuple[str, str, str, int]]:
    return {
        alert_key(
            {"rule": n.rule, "severity": n.severity, "labels": n.labels, "starts_at": n.starts_at}
        )
        for n in notices
        if n.status == "firing"
    }


@pytest.mark.parametrize("seed", [1])
def test_partitioned_path_gives_the_single_process_alerts(
    cascade_capture: Path, cascade_expected: set[tuple[str, str, str, int]], seed: int
) -> None:
    rng = random.Random(seed)
    recs = records(cascade_capture)
    logs: dict[int, list[bytes]] = {p: [] for p in range(N_PARTITIONS)}
    for p, v in recs:
        logs[p].append(v)
    procs = {p: PartitionProcessor(p) for p in logs}
    queues: dict[int, list] = {p: [] for p in logs}
    for p, values in logs.items():
        cut = len(values) // 2
        for off, v in enumerate(values):
            b = procs[p].on_record(off, v)
            if b is not None:
                queues[p].append(b)
            if off == cut:  # a worker dies: a new one restores the checkpoint and is
                cp = decode_checkpoint(encode(procs[p].checkpoint()))  # re-delivered a rewind
                procs[p] = PartitionProcessor(p)
                procs[p].restore(cp)
                for back in range(max(0, off - 50), off + 1):
                    assert procs[p].on_record(back, values[back]) is None
        idle = procs[p].advance(procs[p].engine.watermark_ns + 5 * NS_PER_SECOND)
        if idle is not None:
            queues[p].append(idle)
    core = AlerterCore(AlertEvaluator(load_pack("november-2025")))
    notices: list[AlertNotice] = []
    while any(queues.values()):  # partitions arrive interleaved at random
        p = rng.choice([q for q, items in queues.items() if items])
        k = rng.randint(1, 40)
        for b in queues[p][:k]:
            notices += core.on_batch(b, 0.0)
            if rng.random() < 0.05:  # a signal batch re-delivered
                notices += core.on_batch(b, 0.0)
        del queues[p][:k]
    notices += core.release(0.0)
    expected = cascade_expected
    last = max(a[3] for a in expected)
    assert {a for a in firing(notices) if a[3] <= last} == expected
    assert core.duplicates > 0


def test_gate_tells_redelivery_from_a_new_log() -> None:
    g = OffsetGate()
    assert g.admit(0, 100) == "new"
    assert g.admit(1, 101) == "new"
    assert g.admit(1, 101) == "duplicate"  # a rewind
    assert g.admit(0, 100) == "duplicate"
    assert g.admit(0, 500) == "reset"  # offsets restarted, sent later: the broker lost its log
    assert g.admit(1, 501) == "new"


def test_records_are_versioned() -> None:
    ev_bytes = encode(events_record("BTC", 7, []))
    assert decode_events(ev_bytes).asset == "BTC"
    with pytest.raises(SchemaError, match="version"):
        decode_events(ev_bytes.replace(b"\xa1v\x01", b"\xa1v\x02"))
    with pytest.raises(SchemaError):
        decode_events(b"\xc1")
    p = PartitionProcessor(0)
    with pytest.raises(SchemaError):
        p.on_record(0, b"junk")
    assert p.bad_records == 1
    assert p.gate.offset == 0


def test_market_wide_sums_over_partitions() -> None:
    m = MarketWideMerger()
    lab = {"asset": "all", "side": "long", "window": "1h"}
    lab_all = {"asset": "all", "side": "all", "window": "1h"}
    m.merge(0, [Signal("liq_usd", lab, 30.0, 1), Signal("liq_usd", lab_all, 40.0, 1)])
    out = m.merge(1, [Signal("liq_usd", lab, 10.0, 2), Signal("liq_usd", lab_all, 60.0, 2)])
    by = {(s.name, s.labels.get("side")): s.value for s in out}
    assert by[("liq_usd", "long")] == 40.0
    assert by[("liq_usd", "all")] == 100.0
    assert by[("liq_long_share", None)] == pytest.approx(0.4)
