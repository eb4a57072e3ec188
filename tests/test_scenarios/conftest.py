"""Episode backtests shared by the acceptance tests, computed once per session in two processes.

A backtest runs the daemon's pipeline with its one-second tick over the whole streamed window
(a week for calm-week), so the five episodes together take a few minutes of CPU; they run in two
worker processes while the main process waits, and each test reads the JSON summary.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

import pytest

from monitor.backtest.run import backtest_summary

#: longest first, so the two workers finish close together
EPISODES = ("calm-week", "march-2023-usdc", "october-10-2025", "august-2024", "november-2025")


class Episodes:
    """Lazily awaited backtest summaries by scenario name."""

    def __init__(self, futures: dict[str, Future[dict[str, Any]]]) -> None:
        self._futures = futures

    def __getitem__(self, name: str) -> dict[str, Any]:
        # calm-week (a week of one-second ticks) takes ~6 min of CPU (measured on a loaded 2-core
        # machine); the timeout leaves room for a busy one
        return self._futures[name].result(timeout=3600)


@pytest.fixture(scope="session")
def episodes() -> Iterator[Episodes]:
    """The JSON summaries of every episode scenario (seed 7, default rule pack)."""
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=2, mp_context=ctx) as pool:
        futures = {name: pool.submit(backtest_summary, name, 7) for name in EPISODES}
        yield Episodes(futures)
