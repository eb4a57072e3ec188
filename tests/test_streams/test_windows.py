"""Rolling windows: exact sums, late events, coverage, bounded rings, histories, snapshots."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from streams.sampled_history import SampledHistory
from streams.units import NS_PER_HOUR, NS_PER_MINUTE, NS_PER_SECOND
from streams.windows import RollingSums, resolution_for, tumbling

S = NS_PER_SECOND
M = NS_PER_MINUTE
H = NS_PER_HOUR
T0 = 1_763_683_200 * S


def test_tumbling_and_resolution_choice() -> None:
    """Window starts are floor multiples; resolutions are 1 s / 1 min / 1 h by window length."""
    assert tumbling(T0 + 61 * S + 5, M) == T0 + M
    assert resolution_for(60 * S) == S
    assert resolution_for(15 * M) == S
    assert resolution_for(H) == M
    assert resolution_for(48 * H) == M
    assert resolution_for(60 * 24 * H) == H
    with pytest.raises(ValueError):
        resolution_for(H + 30 * S)


def test_one_minute_window_is_exact_on_second_boundaries() -> None:
    """A 1 min window read at a whole second sums exactly the events of [now - 60 s, now).

    t (s)   0.5   30   59.9 | 60       61
    value   10    5    1    | 2
    1m @60 = 10+5+1 = 16;  1m @61 = 5+1+2 = 8 (the 0.5 s event has left);  @120.5 = 0
    """
    w = RollingSums([60 * S])
    r = w.add_row()
    w.add(r, T0 + S // 2, 10.0)
    w.add(r, T0 + 30 * S, 5.0)
    w.add(r, T0 + 59 * S + 900_000_000, 1.0)
    w.advance(T0 + 60 * S)
    assert w.sums(0, T0 + 60 * S).tolist() == [16.0]
    w.add(r, T0 + 60 * S, 2.0)
    w.advance(T0 + 61 * S)
    assert w.sums(0, T0 + 61 * S).tolist() == [8.0]
    w.advance(T0 + 121 * S)
    assert w.sums(0, T0 + 121 * S).tolist() == [0.0]


def test_rows_are_independent_and_grow_past_capacity() -> None:
    """Rows beyond the initial capacity are created and summed separately."""
    w = RollingSums([60 * S], capacity=1)
    rows = [w.add_row() for _ in range(5)]
    for i, r in enumerate(rows):
        w.add(r, T0 + i * S, float(i + 1))
    w.advance(T0 + 10 * S)
    assert w.sums(0, T0 + 10 * S).tolist() == [1.0, 2.0, 3.0, 4.0, 5.0]


def test_hour_window_at_minute_resolution_includes_the_current_minute() -> None:
    """A 1 h window uses 1 min buckets: read mid-minute it holds the partial current minute.

    t       0:00:10   0:30:00   1:00:20   1:00:40 (now)
    value   1         2         4
    1h @1:00:00 = 1+2 = 3; 1h @1:00:40 = buckets 0:01..1:00 = 2+4 = 6 (minute 0:00 has left)
    """
    w = RollingSums([H])
    r = w.add_row()
    w.add(r, T0 + 10 * S, 1.0)
    w.add(r, T0 + 30 * M, 2.0)
    w.advance(T0 + H)
    assert w.sums(0, T0 + H).tolist() == [3.0]
    w.add(r, T0 + H + 20 * S, 4.0)
    w.advance(T0 + H + 40 * S)
    assert w.sums(0, T0 + H + 40 * S).tolist() == [6.0]


def test_late_event_within_the_ring_is_added_and_counted() -> None:
    """An event for a closed bucket still inside every window is summed and counted as late."""
    w = RollingSums([60 * S, 5 * 60 * S])
    r = w.add_row()
    w.add(r, T0 + 10 * S, 1.0)
    w.advance(T0 + 20 * S)
    w.add(r, T0 + 5 * S, 2.0)  # late by 15 s
    assert w.late_events == 1
    assert w.dropped_events == 0
    assert w.sums(0, T0 + 20 * S).tolist() == [3.0]
    assert w.sums(1, T0 + 20 * S).tolist() == [3.0]


def test_event_older_than_every_ring_is_dropped_and_counted() -> None:
    """An event older than the longest window's ring is dropped, counted, and sums are unchanged."""
    w = RollingSums([60 * S])
    r = w.add_row()
    w.add(r, T0 + 200 * S, 1.0)
    assert w.add(r, T0 + 100 * S, 7.0) is False
    assert (w.late_events, w.dropped_events) == (1, 1)
    w.advance(T0 + 201 * S)
    assert w.sums(0, T0 + 201 * S).tolist() == [1.0]


def test_late_event_kept_only_by_the_coarse_tier() -> None:
    """A 10-min-late event is outside the 1 m ring but still counts in the 1 h window."""
    w = RollingSums([60 * S, H])
    r = w.add_row()
    w.add(r, T0 + 20 * M, 1.0)
    w.add(r, T0 + 10 * M, 5.0)
    assert (w.late_events, w.dropped_events) == (1, 0)
    w.advance(T0 + 20 * M + S)
    assert w.sums(0, T0 + 20 * M + S).tolist() == [1.0]
    assert w.sums(1, T0 + 20 * M + S).tolist() == [6.0]


def test_window_reports_when_it_is_not_yet_covered() -> None:
    """``covered`` is False until a whole window of event time has been seen."""
    w = RollingSums([60 * S, H])
    r = w.add_row()
    assert not w.covered(0, T0)
    w.add(r, T0, 1.0)
    assert not w.covered(0, T0 + 59 * S)
    assert w.covered(0, T0 + 60 * S)
    assert not w.covered(1, T0 + 60 * S)
    w.set_start(T0 - H)
    assert w.covered(1, T0 + 60 * S)


def test_gap_longer_than_the_ring_clears_everything() -> None:
    """After a gap longer than the ring, old buckets can not resurface in the sums."""
    w = RollingSums([60 * S])
    r = w.add_row()
    for i in range(60):
        w.add(r, T0 + i * S, 1.0)
    w.advance(T0 + 10 * H)
    w.add(r, T0 + 10 * H + 59 * S, 3.0)
    w.advance(T0 + 10 * H + 60 * S)
    assert w.sums(0, T0 + 10 * H + 60 * S).tolist() == [3.0]


def test_memory_is_bounded_by_window_over_resolution() -> None:
    """A 24 h window holds 1441 one-minute buckets per row, however many events arrive."""
    w = RollingSums([24 * H])
    r = w.add_row()
    for i in range(3000):
        w.add(r, T0 + i * M, 1.0)
    w.advance(T0 + 3000 * M)
    assert w.snapshot()["tiers"][0]["ring"]["shape"] == [1, 1441]
    assert w.sums(0, T0 + 3000 * M).tolist() == [1440.0]


def test_total_of_a_completed_minute() -> None:
    """``total`` sums an aligned range at the finest tier that still holds it."""
    w = RollingSums([60 * S, H])
    r = w.add_row()
    w.add(r, T0 + 30 * S, 1.0)
    w.add(r, T0 + 61 * S, 2.0)
    w.advance(T0 + 2 * M)
    assert w.total(T0, T0 + M).tolist() == [1.0]
    assert w.total(T0, T0 + 2 * M).tolist() == [3.0]


def test_sums_snapshot_round_trips_through_json() -> None:
    """A restored structure continues exactly like the original."""
    a = RollingSums([60 * S, H])
    for _ in range(3):
        a.add_row()
    for i in range(100):
        a.add(i % 3, T0 + i * 700_000_000, 0.1 * i)
    b = RollingSums([60 * S, H])
    b.restore(json.loads(json.dumps(a.snapshot())))
    for x in (a, b):
        x.add(1, T0 + 71 * S, 2.5)
        x.advance(T0 + 90 * S)
    for k in range(2):
        assert a.sums(k, T0 + 90 * S).tolist() == b.sums(k, T0 + 90 * S).tolist()


def test_history_last_value_and_missing_buckets() -> None:
    """``at`` answers the last value recorded in a bucket and NaN for buckets never recorded."""
    h = SampledHistory([(M, 10)])
    h.add_row()
    h.add_row()
    h.record(T0 + 10 * S, np.array([1.0, 2.0]))
    h.record(T0 + 50 * S, np.array([3.0, np.nan]))
    assert h.at(T0 + 59 * S).tolist()[0] == 3.0
    assert math.isnan(h.at(T0 + 59 * S).tolist()[1])
    assert all(math.isnan(v) for v in h.at(T0 + M).tolist())
    h.record(T0 + 10 * M, np.array([5.0, 6.0]))  # overwrites slot 0 (bucket 0 is gone)
    assert all(math.isnan(v) for v in h.at(T0).tolist())
    assert h.at(T0 + 10 * M).tolist() == [5.0, 6.0]


def test_history_falls_back_to_the_coarse_tier() -> None:
    """A time older than the fine tier is answered from the coarse tier."""
    h = SampledHistory([(M, 5), (H, 48)])
    h.add_row()
    h.record(T0 + 59 * M, np.array([7.0]))
    h.record(T0 + 2 * H + 4 * M, np.array([8.0]))  # minute slot 4 now holds minute 124
    assert h.at(T0 + 59 * M).tolist() == [7.0]  # from the 1 h tier (hour 0)
    assert h.at(T0 + 2 * H + 4 * M).tolist() == [8.0]
    assert math.isnan(h.at(T0 + H).tolist()[0])


def test_rolling_max_over_hourly_buckets() -> None:
    """``window_max`` is the max over held buckets in the window, expiring old peaks.

    hour      0    1    2    3(now 3:30)
    recorded  10   30   20   15
    max of 3h window @3:30 = max(hours 1..3) = 30; @4:00 (hours 1..3) = 30; @5:00 (2..4) = 20
    """
    h = SampledHistory([(H, 100)], mode="max")
    h.add_row()
    for hour, v in enumerate([10.0, 30.0, 20.0, 15.0]):
        h.record(T0 + hour * H, np.array([v]))
    h.record(T0 + 3 * H + 10 * M, np.array([12.0]))  # max mode keeps 15
    assert h.window_max(0, T0 + 3 * H + 30 * M, 3 * H).tolist() == [30.0]
    assert h.window_max(0, T0 + 4 * H, 3 * H).tolist() == [30.0]
    assert h.window_max(0, T0 + 5 * H, 3 * H).tolist() == [20.0]


def test_backfilled_peak_invalidates_the_cached_max() -> None:
    """Seeding an older bucket with a higher value changes the rolling max."""
    h = SampledHistory([(H, 100)], mode="max")
    h.add_row()
    h.record(T0 + 5 * H, np.array([10.0]))
    assert h.window_max(0, T0 + 6 * H, 24 * H).tolist() == [10.0]
    h.record_row(0, T0 + 2 * H, 50.0)
    assert h.window_max(0, T0 + 6 * H, 24 * H).tolist() == [50.0]


def test_history_snapshot_round_trips_through_json() -> None:
    """A restored history answers the same reads."""
    a = SampledHistory([(M, 30), (H, 10)], mode="max")
    a.add_row()
    a.add_row()
    for i in range(50):
        a.record(T0 + i * M, np.array([float(i % 7), np.nan if i % 3 else 1.0]))
    b = SampledHistory([(M, 30), (H, 10)], mode="max")
    b.restore(json.loads(json.dumps(a.snapshot())))
    for t in (T0 + 45 * M, T0 + 10 * M, T0):
        assert np.array_equal(a.at(t), b.at(t), equal_nan=True)
    assert np.array_equal(
        a.window_max(1, T0 + 50 * M, 5 * H), b.window_max(1, T0 + 50 * M, 5 * H), equal_nan=True
    )
