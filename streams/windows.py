"""Rolling sums in event time with bounded memory, numpy-backed.

:class:`RollingSums` holds many series ("rows") side by side so that the per-tick work is a few
vectorised numpy operations whatever the number of series. It keeps rolling sums (USD, counts) over
several window lengths at once. Each window is served by a ring of buckets at a resolution chosen
from its length (1 s up to 15 min, 1 min up to 48 h, 1 h beyond: see :func:`resolution_for`), so
memory per row is bounded by ``window / resolution`` whatever the window length. A window of length
``W`` at resolution ``r`` read at time ``now`` sums the ``W / r`` buckets that end at or before the
bucket holding ``now - 1 ns``: exactly ``[now - W, now)`` when ``now`` is a multiple of ``r``,
otherwise between ``W - r`` and ``W`` of history plus the current partial bucket.

Late and out-of-order events are explicit: an event for a bucket that is already closed is a
*late* event; it is added to every tier that still holds its bucket (so windows stay exact) and is
counted in ``late_events``. An event older than every retained bucket is dropped and counted in
``dropped_events``. A window that is not yet fully covered by data says so through
:meth:`RollingSums.covered`.

Everything is deterministic: the same events and the same ``advance`` calls give bit-identical
arrays, and :meth:`RollingSums.snapshot` / ``restore`` round-trip them exactly through JSON.
Sampled histories of values (last or maximum per bucket) live in :mod:`streams.sampled_history`,
the JSON packing of arrays in :mod:`streams.array_packing`.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

from streams.array_packing import FloatArray, pack_array, unpack_array, with_rows
from streams.units import NS_PER_HOUR, NS_PER_MINUTE, NS_PER_SECOND

__all__ = ["RollingSums", "resolution_for", "tumbling"]


def tumbling(ts_ns: int, size_ns: int) -> int:
    """Return the start of the tumbling window of ``size_ns`` that holds ``ts_ns``."""
    return ts_ns - ts_ns % size_ns


def resolution_for(window_ns: int) -> int:
    """Return the bucket resolution used for a window of ``window_ns``.

    1 s buckets for windows up to 15 min, 1 min up to 48 h, 1 h beyond. The window length must be
    a multiple of its resolution.
    """
    if window_ns <= 15 * NS_PER_MINUTE:
        res = NS_PER_SECOND
    elif window_ns <= 48 * NS_PER_HOUR:
        res = NS_PER_MINUTE
    else:
        res = NS_PER_HOUR
    if window_ns % res:
        raise ValueError(f"window {window_ns} ns is not a multiple of its resolution {res} ns")
    return res


class _SumTier:
    """One ring of ``length`` buckets of ``res_ns`` for every row."""

    __slots__ = ("cur", "length", "res_ns", "ring", "version")

    def __init__(self, res_ns: int, length: int, capacity: int) -> None:
        self.res_ns = res_ns
        self.length = length
        self.ring: FloatArray = np.zeros((capacity, length), dtype=np.float64)
        self.cur = -1  # index of the newest bucket held (-1: none yet)
        self.version = 0  # bumped whenever ``ring`` or ``cur`` changes

    def roll_to(self, bucket: int) -> None:
        if self.cur < 0:
            self.cur = bucket
            self.version += 1
            return
        steps = bucket - self.cur
        if steps <= 0:
            return
        self.version += 1
        if steps >= self.length:
            self.ring[:] = 0.0
        elif steps == 1:
            self.ring[:, bucket % self.length] = 0.0
        else:
            slots = (self.cur + np.arange(1, steps + 1, dtype=np.int64)) % self.length
            self.ring[:, slots] = 0.0
        self.cur = bucket

    def range_sum(self, first: int, last: int, n_rows: int) -> FloatArray:
        """Sum buckets ``first..last`` (inclusive) per row; buckets outside the ring count as 0."""
        lo = max(first, self.cur - self.length + 1)
        hi = min(last, self.cur)
        if hi < lo:
            return np.zeros(n_rows, dtype=np.float64)
        s0 = lo % self.length
        s1 = hi % self.length
        ring = self.ring[:n_rows]
        if s0 <= s1:
            res: FloatArray = ring[:, s0 : s1 + 1].sum(axis=1)
            return res
        out: FloatArray = ring[:, s0:].sum(axis=1) + ring[:, : s1 + 1].sum(axis=1)
        return out


class RollingSums:
    """Rolling sums of many rows over several window lengths, in event time.

    Args:
        windows_ns: the window lengths; :meth:`sums` takes an index into this sequence.
        capacity: initial number of rows (grows by doubling).

    Rows are created with :meth:`add_row`. :meth:`add` is the per-event hot path: in-order events
    fall into a plain Python accumulator for the current finest bucket, which is folded into the
    numpy rings when time moves on or a window is read.
    """

    def __init__(self, windows_ns: Sequence[int], capacity: int = 16) -> None:
        self.windows_ns = [int(w) for w in windows_ns]
        if not self.windows_ns:
            raise ValueError("at least one window is required")
        need: dict[int, int] = {}
        self._window_tier: list[tuple[int, int]] = []  # (tier index, buckets)
        for w in self.windows_ns:
            res = resolution_for(w)
            need[res] = max(need.get(res, 0), w // res)
        resolutions = sorted(need)
        for a, b in itertools.pairwise(resolutions):
            if b % a:
                raise ValueError("resolutions must be multiples of each other")
        self._capacity = max(1, capacity)
        self._tiers = [_SumTier(r, need[r] + 1, self._capacity) for r in resolutions]
        for w in self.windows_ns:
            res = resolution_for(w)
            self._window_tier.append((resolutions.index(res), w // res))
        self._res0 = resolutions[0]
        self._ratios = [t.res_ns // self._res0 for t in self._tiers]
        self._open: list[float] = [0.0] * self._capacity
        self._open_dirty = False
        self._cur0 = -1
        self.n_rows = 0
        self.start_ns: int | None = None
        self.late_events = 0
        self.dropped_events = 0

    # -- rows -----------------------------------------------------------------------------------

    def add_row(self) -> int:
        """Create a row (all zeros) and return its index."""
        if self.n_rows == self._capacity:
            self._grow(self._capacity * 2)
        self.n_rows += 1
        return self.n_rows - 1

    def _grow(self, capacity: int) -> None:
        for t in self._tiers:
            t.ring = with_rows(t.ring, capacity, t.length, 0.0)
        self._open.extend([0.0] * (capacity - self._capacity))
        self._capacity = capacity

    # -- updates --------------------------------------------------------------------------------

    def add(self, row: int, ts_ns: int, value: float) -> bool:
        """Add ``value`` to ``row`` at event time ``ts_ns``; return False if it was dropped."""
        b = ts_ns // self._res0
        if b != self._cur0:
            if b > self._cur0:
                self._roll(b, ts_ns)
            else:
                return self._add_late(row, ts_ns, value)
        self._open[row] += value
        self._open_dirty = True
        return True

    def add_pair(self, row_a: int, value_a: float, row_b: int, value_b: float, ts_ns: int) -> bool:
        """Add two values of one event (e.g. USD and a count) at ``ts_ns``; False if dropped."""
        b = ts_ns // self._res0
        if b != self._cur0:
            if b > self._cur0:
                self._roll(b, ts_ns)
            else:
                stored = self._add_late(row_a, ts_ns, value_a)
                if stored:
                    self._add_late(row_b, ts_ns, value_b, count=False)
                return stored
        self._open[row_a] += value_a
        self._open[row_b] += value_b
        self._open_dirty = True
        return True

    def _add_late(self, row: int, ts_ns: int, value: float, count: bool = True) -> bool:
        if count:
            self.late_events += 1
        stored = False
        for t in self._tiers:
            bt = ts_ns // t.res_ns
            if t.cur - t.length < bt <= t.cur:
                t.ring[row, bt % t.length] += value
                t.version += 1
                stored = True
        if not stored and count:
            self.dropped_events += 1
        return stored

    def _flush(self) -> None:
        if not self._open_dirty:
            return
        n = self.n_rows
        vec = np.asarray(self._open[:n], dtype=np.float64)
        for t, k in zip(self._tiers, self._ratios, strict=True):
            t.ring[:n, (self._cur0 // k) % t.length] += vec
            t.version += 1
        self._open = [0.0] * self._capacity
        self._open_dirty = False

    def _roll(self, b0: int, ts_ns: int) -> None:
        self._flush()
        if self.start_ns is None:
            self.start_ns = ts_ns
        for t, k in zip(self._tiers, self._ratios, strict=True):
            t.roll_to(b0 // k)
        self._cur0 = b0

    def advance(self, now_ns: int) -> None:
        """Move event time to ``now_ns``: close every bucket that ends at or before it."""
        b = now_ns // self._res0
        if b > self._cur0:
            self._roll(b, now_ns)

    # -- reads ----------------------------------------------------------------------------------

    def sums(self, window: int, now_ns: int) -> FloatArray:
        """Return the sum of every row over window number ``window`` ending at ``now_ns``.

        Call :meth:`advance` with ``now_ns`` first (reading the past is not supported).
        """
        self._flush()
        ti, n = self._window_tier[window]
        t = self._tiers[ti]
        last = (now_ns - 1) // t.res_ns
        return t.range_sum(last - n + 1, last, self.n_rows)

    def window_key(self, window: int, now_ns: int) -> tuple[int, int, int]:
        """A key that changes whenever :meth:`sums` of ``window`` at ``now_ns`` may change.

        ``sums`` reads the same buckets with the same contents while the key stays equal, so a
        caller can keep the figures it derived from the previous read (e.g. per tick).
        """
        self._flush()
        ti, _ = self._window_tier[window]
        t = self._tiers[ti]
        return (now_ns - 1) // t.res_ns, t.version, self.n_rows

    def total(self, start_ns: int, end_ns: int) -> FloatArray:
        """Return every row's total over ``[start_ns, end_ns)``.

        Both bounds must be multiples of some tier's resolution, and the range must still be held
        by that tier (the finest such tier is used).
        """
        self._flush()
        for t in self._tiers:
            r = t.res_ns
            if start_ns % r == 0 and end_ns % r == 0 and start_ns // r > t.cur - t.length:
                return t.range_sum(start_ns // r, end_ns // r - 1, self.n_rows)
        raise ValueError(f"range [{start_ns}, {end_ns}) is not held at any resolution")

    def covered(self, window: int, now_ns: int) -> bool:
        """Return True when data has been collected for the whole window ending at ``now_ns``."""
        return self.start_ns is not None and now_ns - self.start_ns >= self.windows_ns[window]

    def set_start(self, start_ns: int) -> None:
        """Declare that data collection started at ``start_ns`` (e.g. after a backfill)."""
        self.start_ns = start_ns

    # -- state ----------------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """Return the exact state as JSON-safe data."""
        return {
            "windows_ns": self.windows_ns,
            "n_rows": self.n_rows,
            "capacity": self._capacity,
            "cur0": self._cur0,
            "open": self._open[: self.n_rows],
            "open_dirty": self._open_dirty,
            "tiers": [
                {"cur": t.cur, "ring": pack_array(t.ring[: self.n_rows])} for t in self._tiers
            ],
            "start_ns": self.start_ns,
            "late_events": self.late_events,
            "dropped_events": self.dropped_events,
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Load a state written by :meth:`snapshot` of a structure with the same windows."""
        if [int(w) for w in state["windows_ns"]] != self.windows_ns:
            raise ValueError("snapshot was taken with different windows")
        capacity = int(state["capacity"])
        n = int(state["n_rows"])
        self._capacity = capacity
        self.n_rows = n
        for t, ts in zip(self._tiers, state["tiers"], strict=True):
            t.ring = with_rows(unpack_array(ts["ring"]), capacity, t.length, 0.0)
            t.cur = int(ts["cur"])
            t.version += 1
        self._open = [float(x) for x in state["open"]] + [0.0] * (capacity - n)
        self._open_dirty = bool(state["open_dirty"])
        self._cur0 = int(state["cur0"])
        start = state["start_ns"]
        self.start_ns = None if start is None else int(start)
        self.late_events = int(state["late_events"])
        self.dropped_events = int(state["dropped_events"])
