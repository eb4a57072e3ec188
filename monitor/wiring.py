"""The wiring several commands share: alert settings and venue feeds.

``riskmon run`` (the daemon), ``riskmon capture``, ``backtest``, ``replay`` and the demo all turn
the same settings into the same parts: the run's clock, the alert service's settings, and for
each configured venue its streams, its endpoints (live, the simulator's, or per-venue overrides)
and its :class:`~monitor.feed.VenueFeed`. Rule sets come from :func:`alerts.rules.load_ruleset`.

The run's clock (:func:`run_clock`) is the wall clock live and, with ``simulator:`` set, a
:class:`~monitor.simulator.clock.ScenarioClock` that the daemon anchors on the simulator's
``/_control/clock`` before its feeds start; the one object goes to every feed, the backfill, the
daemon's ticks and the alert service.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict

from pydantic import ValidationError

from alerts.rules import is_rule_path
from alerts.settings import AlertsSettings
from monitor.capture import CaptureWriter
from monitor.feed import EventSink, VenueFeed
from monitor.metrics import MonitorMetrics
from monitor.settings import ConfigError, Settings, VenueSettings, describe_validation_error
from monitor.simulator.clock import ScenarioClock
from monitor.venues import get_venue, load_registry
from monitor.venues.base import Stream, VenueEndpoints, VenueSpec
from streams.clock import Clock, SystemClock

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = [
    "FeedOptions",
    "alert_settings",
    "build_feed",
    "build_feeds",
    "run_clock",
    "venue_endpoints",
    "venue_streams",
]


def alert_settings(settings: Settings) -> AlertsSettings:
    """The alert service's settings: the ``alerting`` section plus ``rules`` and ``store``.

    Raises:
        ConfigError: the ``alerting`` section is invalid; one line naming each bad field by its
            path (``alerting.receivers[0].type: ...``).
    """
    data = dict(settings.alerting)
    if is_rule_path(settings.rules):
        data.setdefault("pack", None)
        data.setdefault("rule_files", [settings.rules])
    else:
        data.setdefault("pack", settings.rules)
    data.setdefault("db_path", settings.store)
    try:
        return AlertsSettings(**data)
    except ValidationError as e:
        raise ConfigError(describe_validation_error(e, data, root="alerting")) from e


def run_clock(settings: Settings) -> Clock:
    """The run's clock: the wall clock, or (``simulator:`` set) one to anchor on the simulator's."""
    return ScenarioClock.follower() if settings.simulator else SystemClock()


def venue_streams(spec: VenueSpec, vs: VenueSettings) -> list[Stream]:
    """The streams of one venue from its settings (symbols × channels the venue publishes).

    A channel ``all_market`` asks for is one ``Stream(channel, "*")`` on a venue with an
    all-market stream for it, or with one subscription per listed symbol (the feed expands it,
    :mod:`monitor.listings`); elsewhere it stays on ``symbols``.
    """
    channels = [c for c in (vs.channels or spec.channels) if c in spec.channels]
    symbols = vs.symbols or list(spec.default_symbols)
    market = vs.market_channels() & (spec.all_market_channels | spec.listed_channels)
    out: list[Stream] = []
    for ch in channels:
        if ch in market:
            out.append(Stream(ch, "*"))
        else:
            out.extend(Stream(ch, sym) for sym in symbols)
    return out


def venue_endpoints(settings: Settings, spec: VenueSpec, vs: VenueSettings) -> VenueEndpoints:
    """Live endpoints, or the simulator's, or the per-venue overrides."""
    ep = spec.endpoints
    if settings.simulator:
        base = settings.simulator.rstrip("/")
        ws = base.replace("https://", "wss://").replace("http://", "ws://")
        ep = VenueEndpoints(ws=f"{ws}/{spec.venue}", rest=f"{base}/{spec.venue}")
    return VenueEndpoints(ws=vs.ws_url or ep.ws, rest=vs.rest_url or ep.rest)


class FeedOptions(TypedDict, total=False):
    """What every venue feed of a run shares (:class:`~monitor.feed.VenueFeed`'s keywords)."""

    capture: CaptureWriter | None  # raw frames are recorded here
    stall_after_s: float | None  # override of every connection's stall limit (tests)
    ping_interval_s: float | None  # websocket protocol ping interval (default 20 s)
    clock: Clock | None  # the run's clock (default: the wall clock)


def build_feed(
    settings: Settings,
    venue_id: str,
    sink: EventSink,
    metrics: MonitorMetrics,
    **options: Unpack[FeedOptions],
) -> VenueFeed:
    """The feed of one configured venue: endpoints, streams, cached instruments, poll interval."""
    spec = get_venue(venue_id)
    vs = settings.venues[venue_id]
    return VenueFeed(
        spec,
        venue_endpoints(settings, spec, vs),
        venue_streams(spec, vs),
        load_registry(venue_id, settings.state_dir / "instruments"),
        sink,
        metrics,
        poll_interval_s=vs.poll_interval_s,
        **options,
    )


def build_feeds(
    settings: Settings, sink: EventSink, metrics: MonitorMetrics, **options: Unpack[FeedOptions]
) -> list[VenueFeed]:
    """The feeds of every enabled venue (:func:`build_feed`), in the settings' order."""
    return [
        build_feed(settings, vid, sink, metrics, **options)
        for vid, vs in settings.venues.items()
        if vs.enabled
    ]
