"""Episode backtests shared by the acceptance tests (see :mod:`tests.test_scenarios.episodes`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.test_scenarios import episodes as _episodes
from tests.test_scenarios.episodes import Episodes


@pytest.fixture(scope="session")
def episodes() -> Iterator[Episodes]:
    """The JSON summaries of every episode scenario (seed 7, default rule pack)."""
    yield _episodes.start()
    _episodes.stop()
