"""The venue seam: what one venue module provides to the daemon.

A venue lives in ``monitor/venues/<venue>/`` and exposes a ``VENUE: VenueSpec`` object. The spec
says how to connect (URLs, subscribe frames, heartbeat, limits), how to parse raw frames into
normalized events (a :class:`FrameParser`), which REST endpoints to poll, and how to read the
venue's instrument metadata. Fields a venue need not state have defaults (no polls, a
server-driven keep-alive, no lifetime limit).

The mechanics venues share live next to this module: :mod:`monitor.venues.parsing` (the parser
base class, the event header, side mappings, decoding errors) and :mod:`monitor.venues.planning`
(connection plans in chunks, subscribe frames, instrument builders), so a venue package states
only its wire names, schemas and limits.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from monitor.instruments import Deriver, Instrument, InstrumentRegistry
from streams.events import Event

__all__ = [
    "CHANNELS",
    "BackfillRequest",
    "Channel",
    "ConnectionPlan",
    "FrameParser",
    "Heartbeat",
    "MissingMetadataError",
    "NotReadyError",
    "ParseError",
    "RestPoll",
    "Stream",
    "UnknownMessageError",
    "VenueEndpoints",
    "VenueSpec",
    "no_polls",
    "require_instrument",
]

Channel = Literal["trades", "liquidations", "funding", "open_interest", "quotes"]
CHANNELS: tuple[Channel, ...] = ("trades", "liquidations", "funding", "open_interest", "quotes")


class ParseError(Exception):
    """A frame that cannot be turned into events. ``kind`` labels the metric of skipped frames."""

    kind = "malformed"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class UnknownMessageError(ParseError):
    """A well-formed frame of a type we do not handle."""

    kind = "unknown"


class NotReadyError(ParseError):
    """A frame that cannot be valued yet (e.g. open interest before any mark price)."""

    kind = "not_ready"


class MissingMetadataError(ParseError):
    """A frame for a symbol with no instrument metadata: skipped, never guessed."""

    kind = "no_metadata"


def require_instrument(registry: InstrumentRegistry, symbol: str) -> Instrument:
    """Return the instrument of ``symbol``, or raise :class:`MissingMetadataError`."""
    inst = registry.get(symbol)
    if inst is None:
        raise MissingMetadataError(f"no instrument metadata for {symbol}")
    return inst


class FrameParser(Protocol):
    """Turns one raw text frame into normalized events.

    Control frames (subscribe acks, pongs, heartbeats) return an empty list. Frames that cannot be
    parsed raise :class:`ParseError` (or a subclass) with a human-readable reason.
    """

    venue: str

    def parse(self, frame: str, ts_recv: int) -> list[Event]:
        """Parse ``frame`` received at ``ts_recv`` (int ns)."""
        ...


@dataclass(frozen=True, slots=True)
class Stream:
    """One subscription: a channel of one venue symbol (``"*"`` for an all-market stream)."""

    channel: Channel
    symbol: str


@dataclass(frozen=True, slots=True)
class ConnectionPlan:
    """One websocket connection: where to connect, what to send on connect, what it carries."""

    key: str
    url: str
    subscribe: tuple[str, ...]
    streams: tuple[Stream, ...]


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """The client side of a venue's keep-alive rule.

    Attributes:
        interval_s: send ``message`` this often; None when the server drives the keep-alive.
        message: the text frame to send; None to send a websocket protocol ping frame.
        idle_only: send only after ``interval_s`` without any frame received (OKX).
    """

    interval_s: float | None = None
    message: str | None = None
    idle_only: bool = False


@dataclass(frozen=True, slots=True)
class RestPoll:
    """A REST endpoint polled periodically.

    The response body is handed to the venue's :class:`FrameParser` as a frame (and written to
    captures like any websocket frame), so replays cover REST data too.

    Attributes:
        key: a stable name for logs and metrics.
        url: the full URL.
        interval_s: seconds between two polls of this endpoint.
        weight: the venue's request weight of one call (for rate budgets).
        streams: the streams this poll feeds (for the stale watchdog).
    """

    key: str
    url: str
    interval_s: float
    weight: int = 1
    streams: tuple[Stream, ...] = ()


@dataclass(frozen=True, slots=True)
class BackfillRequest:
    """A REST history request made at start-up: the full history when there is no saved state,
    the gap since the snapshot after a restart (:mod:`monitor.backfill`).

    A venue may split one history into several requests (pages of a time range); their points
    are merged per kind and symbol.

    Attributes:
        kind: ``price`` (klines) or ``open_interest``.
        symbol: the venue symbol.
        url: the full URL.
        parse: turns the body into ``(ts_ns, value)`` points (price, or open interest).
        unit: of open interest: ``usd``, or ``base`` (base-asset amounts, valued at the
            symbol's price history from the same backfill).
    """

    kind: Literal["price", "open_interest"]
    symbol: str
    url: str
    parse: Callable[[bytes], list[tuple[int, float]]]
    unit: Literal["usd", "base"] = "usd"


def no_polls(endpoints: VenueEndpoints, streams: Sequence[Stream]) -> list[RestPoll]:
    """The polls of a venue that streams every channel it has over websockets: none."""
    return []


@dataclass(frozen=True, slots=True)
class VenueEndpoints:
    """Base URLs of a venue, overridable by config (the simulator, a proxy, a testnet)."""

    ws: str
    rest: str

    def ws_url(self, path: str) -> str:
        """The websocket URL of ``path`` (``"/stream"``) under the ``ws`` base."""
        return self.ws.rstrip("/") + path


class BackfillPlanner(Protocol):
    """Builds a venue's history requests for symbols, ending at ``now_ms`` (Unix ms; the wall
    clock when None, the scenario's clock against the simulator) and starting at ``since_ms``
    (the gap after a restart with saved state; the venue's full history window when None)."""

    def __call__(
        self,
        endpoints: VenueEndpoints,
        symbols: Sequence[str],
        *,
        now_ms: int | None = None,
        since_ms: int | None = None,
    ) -> list[BackfillRequest]: ...


@dataclass(frozen=True, kw_only=True)
class VenueSpec:
    """Everything the daemon needs to know about one venue.

    Attributes:
        venue: the venue id used in events, config and the CLI (e.g. ``binance-usdm``).
        kind: ``derivatives`` or ``spot``.
        endpoints: default (live) base URLs.
        heartbeat: the client keep-alive rule (default: the server drives the keep-alive).
        lifetime_s: the server's connection lifetime limit; connections rotate before it
            (None: no limit).
        channels: the channels this venue publishes; a channel absent here has no public feed.
        default_symbols: what ``riskmon run`` subscribes to by default.
        plan: builds connection plans from endpoints and streams (splitting within limits).
        polls: builds REST polls (e.g. open interest) from endpoints and streams; their bodies
            are parsed by the same parser as the websocket frames (default: none).
        make_parser: builds a parser over an instrument registry.
        respond: reactive reply to a server frame (e.g. Deribit ``test_request``), or None.
        stamp: writes the send time (seconds on the run's clock) into a client frame (subscribe
            frames and the heartbeat message) just before it is sent: Gate's requests carry
            ``time``; None when the venue's frames are fixed.
        quiet_s: how long each channel may be silent before it counts as stale.
        instruments_url: REST path (relative to ``endpoints.rest``) of the instrument list.
        instruments_body: when set, the instrument list is a POST of this JSON body.
        extra_instruments_urls: more instrument-list paths (other categories), same parser.
        funding_intervals: REST path and parser of per-symbol funding intervals (hours) the venue
            publishes apart from its instrument list (Binance ``/fapi/v1/fundingInfo``), or None.
        backfill: builds start-up history requests for symbols; None when the venue has none.
        backfill_rate: start-up history requests per second at most (the venue's REST limit).
        reconnect_on: True for a server frame that asks the client to reconnect now (Bitstamp
            ``bts:request_reconnect``, OKX service-upgrade notice 64008).
        parse_instruments: turns each instrument-list body into instruments.
        derive_instrument: reads an instrument from a symbol without metadata; only venues
            whose sizes are in base units have one (None: such symbols are skipped).
        all_market_channels: channels the venue serves for every symbol on one stream
            (``Stream(channel, "*")``: Binance ``!forceOrder@arr``, OKX ``liquidation-orders``).
        listed_channels: channels whose whole market is one subscription per listed symbol
            (Bybit ``allLiquidation.{symbol}``): ``"*"`` is expanded to every listed perpetual
            (:mod:`monitor.listings`).
        notes: what the venue does not publish, and its coverage caveats.
    """

    venue: str
    kind: Literal["derivatives", "spot"]
    endpoints: VenueEndpoints
    channels: tuple[Channel, ...]
    default_symbols: tuple[str, ...]
    plan: Callable[[VenueEndpoints, Sequence[Stream]], list[ConnectionPlan]]
    make_parser: Callable[[InstrumentRegistry], FrameParser]
    instruments_url: str
    parse_instruments: Callable[[bytes], list[Instrument]]
    heartbeat: Heartbeat = Heartbeat()
    lifetime_s: float | None = None
    polls: Callable[[VenueEndpoints, Sequence[Stream]], list[RestPoll]] = no_polls
    respond: Callable[[str], str | None] | None = None
    stamp: Callable[[str, float], str] | None = None
    instruments_body: bytes | None = None
    extra_instruments_urls: tuple[str, ...] = ()
    funding_intervals: tuple[str, Callable[[bytes], dict[str, float]]] | None = None
    backfill: BackfillPlanner | None = None
    backfill_rate: float = 10.0
    reconnect_on: Callable[[str], bool] | None = None
    quiet_s: Mapping[Channel, float] = field(default_factory=dict)
    derive_instrument: Deriver | None = None
    all_market_channels: frozenset[Channel] = frozenset()
    listed_channels: frozenset[Channel] = frozenset()
    notes: str = ""
