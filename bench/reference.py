"""The CPU reference every benchmark measures in its own run (not a benchmark: no ``bench_``).

The development machine is shared, so absolute figures move with its load. Each benchmark
therefore also times :func:`cpu_reference`, a fixed pure-Python loop in the shape of the
per-event path (attribute reads, dict lookups and updates, a list append, a float compare), and
prints its figures next to it. Two runs compare by their ratios (figure / reference), not by
their raw figures. The reference is taken best-of-``rounds``, right before the measurement.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

__all__ = ["cpu_reference", "describe"]

_N = 200_000


@dataclass(slots=True)
class _Item:
    key: str
    ts: int
    value: float


def _loop(items: list[_Item]) -> int:
    last: dict[str, int] = {}
    out: list[float] = []
    for it in items:
        k = it.key
        if it.ts > last.get(k, 0):
            last[k] = it.ts
        if it.value > 0.5:
            out.append(it.value)
    return len(out) + len(last)


def cpu_reference(rounds: int = 5) -> float:
    """Iterations/s of the reference loop (best of ``rounds``; ~0.1 s each on an idle core)."""
    items = [_Item(f"k{i % 64}", i, (i % 100) / 100.0) for i in range(_N)]
    best = float("inf")
    for _ in range(rounds):
        t = time.perf_counter()
        _loop(items)
        best = min(best, time.perf_counter() - t)
    return _N / best


def describe(ref: float) -> str:
    """The reference as printed: its rate and the load average when it was taken."""
    with open("/proc/loadavg", encoding="ascii") as f:
        load = f.read().split()[0]
    return f"reference loop {ref / 1e6:.2f} M it/s (load average {load})"
