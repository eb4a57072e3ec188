"""Issue 10 point 2: a bad REST answer is one counted error, never the end of a feed.

Every answer comes from the simulator's REST server on 127.0.0.1 (``rest_bad_answers``): a 503
HTML page that is not UTF-8, a 200 body that is not UTF-8, one that is not JSON, one cut short of
its ``Content-Length``, and 50 MB. The poll, the backfill and the instrument refresh all read
through :func:`monitor.rest.fetch`.
"""

from __future__ import annotations

import asyncio

import aiohttp
from prometheus_client import CollectorRegistry

from monitor.backfill import backfill_venue
from monitor.feed import refresh_instruments
from monitor.metrics import MonitorMetrics
from monitor.rest import MAX_BODY_BYTES, fetch
from monitor.simulator.server import BAD_REST_ANSWERS, ExchangeSimulator
from monitor.simulator.venues import sim_venue
from monitor.venues import get_venue, load_registry
from monitor.venues.base import Stream, VenueEndpoints
from streams.clock import ManualClock
from streams.events import Funding, OpenInterest
from tests.helpers import (
    RUN_START_NS,
    SeedRecorder,
    btc_funding,
    eventually,
    run_clock_until,
    venue_run,
)

V = "binance-usdm"
T = RUN_START_NS
BAD = ("html_503", "not_utf8", "not_json", "truncated", "huge")
#: the outcome each bad answer is counted as
EXPECTED = {
    "server_error": 1.0,
    "not_utf8": 1.0,
    "not_json": 1.0,
    "truncated": 1.0,
    "too_large": 1.0,
}


def oi(size: float) -> OpenInterest:
    return OpenInterest(
        venue=V,
        symbol="BTCUSDT",
        instrument="BTC-USDT-PERP",
        asset="BTC",
        ts_event=T,
        ts_recv=0,
        size=size,
        notional_usd=0.0,
    )


def outcomes(registry: CollectorRegistry, venue: str = V) -> dict[str, float]:
    out = {}
    for metric in registry.collect():
        if metric.name == "riskmon_feed_rest_requests":
            for s in metric.samples:
                if s.name.endswith("_total") and s.labels["venue"] == venue:
                    out[s.labels["outcome"]] = s.value
    return out


async def test_fetch_classifies_every_bad_answer() -> None:
    """Each bad answer is one outcome; the huge body is cut at the cap, never buffered whole."""
    registry = CollectorRegistry()
    metrics = MonitorMetrics(registry)
    async with ExchangeSimulator([sim_venue(V)], ping_interval_s=None) as sim:
        url = sim.rest_base(V) + "/fapi/v1/exchangeInfo"
        async with aiohttp.ClientSession() as http:
            got = {}
            for name in BAD:
                sim.rest_bad_answers(V, name)
                ans = await fetch(http, url, venue=V, what="test", metrics=metrics)
                assert not ans.ok
                assert ans.text == ""
                assert ans.body == b""
                got[name] = ans.outcome
            ok = await fetch(http, url, venue=V, what="test", metrics=metrics)
    assert got == {
        "html_503": "server_error",
        "not_utf8": "not_utf8",
        "not_json": "not_json",
        "truncated": "truncated",
        "huge": "too_large",
    }
    assert BAD_REST_ANSWERS["huge"].filler_mib * 1024 * 1024 > MAX_BODY_BYTES
    assert ok.ok
    assert ok.status == 200
    assert "BTCUSDT" in ok.text
    assert outcomes(registry) == {**EXPECTED, "ok": 1.0}


async def test_poll_goes_on_after_every_bad_answer() -> None:
    """The open-interest poll meets every bad answer, counts each, and then delivers OI; the
    websocket connection and the supervisor never notice."""
    streams = [Stream(ch, "BTCUSDT") for ch in ("trades", "funding", "open_interest")]
    async with venue_run(V, streams, poll_interval_s=0.05) as h:
        h.sim.publish(btc_funding(T, 85_000.0))
        await eventually(lambda: bool(h.of_type(Funding)), what="funding")
        for name in BAD:
            h.sim.rest_bad_answers(V, name)
        h.sim.publish(oi(90_000.0))
        await h.advance_until(
            lambda: bool(h.of_type(OpenInterest)), step_s=0.05, what="open interest after faults"
        )
        assert h.of_type(OpenInterest)[0].size == 90_000.0
        counted = outcomes(h.registry)
        assert {k: counted.get(k) for k in EXPECTED} == EXPECTED
        assert counted["ok"] >= 1.0
        assert h.sim.stats[V].connections == 1
        assert h.supervisor is not None
        assert all(s["restarts"] == 0 for s in h.supervisor.status().values())
        assert h.metric("riskmon_feed_frames_skipped_total", venue=V, reason="malformed") == 0.0


async def test_backfill_and_instrument_refresh_count_bad_answers() -> None:
    """The backfill's requests and the instrument refresh read through the same place: bad
    answers are counted by outcome, nothing raises, the next good answer loads."""
    registry = CollectorRegistry()
    metrics = MonitorMetrics(registry)
    spec = get_venue(V)
    async with (
        ExchangeSimulator([sim_venue(V)], ping_interval_s=None) as sim,
        aiohttp.ClientSession() as http,
    ):
        endpoints = VenueEndpoints(ws=sim.ws_base(V), rest=sim.rest_base(V))
        inst = load_registry(V)
        sim.rest_bad_answers(V, "not_utf8")
        assert await refresh_instruments(spec, endpoints, inst, http, metrics=metrics) == 0
        sim.rest_bad_answers(V, "huge")
        sim.rest_bad_answers(V, "truncated")
        price, open_interest = SeedRecorder(), SeedRecorder()
        clock = ManualClock(T)
        task = asyncio.create_task(
            backfill_venue(
                spec,
                endpoints,
                ["BTCUSDT"],
                inst,
                http,
                {"price": price, "open_interest": open_interest},
                clock=clock,
                metrics=metrics,
            )
        )
        await run_clock_until(clock, task.done, step_s=1.0, what="backfill done")
        await task  # it returns: nothing raised
        assert sim.stats[V].rest_errors == 3
        # the venue answers well again: the next refresh loads
        assert await refresh_instruments(spec, endpoints, inst, http, metrics=metrics) > 0
    counted = outcomes(registry)
    assert counted["not_utf8"] == 1.0
    assert counted["too_large"] == 1.0
    assert counted["truncated"] == 1.0
    assert counted["ok"] >= 1.0
