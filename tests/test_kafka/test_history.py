"""The venues' REST history on Kafka, partition side: a partition that held nothing seeds the
whole history at once; one that held events seeds only the gap after them, once its event time
has passed the gap; pending histories survive a checkpoint; a re-delivered history is not seeded
twice. (The feeds side, end to end on a broker: ``test_history_cluster.py``.)"""

from __future__ import annotations

from structlog.testing import capture_logs

from monitor.backfill import Answer
from monitor.kafka.codec import (
    HistoryRecord,
    decode_checkpoint,
    encode,
    events_record,
)
from monitor.kafka.partition import PartitionProcessor
from streams.events import Event, OpenInterest
from streams.units import NS_PER_HOUR, NS_PER_SECOND
from tests.helpers import btc_open_interest

V = "binance-usdm"
T = 1_760_000_400 * NS_PER_SECOND // NS_PER_HOUR * NS_PER_HOUR  # an hour boundary, Oct 2025
BASE, PEAK, OLD_PEAK = 10e9, 20e9, 40e9
RUN1, RUN2 = T - 10 * NS_PER_HOUR, T + 3 * NS_PER_HOUR


def oi(ts: int, usd: float = BASE) -> OpenInterest:
    return btc_open_interest(ts, usd, ts_recv=ts)


def history(until: int, peak_at: int, old_peak_at: int | None = None) -> HistoryRecord:
    """Hourly open interest (USD) for the 48 h before ``until``: BASE, PEAK at ``peak_at``."""
    points = []
    for h in range(48, -1, -1):
        ts = until - h * NS_PER_HOUR
        usd = PEAK if ts == peak_at else OLD_PEAK if ts == old_peak_at else BASE
        points.append((ts, usd))
    answer = Answer("open_interest", "BTCUSDT", "BTC", "usd", points)
    return HistoryRecord(venue=V, until_ns=until, answers=[answer])


class Partition:
    """A partition processor fed records at increasing offsets; the last drawdown it emitted."""

    def __init__(self, proc: PartitionProcessor | None = None, offset: int = 0) -> None:
        self.proc = proc or PartitionProcessor(0)
        self.offset = offset
        self.drawdown: float | None = None

    def send(self, run: int, events: list[Event], hist: HistoryRecord | None = None) -> None:
        self.replay(self.offset, run, events, hist)
        self.offset += 1

    def replay(
        self, offset: int, run: int, events: list[Event], hist: HistoryRecord | None = None
    ) -> None:
        value = encode(events_record("BTC", run + offset, events, run, hist))
        batch = self.proc.on_record(offset, value)
        for s in batch.signals if batch is not None else []:
            if s.name == "oi_drawdown_pct" and s.labels.get("asset") == "BTC":
                self.drawdown = s.value


def test_a_partition_that_held_nothing_seeds_the_whole_history_at_once() -> None:
    p = Partition()
    p.send(RUN1, [oi(T)])
    p.send(RUN1, [], history(T, peak_at=T - 10 * NS_PER_HOUR))
    p.send(RUN1, [oi(T + 2 * NS_PER_SECOND)])
    assert p.drawdown == -50.0  # BASE against the history's PEAK


def test_without_the_history_the_peak_is_the_live_value() -> None:
    p = Partition()
    p.send(RUN1, [oi(T)])
    p.send(RUN1, [oi(T + 2 * NS_PER_SECOND)])
    assert p.drawdown == 0.0


def test_after_a_downtime_only_the_gap_is_seeded_once_event_time_has_passed_it() -> None:
    p = Partition()
    for s in range(3):
        p.send(RUN1, [oi(T + s * NS_PER_SECOND)])
    assert p.drawdown == 0.0
    # the feeds were down three hours, in which the worker's idle ticks moved event time on;
    # their new run's history has a peak inside the gap and an older, higher one from before
    # the partition's newest event (which must not be seeded)
    p.proc.advance(T + 2 * NS_PER_HOUR)
    hist = history(RUN2, peak_at=T + 2 * NS_PER_HOUR, old_peak_at=T - 5 * NS_PER_HOUR)
    with capture_logs() as logs:
        p.send(RUN2, [], hist)
        p.send(RUN2, [oi(RUN2 - NS_PER_SECOND)])
        assert p.proc.history.state.pending  # event time has not passed the gap yet
        assert not [e for e in logs if e["event"] == "kafka.history_seeded"]
        p.send(RUN2, [oi(RUN2 + NS_PER_SECOND)])
        p.send(RUN2, [oi(RUN2 + 3 * NS_PER_SECOND)])
    seeded = [e for e in logs if e["event"] == "kafka.history_seeded"]
    assert [e["since_ns"] for e in seeded] == [T + 2 * NS_PER_SECOND]
    assert not p.proc.history.state.pending
    assert p.drawdown == -50.0  # against the gap's PEAK, not the older OLD_PEAK


def test_a_short_gap_has_nothing_to_load() -> None:
    p = Partition()
    p.send(RUN1, [oi(T)])
    with capture_logs() as logs:
        p.send(RUN2, [], history(T + 60 * NS_PER_SECOND, peak_at=T + 60 * NS_PER_SECOND))
        p.send(RUN2, [oi(T + 90 * NS_PER_SECOND)])
    assert [e["event"] for e in logs if e["event"].startswith("kafka.history")] == [
        "kafka.history_not_needed"
    ]
    assert p.drawdown == 0.0


def test_a_pending_history_survives_a_checkpoint_and_a_redelivery_is_not_seeded_twice() -> None:
    p = Partition()
    p.send(RUN1, [oi(T)])
    hist = history(RUN2, peak_at=T + 2 * NS_PER_HOUR)
    p.send(RUN2, [], hist)
    cp = decode_checkpoint(encode(p.proc.checkpoint()))
    assert len(cp.history.pending) == 1
    # another worker takes the partition over from the checkpoint and is re-delivered the
    # history record (below the checkpoint's offset: skipped) before new records
    q = Partition(PartitionProcessor(0), offset=p.offset)
    q.proc.restore(cp)
    with capture_logs() as logs:
        q.replay(p.offset - 1, RUN2, [], hist)
        q.send(RUN2, [oi(RUN2 + NS_PER_SECOND)])
        q.send(RUN2, [oi(RUN2 + 3 * NS_PER_SECOND)])
    assert len([e for e in logs if e["event"] == "kafka.history_seeded"]) == 1
    assert q.proc.duplicates == 1
    assert q.drawdown == -50.0
