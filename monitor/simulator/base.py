"""The simulator seam: one :class:`SimVenue` per venue speaks that venue's websocket protocol.

The :class:`~monitor.simulator.server.ExchangeSimulator` hosts every venue on one loopback port
under ``/<venue-id>/...``: websocket paths for the streams, REST paths for the endpoints the
daemon calls. A scenario publishes normalized events; each venue encodes them into its native
frames (:meth:`SimVenue.encode`) and sends them to the sessions subscribed to that topic.

The base class owns what every venue shares: the instrument table (``instruments``: symbol →
:class:`~monitor.instruments.Instrument`, the packaged snapshot plus what a scenario installs),
the ``encode`` preamble (an event of another venue or of an unknown symbol renders nothing; the
rest is remembered for the REST state endpoints and, for venues that serve history, recorded in
``hourly``), and the number format (``num``, after ``decimals``). A subclass renders one event
in :meth:`SimVenue.render` and speaks its handshake in :meth:`SimVenue.on_message`, reading a
client frame with :func:`json_object` where the venue treats any frame that is not a JSON object
alike.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec

from monitor.instruments import Instrument
from monitor.simulator.wire import decimal_text
from monitor.venues import packaged_instruments
from streams.events import Event, Funding, OpenInterest, Trade
from streams.units import MS_PER_HOUR, NS_PER_MS

__all__ = [
    "HourRow",
    "HourlyHistory",
    "RestReply",
    "SimSession",
    "SimVenue",
    "hour_buckets",
    "json_object",
    "ohlc",
]


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
        hour = event.ts_event // NS_PER_MS // MS_PER_HOUR * MS_PER_HOUR
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


def hour_buckets(
    rows: Iterable[HourRow], size_ms: int, offset_ms: int = 0
) -> list[tuple[int, list[HourRow]]]:
    """Group hourly rows (oldest first) into buckets of ``size_ms``, oldest first.

    A bucket opens at a multiple of ``size_ms`` shifted back by ``offset_ms`` (e.g. UTC+8
    midnight); a bucket shorter than an hour holds the one hour that opens it.
    """
    out: dict[int, list[HourRow]] = {}
    for r in rows:
        if size_ms >= MS_PER_HOUR:
            start = (r.hour_ms + offset_ms) // size_ms * size_ms - offset_ms
        else:
            start = r.hour_ms
        out.setdefault(start, []).append(r)
    return sorted(out.items())


def ohlc(rows: Sequence[HourRow]) -> tuple[float, float, float, float]:
    """Open, high, low and close of the hourly prices of ``rows`` (oldest first, not empty)."""
    prices = [r.price for r in rows]
    return prices[0], max(prices), min(prices), prices[-1]


def json_object(text: str | bytes) -> dict[str, Any] | None:
    """A client frame (or request body) decoded as a JSON object; None when it is not JSON or
    not an object."""
    try:
        req = msgspec.json.decode(text)
    except msgspec.DecodeError:
        return None
    return req if isinstance(req, dict) else None


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
    #: most decimals the venue prints in a number string (:meth:`num`)
    decimals: int = 10
    #: True when the venue serves klines / open-interest history from ``hourly``
    serves_history: bool = False

    def __init__(self) -> None:
        #: symbol → instrument: the packaged snapshot, plus :meth:`add_instruments`
        self.instruments: dict[str, Instrument] = {
            i.symbol: i for i in packaged_instruments(self.venue)
        }
        self.latest: dict[tuple[str, str], Event] = {}
        #: the venue's clock: the newest event time published (scenario time, not wall time)
        self.clock_ns = 0
        #: hourly price and open interest of the events published (when ``serves_history``)
        self.hourly = HourlyHistory()

    def add_instruments(self, instruments: Iterable[Instrument]) -> None:
        """Teach the venue instruments its packaged snapshot lacks (its REST lists show them)."""
        for inst in instruments:
            self.instruments[inst.symbol] = inst

    def on_open(self, session: SimSession) -> list[str]:
        """Frames to send right after a client connects (greetings, system status)."""
        return []

    @abc.abstractmethod
    def on_message(self, session: SimSession, text: str) -> list[str]:
        """Handle a client frame (subscribe, ping...), update ``session``; return the replies."""

    def encode(self, event: Event) -> list[tuple[str, str]]:
        """Render ``event`` in the venue's native format as ``(topic, frame)`` pairs.

        A session receives the frame when ``topic`` is in its subscriptions. Events of another
        venue or of a symbol not in ``instruments`` render nothing.
        """
        if event.venue != self.venue:
            return []
        inst = self.instruments.get(event.symbol)
        if inst is None:
            return []
        self.remember(event)
        if self.serves_history:
            self.hourly.record(event)
        return self.render(event, inst)

    @abc.abstractmethod
    def render(self, event: Event, inst: Instrument) -> list[tuple[str, str]]:
        """The ``(topic, frame)`` pairs of ``event`` (of this venue, for ``inst``)."""

    def num(self, x: float) -> str:
        """``x`` as the venue prints a decimal string (at most ``decimals`` places)."""
        return decimal_text(x, self.decimals)

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
