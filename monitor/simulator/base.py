"""The simulator seam: one :class:`SimVenue` per venue speaks that venue's websocket protocol.

The :class:`~monitor.simulator.server.ExchangeSimulator` hosts every venue on one loopback port
under ``/<venue-id>/...``: websocket paths for the streams, REST paths for the endpoints the
daemon calls. A scenario publishes normalized events; each venue encodes them into its native
frames (:meth:`SimVenue.encode`) and sends them to the sessions subscribed to that topic.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass, field

from streams.events import Event, Funding, OpenInterest, Trade

__all__ = ["HourRow", "HourlyHistory", "RestReply", "SimSession", "SimVenue"]


@dataclass
class SimSession:
    """One client websocket connection to a simulated venue."""

    path: str
    subscriptions: set[str] = field(default_factory=set)
    client_frames: int = 0
    last_client_frame_s: float = 0.0
    pings: int = 0
    query: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RestReply:
    """A REST answer: status, JSON-serialisable body (or raw text), headers."""

    status: int
    body: object
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass
class HourRow:
    """What a venue's history endpoints report for one hour: the last values published in it."""

    hour_ms: int  # start of the hour, Unix ms
    price: float = 0.0  # last trade or mark price (0: none)
    oi_base: float = 0.0  # open interest, base units (0: none)
    oi_usd: float = 0.0  # open interest, USD (0: none)


class HourlyHistory:
    """Hourly price and open-interest history per symbol, for klines and OI-history endpoints.

    Args:
        keep_hours: hours kept per symbol (the oldest are dropped).
    """

    def __init__(self, keep_hours: int = 24 * 120) -> None:
        self.keep_hours = keep_hours
        self._rows: dict[str, dict[int, HourRow]] = {}

    def record(self, event: Event) -> None:
        """Take the price or open interest of ``event`` into its hour."""
        hour = event.ts_event // 1_000_000 // 3_600_000 * 3_600_000
        rows = self._rows.setdefault(event.symbol, {})
        row = rows.get(hour)
        if row is None:
            row = rows[hour] = HourRow(hour)
            if len(rows) > self.keep_hours:
                del rows[min(rows)]
        if isinstance(event, Funding):
            row.price = event.mark_price
        elif isinstance(event, Trade):
            row.price = event.price
        elif isinstance(event, OpenInterest):
            row.oi_base = event.size
            row.oi_usd = event.notional_usd

    def rows(
        self,
        symbol: str,
        start_ms: int | None = None,
        end_ms: int | None = None,
        limit: int | None = None,
    ) -> list[HourRow]:
        """Rows of ``symbol`` with ``start_ms <= hour <= end_ms``, oldest first; with ``limit``,
        the newest ``limit`` of them."""
        out = sorted(
            (
                r
                for h, r in self._rows.get(symbol, {}).items()
                if (start_ms is None or h >= start_ms) and (end_ms is None or h <= end_ms)
            ),
            key=lambda r: r.hour_ms,
        )
        return out[-limit:] if limit is not None else out


class SimVenue(abc.ABC):
    """A venue's protocol on the simulator side.

    Subclasses keep the venue's envelope, subscribe handshake and heartbeat exact, so the daemon
    talks to the simulator exactly as it talks to the venue. ``latest`` keeps the last event of
    each (type, symbol) published, for REST endpoints that report current state.
    """

    venue: str = ""
    #: websocket paths served, relative to ``/<venue>`` (e.g. ``/market/stream``)
    ws_paths: tuple[str, ...] = ()
    #: seconds between server-initiated heartbeat frames (:meth:`heartbeat`), None for none
    heartbeat_interval_s: float | None = None

    def __init__(self) -> None:
        self.latest: dict[tuple[str, str], Event] = {}
        #: the venue's clock: the newest event time published (scenario time, not wall time)
        self.clock_ns = 0

    def on_open(self, session: SimSession) -> list[str]:
        """Frames to send right after a client connects (greetings, system status)."""
        return []

    @abc.abstractmethod
    def on_message(self, session: SimSession, text: str) -> list[str]:
        """Handle a client frame (subscribe, ping...), update ``session``; return the replies."""

    @abc.abstractmethod
    def encode(self, event: Event) -> list[tuple[str, str]]:
        """Render ``event`` in the venue's native format as ``(topic, frame)`` pairs.

        A session receives the frame when ``topic`` is in its subscriptions.
        """

    def heartbeat(self, session: SimSession) -> str | None:
        """A server-initiated heartbeat frame, sent every ``heartbeat_interval_s``."""
        return None

    def unknown_frame(self) -> str:
        """A well-formed frame of a message type the venue might add tomorrow."""
        return '{"e":"brandNewEvent","E":0}'

    def rest(self, path: str, query: Mapping[str, str]) -> RestReply | None:
        """Answer a REST call to ``/<venue><path>``; None for 404."""
        return None

    def rest_post(self, path: str, query: Mapping[str, str], body: bytes) -> RestReply | None:
        """Answer a REST POST to ``/<venue><path>``; None for 404."""
        return None

    def remember(self, event: Event) -> None:
        """Keep ``event`` as the latest of its kind for its symbol."""
        self.latest[(type(event).__name__, event.symbol)] = event
        if event.ts_event > self.clock_ns:
            self.clock_ns = event.ts_event
