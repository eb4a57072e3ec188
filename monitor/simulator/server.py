"""The exchange simulator: every venue's websocket and REST protocol on one loopback port.

Venues are served under ``/<venue-id>``: e.g. ``ws://127.0.0.1:PORT/binance-usdm/market/stream``
and ``http://127.0.0.1:PORT/binance-usdm/fapi/v1/openInterest``. Point the daemon at it with the
config key ``simulator: http://127.0.0.1:PORT`` (or per venue ``ws_url``/``rest_url``).

Fault injection (methods here, or ``POST /_control/fault`` with a JSON body
``{"venue": ..., "fault": ..., ...}``): drop connections, stall (open but silent), garbage or
truncated frames, unknown message types, refuse connections for a while, REST 429/5xx, and REST
answers no venue should send (:data:`BAD_REST_ANSWERS`: a 503 HTML page that is not UTF-8, a body
that is not JSON or not UTF-8, one cut short of its ``Content-Length``, 50 MB).

The scenario clock (:class:`~monitor.simulator.clock.ScenarioClock`, set as :attr:`clock` by
whoever plays a scenario) is served at ``GET /_control/clock``; a daemon in simulator mode runs on
it (docs/architecture.md, the clock). Without a scenario the endpoint answers 404.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import msgspec
import structlog
from aiohttp import WSMsgType, web

from monitor.simulator.base import SimSession, SimVenue
from monitor.simulator.clock import CLOCK_PATH, ScenarioClock
from streams.events import Event

__all__ = [
    "BAD_REST_ANSWERS",
    "BadRestAnswer",
    "ExchangeSimulator",
    "VenueStats",
    "default_sim_venues",
]

log = structlog.get_logger(__name__)

SESSION_QUEUE = 50_000
_MIB = 1024 * 1024


@dataclass(frozen=True)
class BadRestAnswer:
    """A REST answer for fault injection.

    Attributes:
        status: the HTTP status.
        body: the body (sent first).
        content_type: the ``Content-Type`` header.
        filler_mib: MiB of ``0,`` sent after ``body``, streamed (a huge answer).
        declared_length: a ``Content-Length`` larger than what is sent; the connection is then
            closed after the body (an answer cut short).
    """

    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    filler_mib: int = 0
    declared_length: int | None = None


#: named bad answers (``rest_bad_answers(venue, name)``, or ``fault: rest_body, kind: name``)
BAD_REST_ANSWERS: dict[str, BadRestAnswer] = {
    "html_503": BadRestAnswer(
        503, b"<html><body>Service indisponible \xe9</body></html>", "text/html"
    ),
    "not_utf8": BadRestAnswer(200, b'{"symbol":"BTC\xff\xfeUSDT"}'),
    "not_json": BadRestAnswer(200, b"<html>maintenance</html>", "text/html"),
    "truncated": BadRestAnswer(200, b'{"symbol":"BTCUSDT","openInter', declared_length=4096),
    "huge": BadRestAnswer(200, b"[", filler_mib=50),
}


def default_sim_venues() -> list[SimVenue]:
    """Return one simulator per venue whose simulator module is installed."""
    from monitor.simulator.venues import all_sim_venues

    return all_sim_venues()


@dataclass
class VenueStats:
    """What a venue's clients did, for tests and the CLI."""

    connections: int = 0
    refused: int = 0
    subscribe_frames: int = 0
    client_frames: int = 0
    frames_sent: int = 0
    rest_calls: int = 0
    rest_errors: int = 0
    open_sessions: int = 0
    #: every REST request answered, as ``path?query``
    rest_requests: list[str] = field(default_factory=list)
    subscriptions_seen: list[set[str]] = field(default_factory=list)


@dataclass
class _Faults:
    stalled_until: float = 0.0
    refuse_until: float = 0.0
    rest_errors: list[tuple[int, float | None]] = field(default_factory=list)
    bad_answers: list[BadRestAnswer] = field(default_factory=list)


class _Client:
    def __init__(
        self, ws: web.WebSocketResponse, session: SimSession, request: web.Request, venue: str
    ) -> None:
        self.ws = ws
        self.request = request
        self.venue = venue
        self.session = session
        self.queue: asyncio.Queue[str] = asyncio.Queue(SESSION_QUEUE)


class ExchangeSimulator:
    """Local websocket + REST servers speaking each venue's protocol.

    Args:
        venues: the simulated venues (default: all installed).
        host: bind address (loopback).
        port: TCP port; 0 picks a free one (see :attr:`url`).
        ping_interval_s: websocket protocol ping interval sent by the server.
    """

    def __init__(
        self,
        venues: Iterable[SimVenue] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        ping_interval_s: float | None = 20.0,
    ) -> None:
        self.venues: dict[str, SimVenue] = {
            v.venue: v for v in (default_sim_venues() if venues is None else venues)
        }
        self.host = host
        self.port = port
        self.ping_interval_s = ping_interval_s
        self.stats: dict[str, VenueStats] = {v: VenueStats() for v in self.venues}
        self._faults: dict[str, _Faults] = {v: _Faults() for v in self.venues}
        self._clients: dict[str, set[_Client]] = {v: set() for v in self.venues}
        self._runner: web.AppRunner | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        #: the scenario clock served at ``/_control/clock`` (None: no scenario plays)
        self.clock: ScenarioClock | None = None

    # ---------------------------------------------------------------- lifecycle

    @property
    def url(self) -> str:
        """The base HTTP URL (``http://127.0.0.1:PORT``)."""
        return f"http://{self.host}:{self.port}"

    def ws_base(self, venue: str) -> str:
        """Websocket base URL of ``venue``."""
        return f"ws://{self.host}:{self.port}/{venue}"

    def rest_base(self, venue: str) -> str:
        """REST base URL of ``venue``."""
        return f"{self.url}/{venue}"

    async def start(self) -> None:
        """Bind and serve."""
        app = web.Application()
        app.router.add_post("/_control/fault", self._control)
        app.router.add_get("/_control/stats", self._stats)
        app.router.add_get(CLOCK_PATH, self._clock)
        app.router.add_route("*", "/{venue}/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server
        if self.port == 0 and server is not None:
            sockets = getattr(server, "sockets", None) or []
            self.port = sockets[0].getsockname()[1]
        log.info("simulator.started", url=self.url, venues=sorted(self.venues))

    async def stop(self) -> None:
        """Close every client and stop serving."""
        for clients in self._clients.values():
            for c in list(clients):
                await c.ws.close()
        for t in list(self._tasks):
            t.cancel()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> ExchangeSimulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ---------------------------------------------------------------- publishing

    def publish(self, event: Event) -> int:
        """Encode ``event`` for its venue, queue it to subscribed sessions; return frames queued."""
        sim = self.venues.get(event.venue)
        if sim is None:
            return 0
        frames = sim.encode(event)
        if not frames or time.monotonic() < self._faults[event.venue].stalled_until:
            return 0
        n = 0
        for c in self._clients[event.venue]:
            subs = c.session.subscriptions
            for topic, frame in frames:
                if topic in subs:
                    n += self._enqueue(c, frame)
        return n

    def publish_many(self, events: Iterable[Event]) -> int:
        """Publish several events in order."""
        return sum(self.publish(e) for e in events)

    def _enqueue(self, c: _Client, frame: str) -> int:
        try:
            c.queue.put_nowait(frame)
        except asyncio.QueueFull:
            log.warning("simulator.slow_client_closed", path=c.session.path)
            self._spawn(c.ws.close(code=1008, message=b"slow consumer"))
            return 0
        return 1

    async def drain(self, timeout_s: float = 10.0) -> None:
        """Wait until every queued frame has been written to its socket."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if all(c.queue.empty() for cs in self._clients.values() for c in cs):
                return
            await asyncio.sleep(0.005)

    # ---------------------------------------------------------------- faults

    def sessions(self, venue: str) -> list[SimSession]:
        """The open sessions of ``venue``."""
        return [c.session for c in self._clients[venue]]

    async def drop(self, venue: str) -> int:
        """Cut every connection of ``venue`` at the TCP level (no close frame); return how many."""
        clients = list(self._clients[venue])
        for c in clients:
            transport = c.request.transport
            if transport is not None:
                transport.close()
        return len(clients)

    def stall(self, venue: str, seconds: float) -> None:
        """Keep connections open but send no data for ``seconds`` (pings still answered)."""
        self._faults[venue].stalled_until = time.monotonic() + seconds

    def refuse(self, venue: str, seconds: float) -> None:
        """Refuse new websocket connections (HTTP 503) for ``seconds``."""
        self._faults[venue].refuse_until = time.monotonic() + seconds

    def rest_errors(
        self,
        venue: str,
        status: int,
        count: int,
        retry_after_s: float | None = None,
    ) -> None:
        """Answer the next ``count`` REST calls with ``status`` (e.g. 429 with Retry-After, 503)."""
        self._faults[venue].rest_errors.extend([(status, retry_after_s)] * count)

    def rest_bad_answers(self, venue: str, answer: str | BadRestAnswer, count: int = 1) -> None:
        """Answer the next ``count`` REST calls with ``answer`` (a name of
        :data:`BAD_REST_ANSWERS`, or one built by the caller)."""
        bad = BAD_REST_ANSWERS[answer] if isinstance(answer, str) else answer
        self._faults[venue].bad_answers.extend([bad] * count)

    def send_raw(self, venue: str, frames: Iterable[str]) -> int:
        """Send raw frames to every open session of ``venue`` (garbage, truncated, unknown)."""
        n = 0
        frames = list(frames)
        for c in self._clients[venue]:
            for f in frames:
                n += self._enqueue(c, f)
        return n

    def send_garbage(self, venue: str, count: int = 1) -> int:
        """Send frames that are not JSON at all."""
        return self.send_raw(venue, [f"\x00garbage-{i}-}}{{" for i in range(count)])

    def send_truncated(self, venue: str, frame: str, count: int = 1) -> int:
        """Send ``frame`` cut in half, ``count`` times."""
        return self.send_raw(venue, [frame[: max(1, len(frame) // 2)]] * count)

    def send_unknown(self, venue: str, count: int = 1) -> int:
        """Send well-formed frames of an unknown message type."""
        return self.send_raw(venue, [self.venues[venue].unknown_frame()] * count)

    # ---------------------------------------------------------------- HTTP handlers

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        venue = request.match_info["venue"]
        sim = self.venues.get(venue)
        if sim is None:
            return web.json_response({"error": f"unknown venue {venue}"}, status=404)
        path = "/" + request.match_info["tail"]
        if request.headers.get("Upgrade", "").lower() == "websocket" and path in sim.ws_paths:
            return await self._websocket(request, venue, sim, path)
        body = await request.read() if request.method == "POST" else None
        bad = self._faults[venue].bad_answers
        if bad:
            self.stats[venue].rest_calls += 1
            self.stats[venue].rest_errors += 1
            return await _send_bad(request, bad.pop(0))
        return self._rest(venue, sim, path, request.query, body)

    def _rest(
        self,
        venue: str,
        sim: SimVenue,
        path: str,
        query: Mapping[str, str],
        body: bytes | None,
    ) -> web.StreamResponse:
        st = self.stats[venue]
        st.rest_calls += 1
        st.rest_requests.append(path + ("?" + urlencode(query) if query else ""))
        faults = self._faults[venue]
        if faults.rest_errors:
            status, retry_after = faults.rest_errors.pop(0)
            st.rest_errors += 1
            headers = {} if retry_after is None else {"Retry-After": f"{retry_after:g}"}
            return web.json_response(
                {"error": "injected", "status": status}, status=status, headers=headers
            )
        reply = sim.rest(path, query) if body is None else sim.rest_post(path, query, body)
        if reply is None:
            return web.json_response({"error": "not found"}, status=404)
        if isinstance(reply.body, str):
            return web.Response(
                text=reply.body,
                status=reply.status,
                headers=reply.headers,
                content_type="application/json",
            )
        return web.Response(
            body=msgspec.json.encode(reply.body),
            status=reply.status,
            headers=reply.headers,
            content_type="application/json",
        )

    async def _websocket(
        self,
        request: web.Request,
        venue: str,
        sim: SimVenue,
        path: str,
    ) -> web.StreamResponse:
        st = self.stats[venue]
        if time.monotonic() < self._faults[venue].refuse_until:
            st.refused += 1
            return web.Response(status=503, text="refused by simulator")
        ws = web.WebSocketResponse(heartbeat=self.ping_interval_s, autoping=True, max_msg_size=0)
        await ws.prepare(request)
        session = SimSession(path=path, query=dict(request.query))
        client = _Client(ws, session, request, venue)
        self._clients[venue].add(client)
        st.connections += 1
        st.open_sessions += 1
        sender = asyncio.create_task(self._sender(client), name=f"sim-send-{venue}")
        beat = (
            asyncio.create_task(self._beater(client, sim), name=f"sim-beat-{venue}")
            if sim.heartbeat_interval_s
            else None
        )
        try:
            for frame in sim.on_open(session):
                await ws.send_str(frame)
                st.frames_sent += 1
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    session.client_frames += 1
                    session.last_client_frame_s = time.monotonic()
                    st.client_frames += 1
                    before = set(session.subscriptions)
                    for reply in sim.on_message(session, msg.data):
                        client.queue.put_nowait(reply)
                    if session.subscriptions != before:
                        st.subscribe_frames += 1
                        st.subscriptions_seen.append(set(session.subscriptions))
                elif msg.type in (WSMsgType.ERROR, WSMsgType.CLOSE):
                    break
        finally:
            self._clients[venue].discard(client)
            st.open_sessions -= 1
            sender.cancel()
            if beat is not None:
                beat.cancel()
        return ws

    async def _sender(self, client: _Client) -> None:
        with contextlib.suppress(ConnectionError, RuntimeError, asyncio.CancelledError):
            while True:
                frame = await client.queue.get()
                await client.ws.send_str(frame)
                self.stats[client.venue].frames_sent += 1

    async def _beater(self, client: _Client, sim: SimVenue) -> None:
        assert sim.heartbeat_interval_s is not None
        with contextlib.suppress(ConnectionError, RuntimeError, asyncio.CancelledError):
            while True:
                await asyncio.sleep(sim.heartbeat_interval_s)
                frame = sim.heartbeat(client.session)
                if frame is not None:
                    client.queue.put_nowait(frame)

    async def _control(self, request: web.Request) -> web.Response:
        try:
            body: dict[str, Any] = await request.json()
            venue = str(body["venue"])
            fault = str(body["fault"])
            if venue not in self.venues:
                raise KeyError(venue)
        except (ValueError, KeyError, TypeError) as e:
            return web.json_response({"error": f"bad request: {e}"}, status=400)
        seconds = float(body.get("seconds", 10.0))
        count = int(body.get("count", 1))
        result: int | None = None
        if fault == "drop":
            result = await self.drop(venue)
        elif fault == "stall":
            self.stall(venue, seconds)
        elif fault == "refuse":
            self.refuse(venue, seconds)
        elif fault == "garbage":
            result = self.send_garbage(venue, count)
        elif fault == "truncated":
            result = self.send_truncated(venue, self.venues[venue].unknown_frame(), count)
        elif fault == "unknown":
            result = self.send_unknown(venue, count)
        elif fault == "rest_body":
            kind = str(body.get("kind", "not_json"))
            if kind not in BAD_REST_ANSWERS:
                return web.json_response({"error": f"unknown kind {kind}"}, status=400)
            self.rest_bad_answers(venue, kind, count)
        elif fault == "rest_error":
            ra = body.get("retry_after_s")
            self.rest_errors(
                venue, int(body.get("status", 503)), count, None if ra is None else float(ra)
            )
        else:
            return web.json_response({"error": f"unknown fault {fault}"}, status=400)
        return web.json_response({"ok": True, "result": result})

    async def _clock(self, request: web.Request) -> web.Response:
        if self.clock is None:
            return web.json_response({"error": "no scenario is playing"}, status=404)
        return web.json_response(self.clock.payload())

    async def _stats(self, request: web.Request) -> web.Response:
        out = {
            v: {k: val for k, val in vars(s).items() if k != "subscriptions_seen"}
            for v, s in self.stats.items()
        }
        return web.json_response(out)

    def _spawn(self, coro: Any) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


async def _send_bad(request: web.Request, bad: BadRestAnswer) -> web.StreamResponse:
    """Write ``bad`` (streaming its filler; cutting the connection when it lies about length)."""
    resp = web.StreamResponse(status=bad.status, headers={"Content-Type": bad.content_type})
    if bad.declared_length is not None:
        resp.content_length = bad.declared_length
    elif not bad.filler_mib:
        resp.content_length = len(bad.body)
    await resp.prepare(request)
    with contextlib.suppress(ConnectionError, RuntimeError):
        await resp.write(bad.body)
        chunk = b"0," * (_MIB // 2)
        for _ in range(bad.filler_mib):
            await resp.write(chunk)
        if bad.declared_length is not None:
            if request.transport is not None:
                request.transport.close()
            return resp
        await resp.write_eof()
    return resp
