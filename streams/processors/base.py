"""The processor seam: a plain class with no I/O that turns events into signals, in event time."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from streams.events import Event
from streams.signals import Signal

__all__ = ["Processor"]


@runtime_checkable
class Processor(Protocol):
    """A stream processor.

    Processors are deterministic functions of the events they are given: no clocks, no I/O, no
    asyncio. Time is the events' ``ts_event`` and the ``now_ns`` handed to :meth:`on_tick`.
    """

    name: str

    def on_event(self, event: Event) -> list[Signal]:
        """Fold one event into the state; return the signals it changed."""
        ...

    def on_tick(self, now_ns: int) -> list[Signal]:
        """Advance time to ``now_ns`` (expire windows, staleness); return the signals it changed."""
        ...

    def snapshot(self) -> dict[str, Any]:
        """Return the state as a JSON-serialisable dict (see :meth:`restore`)."""
        ...

    def restore(self, state: dict[str, Any]) -> None:
        """Load a state produced by :meth:`snapshot` of the same processor class."""
        ...
