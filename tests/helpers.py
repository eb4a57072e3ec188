"""Shared test helpers (imported by tests as ``from tests.helpers import ...``)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

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
