"""Numpy arrays as JSON-safe data, for the exact snapshots of windows and processors.

:func:`pack_array` writes an array as its shape, a fill value and the sparse list of entries that
differ from it (NaN fills compare as NaN), so mostly-empty rings stay small in a snapshot;
:func:`unpack_array` reads it back bit-identically. ``FloatArray`` and ``IntArray`` are the array
types the rolling structures and the processors annotate with; :func:`with_rows` gives their
row-per-series arrays room to grow (or takes restored rows back).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["FloatArray", "IntArray", "pack_array", "unpack_array", "with_rows"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


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


def with_rows(rows: FloatArray, capacity: int, columns: int, fill: float) -> FloatArray:
    """A ``(capacity, columns)`` array filled with ``fill`` whose first rows are ``rows``."""
    out = np.full((capacity, columns), fill, dtype=np.float64)
    out[: len(rows)] = rows
    return out
