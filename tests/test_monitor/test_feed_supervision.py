"""Issue 10 points 1 and 2 in the daemon: no feed task dies alone, no bad answer ends a feed.

A real :class:`~monitor.daemon.Daemon` runs two venues against the simulator on 127.0.0.1, with
its alert service delivering to a webhook receiver on loopback and ``/healthz`` served on an
ephemeral port. One venue's connection meets a bug (its frame responder raises on a frame the
simulator sends), and its open-interest poll meets every kind of bad REST answer.
"""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
from typing import Any

import aiohttp
from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from alerts.dispatch import META_TASK_RULE
from alerts.service import AlertService
from alerts.settings import AlertsSettings, WebhookReceiver
from monitor.daemon import Daemon
from monitor.settings import MetricsSettings, Settings, VenueSettings
from monitor.simulator.server import ExchangeSimulator
from monitor.simulator.venues import sim_venue
from streams.backoff import Backoff
from streams.clock import SystemClock
from streams.events import Funding, OpenInterest, Trade
from streams.supervisor import TaskSupervisor
from tests.helpers import eventually
from tests.test_alerts.fakes import Receiver, serve

B, Y = "binance-usdm", "bybit-linear"
BOOM = '{"boom":true}'


class InjectedBug(RuntimeError):
    """The bug the test plants in the binance connection's frame responder."""


def boom(frame: str) -> str | None:
    if "boom" in frame:
        raise InjectedBug("responder met a frame it cannot handle")
    return None


def trade(venue: str, symbol: str, i: int) -> Trade:
    return Trade(
        venue=venue,
        symbol=symbol,
        instrument="BTC-USDT-PERP",
        asset="BTC",
        ts_event=1_763_714_000_000_000_000 + i * 1_000_000,
        ts_recv=0,
        price=85_000.0,
        size=0.1,
        notional_usd=8_500.0,
        side="buy",
    )


def metric(registry: CollectorRegistry, name: str, **labels: str) -> float:
    return registry.get_sample_value(name, labels) or 0.0


async def health(port: int | None) -> tuple[int, dict[str, Any]]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{port}/healthz") as r,
    ):
        body: dict[str, Any] = await r.json()
        return r.status, body


async def test_a_failing_feed_task_is_restarted_reported_and_alone(tmp_path: Path) -> None:
    registry = CollectorRegistry()
    sup = TaskSupervisor(registry, backoff=Backoff(0.02, 0.1), failing_after=2, healthy_after_s=1.0)
    rx = Receiver()
    async with (
        serve(rx),
        ExchangeSimulator([sim_venue(B), sim_venue(Y)], ping_interval_s=None) as sim,
    ):
        settings = Settings(
            venues={
                B: VenueSettings(
                    symbols=["BTCUSDT"],
                    channels=["trades", "funding", "open_interest"],
                    poll_interval_s=0.05,
                ),
                Y: VenueSettings(symbols=["BTCUSDT"], channels=["trades"]),
            },
            simulator=sim.url,
            state_dir=tmp_path / "state",
            store=tmp_path / "riskmon.db",
            metrics=MetricsSettings(host="127.0.0.1", port=0),
        )
        svc = AlertService(
            AlertsSettings(
                db_path=tmp_path / "riskmon.db",
                receivers=[WebhookReceiver(name="wh", url=SecretStr(rx.url + "/hook"))],
            ),
            registry=registry,
            supervisor=sup,
        )
        daemon = Daemon(settings, alert_service=svc, registry=registry, clock=SystemClock())
        [binance] = [f for f in daemon.feeds if f.venue == B]
        [conn] = binance.connections
        conn.spec = dataclasses.replace(conn.spec, respond=boom)  # the planted bug
        task_name = f"feed:{B}:{conn.plan.key}"
        run = asyncio.create_task(daemon.run())
        try:
            await eventually(lambda: daemon.metrics_port is not None, what="metrics endpoint")
            await eventually(
                lambda: all(c.state == "subscribed" for f in daemon.feeds for c in f.connections),
                what="both venues subscribed",
            )
            sim.publish(Funding(
                venue=B, symbol="BTCUSDT", instrument="BTC-USDT-PERP", asset="BTC",
                ts_event=1_763_714_000_000_000_000, ts_recv=0, rate=0.0001, interval_h=8.0,
                rate_8h=0.0001, mark_price=85_000.0, next_funding_ts=None,
            ))  # fmt: skip
            # every kind of bad REST answer on binance's open-interest poll
            for name in ("html_503", "not_utf8", "not_json", "truncated", "huge"):
                sim.rest_bad_answers(B, name)
            # the bug, met twice in a row: the connection task dies, is restarted, then failing
            for n in (1, 2):
                await eventually(
                    lambda: any(s.subscriptions for s in sim.sessions(B)), what="binance session"
                )
                sim.send_raw(B, [BOOM])
                await eventually(
                    lambda n=n: sup.status().get(task_name, {}).get("failures", 0) >= n,
                    what=f"failure {n}",
                )
            await eventually(lambda: task_name in sup.unhealthy(), what="failing")
            status, body = await health(daemon.metrics_port)
            assert status == 503
            assert task_name in body["dead_tasks"]
            await eventually(
                lambda: any(
                    a["rule"] == META_TASK_RULE and a["labels"].get("task") == task_name
                    for r in rx.accepted
                    for a in r["json"]["alerts"]
                ),
                what="task-failing meta-alert at the webhook",
            )
            # the other venue never noticed
            sim.publish_many(trade(Y, "BTCUSDT", i) for i in range(5))
            await eventually(
                lambda: metric(registry, "riskmon_feed_events_total", venue=Y, type="trade") == 5,
                what="bybit trades",
            )
            # binance recovers: restarted, resubscribed, delivering, healthy again
            await eventually(
                lambda: any(s.subscriptions for s in sim.sessions(B)), what="binance back"
            )
            sim.publish(OpenInterest(
                venue=B, symbol="BTCUSDT", instrument="BTC-USDT-PERP", asset="BTC",
                ts_event=1_763_714_000_000_000_000, ts_recv=0, size=90_000.0, notional_usd=0.0,
            ))  # fmt: skip
            await eventually(
                lambda: (
                    metric(registry, "riskmon_feed_events_total", venue=B, type="open_interest")
                    >= 1
                ),
                what="open interest after the bad answers",
            )
            sim.publish_many(trade(B, "BTCUSDT", i) for i in range(3))
            await eventually(
                lambda: metric(registry, "riskmon_feed_events_total", venue=B, type="trade") >= 3,
                what="binance trades after the restart",
            )
            await eventually(lambda: sup.unhealthy() == [], what="recovered")
            status, _ = await health(daemon.metrics_port)
            assert status == 200
            assert metric(registry, "riskmon_task_restarts_total", task=task_name) == 2
            for outcome in ("server_error", "not_utf8", "not_json", "truncated", "too_large"):
                assert (
                    metric(registry, "riskmon_feed_rest_requests_total", venue=B, outcome=outcome)
                    == 1
                ), outcome
            polls = [n for n in sup.status() if n.startswith(f"poll:{B}:")]
            assert polls
            assert all(sup.status()[n]["restarts"] == 0 for n in polls)
            assert not run.done()
        finally:
            daemon.stop()
            await asyncio.wait_for(run, 30)
    assert rx.duplicates == 0
