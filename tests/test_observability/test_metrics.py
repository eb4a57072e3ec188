"""/metrics a desk can trust: one name and type per family, base units, stale series removed,
the firing-alerts gauge, latency histograms, window counters, /healthz and /readyz."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from alerts.deliver import Deliverer
from alerts.dispatch import Dispatcher
from alerts.metrics import AlertMetrics
from alerts.model import AlertNotice
from alerts.route import Route
from alerts.rules import fingerprint, load_pack
from alerts.store import AsyncStore
from monitor.daemon import Daemon
from monitor.exporter import SignalExporter
from monitor.health import Health, build_app
from monitor.metrics import MonitorMetrics, WindowCounters
from monitor.settings import MetricsSettings, Settings, VenueSettings
from monitor.simulator.server import ExchangeSimulator
from monitor.simulator.venues.binance_usdm import BinanceUsdmSim
from streams.backoff import Backoff
from streams.clock import ManualClock
from streams.processors import default_processors
from streams.signals import Signal
from streams.supervisor import TaskSupervisor
from tests.helpers import eventually
from tests.test_alerts.conftest import FakeClock, RecordingNotifier
from tests.test_monitor.test_run_daemon import free_port

T = 1_763_714_000_000_000_000


def _families(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for fam in text_string_to_metric_families(text):
        assert fam.name not in out, f"{fam.name} exported twice"
        out[fam.name] = fam.type
    return out


def _signals() -> list[Signal]:
    return [
        Signal("feed_reconnects_total", {"venue": "okx-swap"}, 3.0, T),
        Signal("feed_gaps_total", {"venue": "okx-swap"}, 1.0, T),
        Signal("oi_drawdown_pct", {"asset": "BTC"}, -35.0, T),
        Signal("funding_negative_hours", {"asset": "BTC"}, 2.0, T),
        Signal("peg_deviation_bps", {"coin": "USDC", "venue": "kraken"}, -250.0, T),
        Signal("liq_count", {"asset": "BTC", "side": "long", "window": "1h"}, 12.0, T),
        Signal("liq_usd", {"asset": "BTC", "side": "long", "window": "1h"}, 1e6, T),
        Signal("price_ref", {"asset": "BTC"}, float("nan"), T),
    ]


def test_one_family_per_name_in_base_units_and_promtool_clean(promtool: str) -> None:
    """Signals and internal metrics share one scheme; reconnects are two distinct counters."""
    reg = CollectorRegistry()
    m = MonitorMetrics(reg)
    exporter = SignalExporter(reg)
    alerts = AlertMetrics(reg)
    WindowCounters(lambda: default_processors(), reg)
    m.reconnects.labels(venue="okx-swap", reason="stale").inc()
    m.notice_latency.observe(0.2)
    alerts.notice_to_delivery.labels("desk").observe(1.5)
    exporter.update(_signals())
    text = generate_latest(reg).decode()
    fams = _families(text)
    assert fams["riskmon_feed_reconnects"] == "counter"
    assert fams["riskmon_feed_health_reconnects"] == "counter"
    assert 'riskmon_feed_health_reconnects_total{venue="okx-swap"} 3.0' in text
    assert 'riskmon_oi_drawdown_ratio{asset="BTC"} -0.35' in text
    assert 'riskmon_funding_negative_seconds{asset="BTC"} 7200.0' in text
    assert 'riskmon_peg_deviation_ratio{coin="USDC",venue="kraken"} -0.025' in text
    assert 'riskmon_liq_events{asset="BTC",side="long",window="1h"} 12.0' in text
    assert "riskmon_price_ref{" not in text  # NaN is omitted, the family stays declared
    assert fams["riskmon_price_ref"] == "gauge"
    assert "_created" not in text
    assert 'riskmon_window_late_events_total{processor="liquidations"} 0.0' in text
    assert 'riskmon_window_dropped_events_total{processor="liquidations"} 0.0' in text
    r = subprocess.run(
        [promtool, "check", "metrics"], input=text, capture_output=True, text=True, check=False
    )
    assert r.returncode == 0, r.stdout + r.stderr


def test_series_of_a_quiet_entity_leave_the_scrape_after_stale_after_s() -> None:
    """A venue no signal mentions for stale_after_s disappears; a live one stays."""
    clock = ManualClock(0)
    reg = CollectorRegistry()
    exporter = SignalExporter(reg, stale_after_s=600.0, clock=clock)
    exporter.update(
        [
            Signal("feed_up", {"venue": "kraken", "channel": "trades"}, 1.0, T),
            Signal("feed_up", {"venue": "okx-swap", "channel": "trades"}, 1.0, T),
            Signal("liq_window_covered", {"window": "1h"}, 1.0, T),
        ]
    )
    clock.advance(599.0)
    exporter.update([Signal("feed_age_seconds", {"venue": "okx-swap", "channel": "trades"}, 2, T)])
    assert 'venue="kraken"' in generate_latest(reg).decode()
    clock.advance(2.0)
    text = generate_latest(reg).decode()
    assert 'venue="kraken"' not in text
    assert 'riskmon_feed_up{channel="trades",venue="okx-swap"} 1.0' in text
    assert 'riskmon_liq_window_covered{window="1h"} 1.0' in text  # no entity label: kept
    assert "riskmon_signal_expired_series_total 1.0" in text
    exporter.update([Signal("feed_up", {"venue": "kraken", "channel": "trades"}, 0.0, T)])
    assert 'riskmon_feed_up{channel="trades",venue="kraken"} 0.0' in generate_latest(reg).decode()


@pytest.fixture(name="astore")
async def _astore(tmp_path: Path) -> AsyncIterator[AsyncStore]:
    s = AsyncStore(tmp_path / "alerts.db")
    await s.open()
    yield s
    await s.close()


def _notice(status: str, **labels: str) -> AlertNotice:
    lbl = {**labels, "severity": "critical"}
    return AlertNotice(
        status="firing" if status == "firing" else "resolved",
        rule="liquidations_1h",
        severity="critical",
        labels=lbl,
        value=8e8,
        starts_at=T,
        ends_at=None if status == "firing" else T + 10**9,
        fingerprint=fingerprint("liquidations_1h", lbl),
        summary="Liquidations 800M USD",
    )


async def test_firing_alert_is_a_series_until_it_resolves_and_delivery_is_timed(
    astore: AsyncStore,
) -> None:
    """riskmon_alerts_firing{alertname,severity,...} 1 while firing, gone on resolve."""
    reg = CollectorRegistry()
    metrics = AlertMetrics(reg)
    clock = FakeClock()
    rec = RecordingNotifier("desk")
    pack = load_pack("november-2025")
    d = Dispatcher(astore, [Route("desk", group_wait_s=2.0)], pack.inhibit, pack, clock, metrics)
    dl = Deliverer(rec, astore, clock, metrics)
    await d.submit([_notice("firing", asset="all", window="1h")])
    text = generate_latest(reg).decode()
    line = (
        'riskmon_alerts_firing{alertname="liquidations_1h",asset="all",severity="critical",'
        'window="1h"} 1.0'
    )
    assert line in text
    clock.advance(2.5)
    assert await d.flush_due() == 1
    assert await dl.deliver_one()
    text = generate_latest(reg).decode()
    assert 'riskmon_alerts_notice_to_delivery_seconds_count{receiver="desk"} 1.0' in text
    assert 'riskmon_alerts_notice_to_delivery_seconds_bucket{le="2.5",receiver="desk"} 1.0' in text
    assert 'riskmon_alerts_notice_to_delivery_seconds_bucket{le="1.0",receiver="desk"} 0.0' in text
    await d.submit([_notice("resolved", asset="all", window="1h")])
    assert "riskmon_alerts_firing{" not in generate_latest(reg).decode()


async def _serve(health: Health) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(build_app(CollectorRegistry(), health), access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{port}"


async def test_healthz_fails_when_a_supervised_task_dies() -> None:
    """A dead supervised task turns /healthz into 503 naming the task."""
    health = Health(ManualClock(0))

    async def worker() -> None:
        raise RuntimeError("boom")

    task = asyncio.create_task(asyncio.Event().wait(), name="dispatcher")
    health.supervise([task])
    runner, url = await _serve(health)
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{url}/healthz") as r:
                assert r.status == 200
            dead = asyncio.create_task(worker(), name="deliver-desk")
            health.supervise([dead])
            await asyncio.wait([dead])
            assert isinstance(dead.exception(), RuntimeError)
            async with http.get(f"{url}/healthz") as r:
                assert r.status == 503
                body = await r.json()
        assert body["dead_tasks"] == ["deliver-desk"]
    finally:
        task.cancel()
        await runner.cleanup()


async def test_healthz_fails_while_a_restarted_task_keeps_failing() -> None:
    """A task the supervisor restarts but that keeps failing turns /healthz into 503."""
    clock = ManualClock(0)
    supervisor = TaskSupervisor(CollectorRegistry(), clock=clock, backoff=Backoff(0.01, 0.01))
    health = Health(clock)
    health.watch(supervisor.unhealthy)
    failures = 0

    async def dispatcher() -> None:
        nonlocal failures
        failures += 1
        raise OSError("database or disk is full")

    runner, url = await _serve(health)
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{url}/healthz") as r:
                assert r.status == 200
            supervisor.spawn(dispatcher, "dispatcher")
            for _ in range(200):
                if supervisor.unhealthy():
                    break
                await asyncio.sleep(0)
                clock.advance(0.02)
            assert failures >= 3
            async with http.get(f"{url}/healthz") as r:
                assert r.status == 503
                body = await r.json()
        assert body["dead_tasks"] == ["dispatcher"]
    finally:
        await supervisor.aclose()
        await runner.cleanup()


async def test_healthz_fails_when_the_loop_was_blocked() -> None:
    """A probe during a blocked loop gets no answer; right after, /healthz reports the stall."""
    health = Health(heartbeat_s=0.05, max_lag_s=0.3)
    beat = asyncio.create_task(health.heartbeat(), name="hb")
    health.supervise([beat])
    runner, url = await _serve(health)
    try:
        async with aiohttp.ClientSession() as http:
            await asyncio.sleep(0.2)
            async with http.get(f"{url}/healthz") as r:
                assert r.status == 200

            def probe() -> int | str:
                import urllib.error
                import urllib.request

                try:
                    with urllib.request.urlopen(f"{url}/healthz", timeout=0.4) as resp:  # noqa: S310
                        return int(resp.status)
                except (TimeoutError, urllib.error.URLError) as e:
                    return type(e).__name__

            fut = asyncio.get_running_loop().run_in_executor(None, probe)
            time.sleep(1.0)  # noqa: ASYNC251 - the loop is blocked on purpose
            assert await fut in ("TimeoutError", "URLError")
            async with http.get(f"{url}/healthz") as r:
                body = await r.json()
                assert r.status == 503, body
        assert body["loop_lag_s"] > 0.3
    finally:
        beat.cancel()
        await runner.cleanup()


async def test_daemon_readyz_needs_rules_a_writable_store_and_a_live_feed(tmp_path: Path) -> None:
    """/readyz: 503 naming the store and the feeds, 200 once both hold; /healthz serves JSON."""
    port = free_port()
    async with ExchangeSimulator([BinanceUsdmSim()]) as sim:
        settings = Settings(
            venues={"binance-usdm": VenueSettings(symbols=["BTCUSDT"], channels=["trades"])},
            simulator=sim.url,
            state_dir=tmp_path / "state",
            store=tmp_path / "missing" / "riskmon.db",
            metrics=MetricsSettings(host="127.0.0.1", port=port),
        )
        daemon = Daemon(settings, registry=CollectorRegistry())
        readiness = daemon.health.readiness()
        assert readiness["checks"]["feeds"] == "no feed connection subscribed"
        assert readiness["checks"]["rules"] == "ok"
        task = asyncio.create_task(daemon.run())
        try:
            url = f"http://127.0.0.1:{port}"
            async with aiohttp.ClientSession() as http:
                await eventually(lambda: daemon.metrics_port is not None, 30, "metrics up")
                await eventually(
                    lambda: daemon.health.readiness()["checks"]["feeds"] == "ok", 30, "feed live"
                )
                async with http.get(f"{url}/readyz") as r:
                    body = await r.json()
                    assert r.status == 503
                assert "not writable" in body["checks"]["store"]
                assert body["checks"]["feeds"] == "ok"
                (tmp_path / "missing").mkdir()
                async with http.get(f"{url}/readyz") as r:
                    assert r.status == 200
                async with http.get(f"{url}/healthz") as r:
                    assert r.status == 200
                    assert (await r.json())["status"] == "ok"
        finally:
            daemon.stop()
            await task


def test_fast_exposition_is_byte_identical_to_prometheus_client() -> None:
    """SignalExporter.exposition renders what prometheus-client renders, in both formats."""
    from prometheus_client.openmetrics.exposition import generate_latest as generate_openmetrics

    reg = CollectorRegistry()
    exporter = SignalExporter(reg)
    exporter.update(
        [
            *_signals(),
            Signal("peg_price", {"coin": 'U"S\\D\nC', "venue": "kraken"}, 0.9987, T),
            Signal("custom_score", {}, 2.5, T),
        ]
    )
    only = CollectorRegistry()
    only.register(exporter)
    assert exporter.exposition().encode() == generate_latest(only)
    assert exporter.exposition(openmetrics=True).encode() + b"# EOF\n" == generate_openmetrics(only)
