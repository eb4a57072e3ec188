"""Shared test helpers (imported by tests as ``from tests.helpers import ...``)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import msgspec
import pytest

from streams.events import Event

DATA = Path(__file__).parent / "data"


async def eventually(cond: Callable[[], bool], timeout_s: float = 10.0, what: str = "") -> None:
    """Poll ``cond`` until it holds; fail after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or cond}")
        await asyncio.sleep(0.01)


def ws_frame(venue: str, name: str) -> str:
    """Load a recorded frame from ``tests/data/ws/<venue>/<name>.json``."""
    return (DATA / "ws" / venue / f"{name}.json").read_text(encoding="utf-8").strip()


def _plain(event: Event, keep_recv: bool) -> dict[str, object]:
    d: dict[str, object] = msgspec.to_builtins(event)
    if not keep_recv:
        d.pop("ts_recv")
    return d


def assert_events(actual: list[Event], expected: list[Event], keep_recv: bool = True) -> None:
    """Compare events field by field; floats within 1e-9 relative (decimal formatting)."""
    assert [type(e).__name__ for e in actual] == [type(e).__name__ for e in expected]
    for got, want in zip(actual, expected, strict=True):
        g, w = _plain(got, keep_recv), _plain(want, keep_recv)
        assert g.keys() == w.keys()
        for key, value in w.items():
            if isinstance(value, float):
                assert g[key] == pytest.approx(value, rel=1e-9), key
            else:
                assert g[key] == value, key


class SeedRecorder:
    """A hand-written backfill target (``monitor.backfill.Seedable``) keeping what it was given."""

    def __init__(self) -> None:
        self.seeds: list[tuple[str, str, list[tuple[int, float]]]] = []

    def seed_history(self, asset: str, venue: str, points: Sequence[tuple[int, float]]) -> None:
        self.seeds.append((asset, venue, list(points)))
