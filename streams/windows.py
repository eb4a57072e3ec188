"""Rolling windows in event time with bounded memory, numpy-backed.

Two structures, both holding many series ("rows") side by side so that the per-tick work is a few
vectorised numpy operations whatever the number of series:

- :class:`RollingSums` keeps rolling sums (USD, counts) over several window lengths at once. Each
  window is served by a ring of buckets at a resolution chosen from its length (1 s up to 15 min,
  1 min up to 48 h, 1 h beyond: see :func:`resolution_for`), so memory per row is bounded by
  ``window / resolution`` whatever the window length. A window of length ``W`` at resolution ``r``
  read at time ``now`` sums the ``W / r`` buckets that end at or before the bucket holding
  ``now - 1 ns``: exactly ``[now - W, now)`` when ``now`` is a multiple of ``r``, otherwise between
  ``W - r`` and ``W`` of history plus the current partial bucket.
- :class:`SampledHistory` keeps a sampled history of values per row (last value or maximum per
  bucket) on one or more tiers, e.g. 1 min for 48 h and 1 h for 90 days. It answers "what was the
  value at ``ts``" (for changes and returns) and "what is the maximum over the last ``W``" (for
  drawdowns from rolling peaks).

Late and out-of-order events are explicit: an event for a bucket that is already closed is a
*late* event; it is added to every tier that still holds its bucket (so windows stay exact) and is
counted in ``late_events``. An event older than every retained bucket is dropped and counted in
``dropped_events``. A window that is not yet fully covered by data says so through
:meth:`RollingSums.covered` (and :meth:`SampledHistory.at` answers NaN for buckets it never saw).

Everything is deterministic: the same events and the same ``advance`` calls give bit-identical
arrays, and :meth:`snapshot` / :meth:`restore` round-trip them exactly through JSON.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from streams.units import NS_PER_HOUR, NS_PER_MINUTE, NS_PER_SECOND

__all__ = [
    "RollingSums",
    "SampledHistory",
    "pack_array",
    "resolution_for",
    "tumbling",
    "unpack_array",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


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


def pack_array(arr: npt.NDArray[Any], fill: float = 0.0) -> dict[str, Any]:
    """Encode an array as JSON-safe sparse lists (entries equal to ``fill`` are left out)."""
    flat = arr.ravel()
    mask = ~np.isnan(flat) if np.isnan(fill) else flat != fill
    idx = np.flatnonzero(mask)
    return {
        "shape": list(arr.shape),
        "fill": None if np.isnan(fill) else fill,
        "idx": idx.tolist(),
        "val": flat[idx].tolist(),
    }


def unpack_array(packed: dict[str, Any], dtype: type = np.float64) -> npt.NDArray[Any]:
    """Decode an array written by :func:`pack_array`."""
    fill = packed["fill"]
    out = np.full(tuple(packed["shape"]), np.nan if fill is None else fill, dtype=dtype)
    flat = out.reshape(-1)
    if packed["idx"]:
        flat[np.asarray(packed["idx"], dtype=np.int64)] = np.asarray(packed["val"], dtype=dtype)
    return out


class _SumTier:
    """One ring of ``length`` buckets of ``res_ns`` for every row."""

    __slots__ = ("cur", "length", "res_ns", "ring")

    def __init__(self, res_ns: int, length: int, capacity: int) -> None:
        self.res_ns = res_ns
        self.length = length
        self.ring: FloatArray = np.zeros((capacity, length), dtype=np.float64)
        self.cur = -1  # index of the newest bucket held (-1: none yet)

    def roll_to(self, bucket: int) -> None:
        if self.cur < 0:
            self.cur = bucket
            return
        steps = bucket - self.cur
        if steps <= 0:
            return
        if steps >= self.length:
            self.ring[:] = 0.0
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
            ring = np.zeros((capacity, t.length), dtype=np.float64)
            ring[: self._capacity] = t.ring
            t.ring = ring
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
            t.ring = np.zeros((capacity, t.length), dtype=np.float64)
            t.ring[:n] = unpack_array(ts["ring"])
            t.cur = int(ts["cur"])
        self._open = [float(x) for x in state["open"]] + [0.0] * (capacity - n)
        self._open_dirty = bool(state["open_dirty"])
        self._cur0 = int(state["cur0"])
        start = state["start_ns"]
        self.start_ns = None if start is None else int(start)
        self.late_events = int(state["late_events"])
        self.dropped_events = int(state["dropped_events"])


class _HistTier:
    __slots__ = ("bucket_of", "length", "res_ns", "values")

    def __init__(self, res_ns: int, length: int, capacity: int) -> None:
        self.res_ns = res_ns
        self.length = length
        self.values: FloatArray = np.full((capacity, length), np.nan, dtype=np.float64)
        self.bucket_of: IntArray = np.full(length, -1, dtype=np.int64)


class SampledHistory:
    """A sampled history of many rows on one or more tiers of buckets.

    Args:
        tiers: ``(resolution_ns, n_buckets)`` pairs, finest first, e.g.
            ``[(NS_PER_MINUTE, 1500), (NS_PER_HOUR, 2200)]``.
        mode: ``"last"`` keeps the last value recorded in each bucket, ``"max"`` the maximum.
        capacity: initial number of rows (grows by doubling).

    Missing values are NaN. A slot remembers which bucket it holds, so reads of buckets that were
    never recorded (or have been overwritten) answer NaN rather than a wrong value.
    """

    def __init__(
        self,
        tiers: Sequence[tuple[int, int]],
        mode: Literal["last", "max"] = "last",
        capacity: int = 16,
    ) -> None:
        if not tiers:
            raise ValueError("at least one tier is required")
        self.mode = mode
        self._capacity = max(1, capacity)
        self._tiers = [_HistTier(int(r), int(n), self._capacity) for r, n in tiers]
        self.n_rows = 0
        self.version = 0  # bumped by writes into buckets older than a tier's newest one
        self._newest = [-1 for _ in self._tiers]
        self._cache: dict[tuple[int, int, int], FloatArray] = {}

    def add_row(self) -> int:
        """Create a row (all NaN) and return its index."""
        if self.n_rows == self._capacity:
            cap = self._capacity * 2
            for t in self._tiers:
                vals = np.full((cap, t.length), np.nan, dtype=np.float64)
                vals[: self._capacity] = t.values
                t.values = vals
            self._capacity = cap
        self.n_rows += 1
        self._cache.clear()
        return self.n_rows - 1

    def _slot(self, ti: int, bucket: int) -> int | None:
        """Return the slot for ``bucket`` in tier ``ti``, claiming it if it holds an older one."""
        t = self._tiers[ti]
        slot = bucket % t.length
        held = int(t.bucket_of[slot])
        if held == bucket:
            if bucket < self._newest[ti]:
                self.version += 1
            return slot
        if held > bucket or bucket <= self._newest[ti] - t.length:
            return None
        t.values[:, slot] = np.nan
        t.bucket_of[slot] = bucket
        if bucket > self._newest[ti]:
            self._newest[ti] = bucket
        else:
            self.version += 1
        return slot

    def record(self, ts_ns: int, values: FloatArray) -> None:
        """Record one value per row (NaN: missing) at ``ts_ns`` in every tier."""
        n = self.n_rows
        for ti, t in enumerate(self._tiers):
            slot = self._slot(ti, ts_ns // t.res_ns)
            if slot is None:
                continue
            col = t.values[:n, slot]
            if self.mode == "last":
                col[:] = values[:n]
            else:
                np.fmax(col, values[:n], out=col)

    def record_row(self, row: int, ts_ns: int, value: float) -> None:
        """Record one value of one row at ``ts_ns`` (used for backfill)."""
        for ti, t in enumerate(self._tiers):
            slot = self._slot(ti, ts_ns // t.res_ns)
            if slot is None:
                continue
            old = float(t.values[row, slot])
            if self.mode == "last" or np.isnan(old) or value > old:
                t.values[row, slot] = value
        self.version += 1

    def clear_row(self, row: int) -> None:
        """Forget every value of one row (e.g. a backfill found inconsistent)."""
        for t in self._tiers:
            t.values[row, :] = np.nan
        self.version += 1
        self._cache.clear()

    def at(self, ts_ns: int) -> FloatArray:
        """Return every row's value in the bucket holding ``ts_ns`` (finest tier that has it)."""
        n = self.n_rows
        for t in self._tiers:
            b = ts_ns // t.res_ns
            slot = b % t.length
            if int(t.bucket_of[slot]) == b:
                return t.values[:n, slot].copy()
        return np.full(n, np.nan, dtype=np.float64)

    def at_or_before(self, ts_ns: int, max_age_ns: int) -> FloatArray:
        """Return every row's latest value recorded in ``[ts_ns - max_age_ns, ts_ns]``.

        Searches the finest tier first, then coarser tiers for rows still missing (NaN if none).
        Use it on sparse (e.g. backfilled) histories where :meth:`at` would find an empty bucket.
        """
        n = self.n_rows
        out = np.full(n, np.nan, dtype=np.float64)
        for ti, t in enumerate(self._tiers):
            missing = np.isnan(out)
            if not missing.any():
                break
            cols, buckets = self.columns(ti, (ts_ns - max_age_ns) // t.res_ns, ts_ns // t.res_ns)
            if buckets.size == 0:
                continue
            vals = cols[:, np.argsort(buckets, kind="stable")]
            valid = ~np.isnan(vals)
            has = valid.any(axis=1) & missing
            if not has.any():
                continue
            last = vals.shape[1] - 1 - np.argmax(valid[:, ::-1], axis=1)
            picked = vals[np.arange(n), last]
            out[has] = picked[has]
        return out

    def newest_bucket(self, tier: int) -> int:
        """Return the newest bucket index held by ``tier`` (-1 if none)."""
        return self._newest[tier]

    def columns(self, tier: int, first: int, last: int) -> tuple[FloatArray, IntArray]:
        """Return ``(values[rows, k], buckets[k])`` of the held buckets ``first..last``."""
        t = self._tiers[tier]
        mask = (t.bucket_of >= first) & (t.bucket_of <= last)
        return t.values[: self.n_rows][:, mask], t.bucket_of[mask]

    def window_max(self, tier: int, now_ns: int, window_ns: int) -> FloatArray:
        """Return every row's maximum over the buckets of ``tier`` in the window ending at now.

        Buckets ``(now - window) // res .. (now - 1) // res`` are used, NaN where a row has none.
        The maximum over the completed buckets is cached until a bucket rolls or the past is
        rewritten, so calling this on every tick is cheap.
        """
        t = self._tiers[tier]
        last = (now_ns - 1) // t.res_ns
        first = (now_ns - window_ns) // t.res_ns
        key = (tier, first, self.version)
        done = self._cache.get(key)
        if done is None or done.shape[0] != self.n_rows:
            cols, _ = self.columns(tier, first, last - 1)
            done = _fmax_rows(cols, self.n_rows)
            self._cache = {key: done}
        cols, _ = self.columns(tier, last, last)
        if cols.shape[1] == 0:
            return done.copy()
        out: FloatArray = np.fmax(done, cols[:, 0])
        return out

    def snapshot(self) -> dict[str, Any]:
        """Return the exact state as JSON-safe data."""
        return {
            "mode": self.mode,
            "n_rows": self.n_rows,
            "capacity": self._capacity,
            "version": self.version,
            "newest": list(self._newest),
            "tiers": [
                {
                    "res_ns": t.res_ns,
                    "length": t.length,
                    "bucket_of": t.bucket_of.tolist(),
                    "values": pack_array(t.values[: self.n_rows], fill=np.nan),
                }
                for t in self._tiers
            ],
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Load a state written by :meth:`snapshot` of a history with the same tiers."""
        if [(int(s["res_ns"]), int(s["length"])) for s in state["tiers"]] != [
            (t.res_ns, t.length) for t in self._tiers
        ]:
            raise ValueError("snapshot was taken with different tiers")
        cap = int(state["capacity"])
        n = int(state["n_rows"])
        self._capacity = cap
        self.n_rows = n
        self.version = int(state["version"])
        self._newest = [int(x) for x in state["newest"]]
        for t, s in zip(self._tiers, state["tiers"], strict=True):
            t.values = np.full((cap, t.length), np.nan, dtype=np.float64)
            t.values[:n] = unpack_array(s["values"])
            t.bucket_of = np.asarray(s["bucket_of"], dtype=np.int64)
        self._cache.clear()


def _fmax_rows(cols: FloatArray, n_rows: int) -> FloatArray:
    if cols.shape[1] == 0:
        return np.full(n_rows, np.nan, dtype=np.float64)
    out: FloatArray = np.fmax.reduce(cols, axis=1)
    return out
