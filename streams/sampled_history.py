"""A sampled history of many series in event time, on tiers of buckets, numpy-backed.

:class:`SampledHistory` keeps one value per row and bucket (the last value recorded in the bucket,
or its maximum) on one or more tiers, e.g. 1 min buckets for 48 h and 1 h buckets for 90 days. It
answers "what was the value at ``ts``" (:meth:`SampledHistory.at`, and
:meth:`SampledHistory.at_or_before` for sparse, backfilled histories) for changes and returns, and
"what is the maximum over the last ``W``" (:meth:`SampledHistory.window_max`) for drawdowns from
rolling peaks. Each slot remembers which bucket it holds, so a read of a bucket that was never
recorded, or has since been overwritten, answers NaN rather than a wrong value.

Writes into a bucket older than a tier's newest one are allowed while the tier still holds it and
bump :attr:`SampledHistory.version`, which invalidates the cached rolling maximum. The state
round-trips exactly through JSON with :meth:`SampledHistory.snapshot` / ``restore``. Its sibling
for rolling sums is :mod:`streams.windows`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from streams.array_packing import FloatArray, IntArray, pack_array, unpack_array, with_rows

__all__ = ["SampledHistory"]


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
            self._capacity *= 2
            for t in self._tiers:
                t.values = with_rows(t.values, self._capacity, t.length, np.nan)
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
        slot = last % t.length  # the only slot that can hold bucket ``last``
        if int(t.bucket_of[slot]) != last:
            return done.copy()
        out: FloatArray = np.fmax(done, t.values[: self.n_rows, slot])
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
            t.values = with_rows(unpack_array(s["values"]), cap, t.length, np.nan)
            t.bucket_of = np.asarray(s["bucket_of"], dtype=np.int64)
        self._cache.clear()


def _fmax_rows(cols: FloatArray, n_rows: int) -> FloatArray:
    if cols.shape[1] == 0:
        return np.full(n_rows, np.nan, dtype=np.float64)
    out: FloatArray = np.fmax.reduce(cols, axis=1)
    return out
