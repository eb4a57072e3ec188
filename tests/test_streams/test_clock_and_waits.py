"""The run clock, Retry-After reading and bounded waits (streams.clock, retry_after, backoff)."""

from __future__ import annotations

import asyncio
import math
import random

import pytest

from streams.backoff import Backoff, bounded_wait
from streams.clock import Clock, ManualClock, SystemClock
from streams.retry_after import retry_after_s
from streams.units import NS_PER_SECOND

NOW_S = 1_445_412_480.0  # Wed, 21 Oct 2015 07:28:00 GMT


async def test_manual_clock_wakes_sleepers_in_deadline_order() -> None:
    """A sleep ends when the clock is moved past its deadline, not before; earlier first."""
    clock = ManualClock(5 * NS_PER_SECOND)
    woke: list[str] = []

    async def nap(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append(name)

    tasks = [asyncio.create_task(nap("long", 2.0)), asyncio.create_task(nap("short", 1.0))]
    await asyncio.sleep(0)
    assert clock.sleepers == 2
    clock.advance(0.5)
    await asyncio.sleep(0)
    assert woke == []
    clock.advance(2.0)
    await asyncio.gather(*tasks)
    assert woke == ["short", "long"]
    assert clock.now_ns() == 7_500_000_000
    assert clock.monotonic() == 7.5


async def test_manual_clock_never_goes_back_and_survives_cancelled_sleepers() -> None:
    """``set`` to an earlier time is ignored; a cancelled sleep is skipped when it comes due."""
    clock = ManualClock(10)
    clock.set(5)
    assert clock.now_ns() == 10
    task = asyncio.create_task(clock.sleep(1.0))
    await asyncio.sleep(0)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert clock.sleepers == 0
    clock.advance(2.0)  # must not raise on the cancelled future
    await clock.sleep(0)  # a zero sleep returns at once


def test_both_clocks_are_clocks() -> None:
    """SystemClock and ManualClock satisfy the Clock protocol components are typed against."""
    assert isinstance(SystemClock(), Clock)
    assert isinstance(ManualClock(), Clock)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("", None),
        ("soon", None),
        ("120", 120.0),
        (" 1.5 ", 1.5),
        ("-3", 0.0),
        ("Wed, 21 Oct 2015 07:28:30 GMT", 30.0),
        ("Wed, 21 Oct 2015 07:27:00 GMT", 0.0),
        ("Wed, 21 Oct 2015 07:28:30", None),  # a date without a zone is not an HTTP date
    ],
)
def test_retry_after_reads_seconds_and_http_dates(
    header: str | None, expected: float | None
) -> None:
    """Delay-seconds and HTTP dates (relative to the clock's now) both give seconds to wait."""
    assert retry_after_s(header, NOW_S) == expected


def test_absurd_retry_after_is_bounded_and_flagged() -> None:
    """Huge, infinite, NaN and negative waits are clamped, and the caller is told."""
    assert bounded_wait(retry_after_s("1e12", NOW_S) or 0.0, 60.0) == (60.0, True)
    assert bounded_wait(retry_after_s("nan", NOW_S) or 0.0, 60.0) == (60.0, True)
    assert bounded_wait(math.inf, 60.0) == (60.0, True)
    assert bounded_wait(-1.0, 60.0) == (0.0, True)
    assert bounded_wait(2.0, 60.0) == (2.0, False)


def test_backoff_grows_to_its_cap_with_jitter_below_the_delay() -> None:
    """Delays double from ``initial_s`` up to ``max_s``; jitter only shortens them."""
    b = Backoff(initial_s=0.5, max_s=4.0, factor=2.0, jitter=0.5)
    rng = random.Random(7)
    for attempt, full in enumerate([0.5, 1.0, 2.0, 4.0, 4.0, 4.0]):
        d = b.delay(attempt, rng)
        assert full * 0.5 <= d <= full
    assert Backoff(jitter=0.0).delay(1000) == Backoff().max_s
