"""The episode backtests the acceptance tests read, started once per session in two processes.

A backtest runs the daemon's pipeline with its one-second tick over the whole streamed window
(a week for calm-week), so the five episodes together take several minutes of CPU. They start as
soon as collection shows a test that needs them (``tests/conftest.py``), so they run beside the
rest of the suite, whose tests mostly wait on sockets and processes, instead of after it.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from monitor.backtest.run import backtest_summary

#: longest first, so the two workers finish close together
EPISODES = ("calm-week", "march-2023-usdc", "october-10-2025", "august-2024", "november-2025")


class Episodes:
    """Lazily awaited backtest summaries by scenario name."""

    def __init__(self, futures: dict[str, Future[dict[str, Any]]]) -> None:
        self._futures = futures

    @property
    def futures(self) -> list[Future[dict[str, Any]]]:
        """Every episode's future."""
        return list(self._futures.values())

    def __getitem__(self, name: str) -> dict[str, Any]:
        # generous: the suite runs beside them on two cores (calm-week alone is ~6 CPU-minutes)
        return self._futures[name].result(timeout=3600)


_pool: ProcessPoolExecutor | None = None
_episodes: Episodes | None = None


def start() -> Episodes:
    """Submit every episode (once); the summaries (seed 7, default rule pack) as they finish."""
    global _pool, _episodes
    if _episodes is None:
        _pool = ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("spawn"))
        _episodes = Episodes({name: _pool.submit(backtest_summary, name, 7) for name in EPISODES})
    return _episodes


def stop() -> None:
    """End the worker processes; a backtest still running (a run stopped early) is killed
    rather than awaited (calm-week alone is minutes of CPU)."""
    global _pool, _episodes
    if _pool is not None:
        running = _episodes is not None and not all(f.done() for f in _episodes.futures)
        if running:
            for proc in list(getattr(_pool, "_processes", {}).values()):
                proc.terminate()
        _pool.shutdown(wait=not running, cancel_futures=True)
    _pool = _episodes = None
