"""Simulated venues wired straight to their real parsers, without sockets.

A :class:`VenueBridge` renders a scenario's events with the venue's simulator
(:meth:`SimVenue.encode`, after the same subscribe handshake the daemon performs, and REST
answers for polled channels such as Binance open interest) and parses them back with the venue's
real parser, so a backtest exercises the parsers exactly as the demo does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import msgspec

from monitor.replay.parse import FrameStats
from monitor.settings import VenueSettings
from monitor.simulator.base import SimSession, SimVenue
from monitor.simulator.scenarios import install_instruments
from monitor.simulator.venues import sim_venue
from monitor.venues import get_venue, load_registry
from monitor.venues.base import FrameParser, ParseError, VenueEndpoints
from monitor.wiring import venue_streams
from streams.events import Event, OpenInterest

__all__ = ["VenueBridge"]


class VenueBridge:
    """One simulated venue wired straight to its parser.

    The bridge opens one :class:`SimSession` per connection the daemon would open (from the
    venue's own connection plan), replays the plan's subscribe frames through the simulator, and
    then delivers an event's frames to the sessions subscribed to their topics, as the simulator
    server does. Channels the venue serves over REST (its poll plan) are answered by the
    simulator's REST handler after each open-interest update, as a poll would see them.
    """

    def __init__(
        self,
        venue: str,
        symbols: Sequence[str],
        channels: Sequence[str] | None,
        stats: FrameStats,
        extra: Sequence[Any] = (),
        start_ns: int = 0,
    ) -> None:
        spec = get_venue(venue)
        self.venue = venue
        self.sim: SimVenue = sim_venue(venue)
        if extra:
            install_instruments(self.sim, extra)
        registry = load_registry(venue)
        registry.update(extra)
        self.parser: FrameParser = spec.make_parser(registry)
        self.stats = stats
        # the scenario's symbols only: a backtest replays the instruments the scenario renders
        vs = VenueSettings(
            symbols=list(symbols),
            channels=list(channels) if channels else None,  # type: ignore[arg-type]
            all_market=False,
        )
        streams = venue_streams(spec, vs)
        endpoints = VenueEndpoints(ws=f"ws://sim/{venue}", rest=f"http://sim/{venue}")
        self.sessions: list[SimSession] = []
        for plan in spec.plan(endpoints, streams):
            parts = urlsplit(plan.url)
            path = (
                parts.path[len(f"/{venue}") :] if parts.path.startswith(f"/{venue}") else parts.path
            )
            session = SimSession(path=path, query=dict(parse_qsl(parts.query)))
            frames = list(self.sim.on_open(session))
            for sub in plan.subscribe:
                frames.extend(self.sim.on_message(session, sub))
            self.sessions.append(session)
            for f in frames:
                self._parse(f, start_ns)
        self.oi_polls: dict[str, tuple[str, dict[str, str]]] = {}
        for poll in spec.polls(endpoints, streams):
            parts = urlsplit(poll.url)
            path = parts.path[len(f"/{venue}") :]
            for st in poll.streams:
                if st.channel == "open_interest":
                    self.oi_polls[st.symbol] = (path, dict(parse_qsl(parts.query)))

    def feed(self, ev: Event) -> list[Event]:
        """Render ``ev`` in the venue's format and parse what a subscriber would receive."""
        out: list[Event] = []
        frames = self.sim.encode(ev)
        for session in self.sessions:
            subs = session.subscriptions
            for topic, frame in frames:
                if topic in subs:
                    out.extend(self._parse(frame, ev.ts_event))
        if type(ev) is OpenInterest:
            poll = self.oi_polls.get(ev.symbol)
            if poll is not None:
                reply = self.sim.rest(poll[0], poll[1])
                if reply is not None and reply.status == 200:
                    body = (
                        reply.body
                        if isinstance(reply.body, str)
                        else msgspec.json.encode(reply.body).decode()
                    )
                    out.extend(self._parse(body, ev.ts_event))
        return out

    def _parse(self, frame: str, ts_recv: int) -> list[Event]:
        self.stats.frames += 1
        try:
            events = self.parser.parse(frame, ts_recv)
        except ParseError as e:
            self.stats.skip(e.kind)
            return []
        self.stats.events += len(events)
        return events
