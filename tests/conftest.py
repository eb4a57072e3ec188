"""Suite-wide hooks: the episode backtests start as soon as a collected test needs them."""

from __future__ import annotations

import sys

import pytest


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start the episode backtests at once when a selected test uses them (they then run beside
    the rest of the suite); the ``episodes`` fixture reads the same runs."""
    if session.config.option.collectonly:
        return
    if any("episodes" in getattr(item, "fixturenames", ()) for item in session.items):
        from tests.test_scenarios import episodes

        episodes.start()


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Never leave the backtest workers behind (e.g. a run stopped early)."""
    episodes = sys.modules.get("tests.test_scenarios.episodes")
    if episodes is not None:
        episodes.stop()
