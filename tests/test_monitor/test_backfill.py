"""Start-up backfill from REST history, served by the simulator."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest
from prometheus_client import CollectorRegistry
from structlog.testing import capture_logs

from monitor.backfill import RETRY_AFTER_MAX_S, backfill_venue, value_in_usd
from monitor.daemon import Daemon
from monitor.settings import MetricsSettings, Settings, VenueSettings
from monitor.simulator.server import ExchangeSimulator
from monitor.simulator.venues.binance_usdm import BinanceUsdmSim
from monitor.venues import get_venue, load_registry
from monitor.venues.base import VenueEndpoints
from streams.clock import ManualClock
from streams.events import OpenInterest
from streams.processors import default_processors
from streams.processors.open_interest import OpenInterestProcessor
from streams.units import NS_PER_SECOND
from tests.helpers import (
    RUN_START_NS,
    SeedRecorder,
    btc_funding,
    btc_open_interest,
    eventually,
    run_clock_until,
)

V = "binance-usdm"
H = 3_600_000_000_000
T0 = 1_760_000_400_000_000_000 // H * H  # an hour boundary in Oct 2025


def _three_hours() -> BinanceUsdmSim:
    sim = BinanceUsdmSim()
    for h, (px, oi) in enumerate([(120_000.0, 9e9), (121_000.0, 9.2e9), (119_500.0, 8.8e9)]):
        sim.encode(btc_funding(T0 + h * H, px))
        sim.encode(btc_open_interest(T0 + h * H, oi, px))
    return sim


async def _backfill_on(
    clock: ManualClock,
    sim: BinanceUsdmSim,
    targets: dict[str, SeedRecorder],
    step_s: float = 0.05,
    **errors: float,
) -> tuple[int, float, int]:
    """Backfill BTCUSDT and ETHUSDT from ``sim``, driving ``clock`` in steps until done.

    ``errors``: ``count`` 429 answers with ``retry_after_s`` first. Returns the points loaded,
    the seconds the clock moved and the REST calls the simulator answered.
    """
    start = clock.now_ns()
    async with ExchangeSimulator([sim]) as server, aiohttp.ClientSession() as http:
        if errors:
            server.rest_errors(V, 429, int(errors["count"]), retry_after_s=errors["retry_after_s"])
        task = asyncio.create_task(
            backfill_venue(
                get_venue(V),
                VenueEndpoints(ws=server.ws_base(V), rest=server.rest_base(V)),
                ["BTCUSDT", "ETHUSDT", "*"],
                load_registry(V),
                http,
                targets,  # type: ignore[arg-type]
                clock=clock,
            )
        )
        await run_clock_until(clock, task.done, step_s=step_s, what="backfill")
        calls = server.stats[V].rest_calls
    return task.result(), (clock.now_ns() - start) / NS_PER_SECOND, calls


@pytest.mark.parametrize("rate_limited", [0, 3], ids=["plain", "after-three-429s"])
async def test_backfill_reads_klines_and_oi_history(rate_limited: int) -> None:
    """Klines (close) and OI history (USD) reach the targets, per asset and venue; requests are
    paced on the run's clock at the venue's rate, and answers 429 with Retry-After are waited out
    on it and retried, so nothing is missing."""
    price, oi_rec = SeedRecorder(), SeedRecorder()
    clock = ManualClock(RUN_START_NS)
    errors = {"count": rate_limited, "retry_after_s": 0.2} if rate_limited else {}
    n, elapsed_s, calls = await _backfill_on(
        clock, _three_hours(), {"price": price, "open_interest": oi_rec}, **errors
    )
    assert n == 6
    assert price.seeds == [
        (
            "BTC",
            V,
            [
                (T0 + h * H + H - 1_000_000, p)
                for h, p in enumerate([120_000.0, 121_000.0, 119_500.0])
            ],
        )
    ]
    assert oi_rec.seeds == [
        ("BTC", V, [(T0 + h * H, v) for h, v in enumerate([9e9, 9.2e9, 8.8e9])])
    ]
    gap_s = 1.0 / get_venue(V).backfill_rate
    assert elapsed_s >= (calls - 1) * gap_s - 1e-6
    if rate_limited:
        assert elapsed_s >= 0.2


async def test_an_absurd_retry_after_is_capped() -> None:
    """A Retry-After of eleven days is waited out only up to the cap, then the request retried."""
    price = SeedRecorder()
    clock = ManualClock(RUN_START_NS)
    async with asyncio.timeout(30):
        n, elapsed_s, _ = await _backfill_on(
            clock, _three_hours(), {"price": price}, step_s=0.5, count=1, retry_after_s=1e6
        )
    assert n == 3
    assert RETRY_AFTER_MAX_S <= elapsed_s < RETRY_AFTER_MAX_S + 1.0


async def test_backfill_seeds_real_processors_for_drawdown() -> None:
    """Seeded OI history makes the 60-day peak meaningful for the first live value."""
    procs = {p.name: p for p in default_processors()}
    sim = BinanceUsdmSim()
    for h in range(48):
        sim.encode(
            OpenInterest(
                venue=V,
                symbol="BTCUSDT",
                instrument="BTC-USDT-PERP",
                asset="BTC",
                ts_event=T0 + h * H,
                ts_recv=0,
                size=1.0,
                notional_usd=10e9,
            )
        )
    async with ExchangeSimulator([sim]) as server, aiohttp.ClientSession() as http:
        await backfill_venue(
            get_venue(V),
            VenueEndpoints(ws=server.ws_base(V), rest=server.rest_base(V)),
            ["BTCUSDT"],
            load_registry(V),
            http,
            {"open_interest": procs["open_interest"]},
        )  # type: ignore[dict-item]
    oi = procs["open_interest"]
    now = T0 + 48 * H
    oi.on_event(
        OpenInterest(
            venue=V,
            symbol="BTCUSDT",
            instrument="BTC-USDT-PERP",
            asset="BTC",
            ts_event=now,
            ts_recv=0,
            size=1.0,
            notional_usd=7e9,
        )
    )
    signals = oi.on_tick(now + 1_000_000_000)
    dd = [s.value for s in signals if s.name == "oi_drawdown_pct" and s.labels["asset"] == "BTC"]
    assert dd
    assert round(dd[-1], 6) == -30.0


def test_value_in_usd_takes_the_price_nearest_in_time() -> None:
    """Base amounts are valued at the nearest close (the earlier one on a tie); points outside
    the price history take its first or last close."""
    prices = [(10, 100.0), (20, 110.0), (30, 90.0)]
    assert value_in_usd([(5, 2.0), (10, 2.0), (16, 3.0), (25, 3.0), (40, 1.0)], prices) == [
        (5, 200.0),
        (10, 200.0),
        (16, 330.0),
        (25, 330.0),
        (40, 90.0),
    ]


async def test_daemon_backfills_beside_the_running_feeds(tmp_path: Path) -> None:
    """A daemon without saved state subscribes its feeds and loads the REST history alongside;
    the seeded 60-day OI peak then gives the first live value its drawdown."""
    sim = BinanceUsdmSim()
    for h in range(48):
        sim.encode(btc_open_interest(T0 + h * H, 10e9))
    async with ExchangeSimulator([sim]) as server:
        settings = Settings(
            venues={V: VenueSettings(symbols=["BTCUSDT"], channels=["funding", "open_interest"])},
            simulator=server.url,
            state_dir=tmp_path / "state",
            store=tmp_path / "riskmon.db",
            metrics=MetricsSettings(enabled=False),
        )
        daemon = Daemon(settings, registry=CollectorRegistry())
        oi = next(p for p in daemon.pipeline.engine.processors if p.name == "open_interest")
        assert isinstance(oi, OpenInterestProcessor)
        with capture_logs() as logs:
            task = asyncio.create_task(daemon.run())
            await eventually(
                lambda: any(e["event"] == "backfill.done" for e in logs), what="backfill.done"
            )
            await eventually(
                lambda: all(c.state == "subscribed" for f in daemon.feeds for c in f.connections)
            )
            done = next(e for e in logs if e["event"] == "backfill.done")
            assert done["venue"] == V
            assert done["points"] == 48  # the OI history (no prices were published)
            # the first live value, 30% under the seeded hourly values
            now = T0 + 48 * H
            oi.on_event(btc_open_interest(now, 7e9))
            dd = [s.value for s in oi.on_tick(now + 10**9) if s.name == "oi_drawdown_pct"]
            daemon.stop()
            await task
    assert dd
    assert round(dd[-1], 6) == -30.0
