"""End to end with real servers: simulator → `riskmon run` → Prometheus → Alertmanager → webhook.

The simulator plays the spine's cascade (Binance USD-M, 21 Nov 2025 morning) at 120× into a real
`riskmon run` process. A real Prometheus scrapes its /metrics every second and evaluates the rules
exported from the same YAML the daemon runs (plus the whole november-2025 pack, which must evaluate
without errors); a real Alertmanager delivers the critical BTC alert to a webhook on 127.0.0.1. The
same run lints the live scrape with ``promtool check metrics`` and checks that every metric a
dashboard, a Grafana alert rule or an exported rule names is in it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import yaml
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

from alerts.export import prometheus_rules
from alerts.export.prometheus import inhibit_rules, rule_document
from alerts.rules import load_pack, load_rules
from grafana import validate
from monitor.simulator.scenarios import get_scenario, play
from monitor.simulator.server import ExchangeSimulator
from monitor.simulator.venues.binance_usdm import BinanceUsdmSim
from tests.helpers import eventually
from tests.test_monitor.test_run_daemon import free_port

V = "binance-usdm"
RULES = """\
pack: e2e
rules:
  - name: btc_liquidations_1h
    description: BTC liquidations over a rolling hour (the cascade's critical BTC alert).
    signal: liq_usd
    match: {asset: BTC, side: all, window: 1h}
    op: ">="
    for: 0s
    keep_firing_for: 5m
    labels: {category: liquidations}
    annotations:
      summary: "BTC liquidations {value_h} USD in the last hour"
      runbook: "Cascade under way on BTC."
    levels:
      - {level: warning, threshold: 20e6, clear: 10e6}
      - {level: critical, threshold: 100e6, clear: 50e6}
"""
#: samples that the cascade must have produced in the scrape (not only a declared family)
MUST_HAVE_SAMPLES = (
    "riskmon_liq_usd",
    "riskmon_price_ref",
    "riskmon_funding_rate_8h_ratio",
    "riskmon_feed_up",
    "riskmon_feed_age_seconds",
    "riskmon_alerts_firing",
    "riskmon_feed_frames_total",
    "riskmon_alerts_rule_evaluations_total",
    "riskmon_pipeline_event_to_notice_seconds_bucket",
    "riskmon_alerts_notice_to_delivery_seconds_bucket",
    "riskmon_window_late_events_total",
)


class Sink:
    """A webhook receiver on 127.0.0.1 recording the JSON bodies posted to each path."""

    def __init__(self) -> None:
        self.bodies: dict[str, list[dict[str, Any]]] = {}
        self.port = free_port()

    async def _post(self, request: web.Request) -> web.Response:
        self.bodies.setdefault(request.path, []).append(await request.json())
        return web.Response(text="ok")

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Sink]:
        app = web.Application()
        app.router.add_post("/{path}", self._post)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", self.port).start()
        try:
            yield self
        finally:
            await runner.cleanup()


@contextlib.asynccontextmanager
async def process(*argv: str, log: Path) -> AsyncIterator[asyncio.subprocess.Process]:
    """A server process with its output in ``log``; SIGTERM (then SIGKILL) on exit."""
    with log.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(*argv, stdout=out, stderr=out)
        try:
            yield proc
        finally:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(proc.wait(), 20)
                except TimeoutError:
                    proc.kill()
                    await proc.wait()


async def poll(
    what: str, fetch: Callable[[], Awaitable[Any]], timeout_s: float, every_s: float = 0.25
) -> Any:
    """Call ``fetch`` until it returns something truthy; fail with ``what`` after the timeout."""
    deadline = time.monotonic() + timeout_s
    while True:
        with contextlib.suppress(aiohttp.ClientError):
            got = await fetch()
            if got:
                return got
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(every_s)


def _present(name: str, families: dict[str, str], samples: set[str]) -> bool:
    if name in samples or name in families:
        return True
    for suffix in ("_total", "_bucket", "_count", "_sum"):
        if name.endswith(suffix) and name.removesuffix(suffix) in families:
            return True
    return False


async def test_cascade_alert_reaches_alertmanager_webhook_through_prometheus(
    tmp_path: Path, promtool: str, prometheus_bin: str, alertmanager_bin: str
) -> None:
    """The critical BTC alert goes simulator → daemon → Prometheus → Alertmanager → webhook."""
    started = time.monotonic()
    rules_yaml = tmp_path / "e2e-rules.yaml"
    rules_yaml.write_text(RULES)
    e2e = load_rules(str(rules_yaml))
    pack = load_pack("november-2025")
    (tmp_path / "e2e.rules.yml").write_text(prometheus_rules(e2e, "1s"))
    (tmp_path / "pack.rules.yml").write_text(prometheus_rules(pack, "1s"))
    sink = Sink()
    am_port, prom_port, metrics_port = free_port(), free_port(), free_port()
    (tmp_path / "am.yml").write_text(
        yaml.safe_dump(
            {
                "route": {
                    "receiver": "hook",
                    "group_by": ["alertname", "asset"],
                    "group_wait": "1s",
                    "group_interval": "5s",
                    "repeat_interval": "1h",
                },
                "receivers": [
                    {
                        "name": "hook",
                        "webhook_configs": [
                            {"url": f"http://127.0.0.1:{sink.port}/am", "send_resolved": True}
                        ],
                    }
                ],
                "inhibit_rules": inhibit_rules(pack.inhibit),
            }
        )
    )
    (tmp_path / "prometheus.yml").write_text(
        yaml.safe_dump(
            {
                "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                "alerting": {
                    "alertmanagers": [{"static_configs": [{"targets": [f"127.0.0.1:{am_port}"]}]}]
                },
                "rule_files": ["e2e.rules.yml", "pack.rules.yml"],
                "scrape_configs": [
                    {
                        "job_name": "riskmon",
                        "static_configs": [{"targets": [f"127.0.0.1:{metrics_port}"]}],
                    }
                ],
            }
        )
    )
    check = await asyncio.create_subprocess_exec(
        promtool,
        "check",
        "config",
        str(tmp_path / "prometheus.yml"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await check.communicate()
    assert check.returncode == 0, out.decode()

    async with (
        sink.running(),
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http,
        ExchangeSimulator([BinanceUsdmSim()]) as sim,
    ):
        cfg = tmp_path / "riskmon.yaml"
        cfg.write_text(
            f"venues:\n  {V}: {{symbols: [BTCUSDT, ETHUSDT]}}\n"
            f"simulator: {sim.url}\nstate_dir: {tmp_path / 'state'}\n"
            f"store: {tmp_path / 'riskmon.db'}\nrules: {rules_yaml}\n"
            f"metrics: {{host: 127.0.0.1, port: {metrics_port}}}\n"
            "alerting:\n  receivers:\n"
            f"    - {{type: webhook, name: desk, url: 'http://127.0.0.1:{sink.port}/riskmon'}}\n"
            "  routes:\n    - {receiver: desk, group_wait_s: 0.2, group_by: [alertname]}\n"
        )
        async with (
            process(
                alertmanager_bin,
                f"--config.file={tmp_path / 'am.yml'}",
                f"--storage.path={tmp_path / 'am-data'}",
                f"--web.listen-address=127.0.0.1:{am_port}",
                "--cluster.listen-address=",
                log=tmp_path / "alertmanager.log",
            ),
            process(
                sys.executable,
                "-m",
                "monitor.cli",
                "run",
                "--config",
                str(cfg),
                log=tmp_path / "riskmon.log",
            ) as daemon,
            process(
                prometheus_bin,
                f"--config.file={tmp_path / 'prometheus.yml'}",
                f"--storage.tsdb.path={tmp_path / 'prom-data'}",
                "--storage.tsdb.retention.time=1h",
                f"--web.listen-address=127.0.0.1:{prom_port}",
                log=tmp_path / "prometheus.log",
            ),
        ):
            base = f"http://127.0.0.1:{prom_port}/api/v1"

            async def query(expr: str) -> list[dict[str, Any]]:
                async with http.get(f"{base}/query", params={"query": expr}) as r:
                    res: list[dict[str, Any]] = (await r.json())["data"]["result"]
                    return res

            await eventually(
                lambda: (
                    any(s.subscriptions for s in sim.sessions(V)) or daemon.returncode is not None
                ),
                timeout_s=30,
                what="the daemon to subscribe",
            )
            assert daemon.returncode is None, (tmp_path / "riskmon.log").read_text()[-3000:]
            await poll("Prometheus to scrape riskmon", lambda: query('up{job="riskmon"} == 1'), 30)

            sc = get_scenario("cascade", 7)
            player = asyncio.create_task(play(sim, sc.events(), sc.info.start_ns, 120.0))
            try:

                async def critical_delivered() -> list[dict[str, Any]]:
                    return [
                        a
                        for body in sink.bodies.get("/am", [])
                        for a in body["alerts"]
                        if a["status"] == "firing"
                        and a["labels"].get("alertname") == "btc_liquidations_1h"
                        and a["labels"].get("severity") == "critical"
                    ]

                delivered = await poll(
                    "the critical BTC alert at the webhook", critical_delivered, 60
                )
            finally:
                player.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await player
            alert = delivered[0]
            assert alert["labels"]["asset"] == "BTC"
            assert alert["labels"]["window"] == "1h"
            assert alert["annotations"]["summary"].startswith("BTC liquidations ")
            assert alert["annotations"]["summary"].endswith("USD in the last hour")

            async with http.get(f"{base}/rules") as r:
                groups = (await r.json())["data"]["groups"]
            health = {(g["name"], x["name"], x["health"]) for g in groups for x in g["rules"]}
            assert {g["name"] for g in groups} == {"riskmon-e2e", "riskmon-november-2025"}
            assert all(h == "ok" for _, _, h in health), [x for x in health if x[2] != "ok"]

            # the daemon's own view: its alert, its delivery, health and a lint-clean scrape
            await poll(
                "the daemon's own webhook delivery", lambda: _async(sink.bodies.get("/riskmon")), 30
            )
            mbase = f"http://127.0.0.1:{metrics_port}"

            async def scrape_with_latency() -> str:
                async with http.get(f"{mbase}/metrics") as r:
                    text = await r.text()
                return text if "riskmon_alerts_notice_to_delivery_seconds_count" in text else ""

            text = await poll("a scrape", scrape_with_latency, 10)

            async def healthy() -> bool:  # a stall under the cascade's load fails it for 10 s
                async with http.get(f"{mbase}/healthz") as r:
                    return r.status == 200

            await poll("/healthz to answer 200", healthy, 20)
            async with http.get(f"{mbase}/readyz") as r:
                assert r.status == 200, await r.text()
    lint = await asyncio.create_subprocess_exec(
        promtool,
        "check",
        "metrics",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await lint.communicate(text.encode())
    assert lint.returncode == 0, out.decode()
    families: dict[str, str] = {}
    samples: set[str] = set()
    for fam in text_string_to_metric_families(text):
        assert fam.name not in families, f"{fam.name} exported twice"
        families[fam.name] = fam.type
        samples |= {s.name for s in fam.samples}
    named = validate.metric_names(validate.dashboard_exprs() + validate.rule_exprs())
    for doc in (rule_document(e2e), rule_document(pack)):
        named |= validate.metric_names(
            [("rule", r["expr"]) for g in doc["groups"] for r in g["rules"]]
        )
    missing = sorted(n for n in named if not _present(n, families, samples))
    assert missing == [], missing
    assert set(MUST_HAVE_SAMPLES) <= samples, sorted(set(MUST_HAVE_SAMPLES) - samples)
    values = {s.name: s.value for fam in text_string_to_metric_families(text) for s in fam.samples}
    assert values["riskmon_alerts_rule_evaluations_total"] > 0  # counted for the daemon too
    assert values["riskmon_pipeline_event_to_notice_seconds_count"] >= 2  # warning, critical
    firing = [
        line
        for line in text.splitlines()
        if line.startswith("riskmon_alerts_firing{") and 'alertname="btc_liquidations_1h"' in line
    ]
    assert any('severity="critical"' in x and 'asset="BTC"' in x for x in firing), firing
    assert json.dumps(sink.bodies["/riskmon"][0])
    assert time.monotonic() - started < 120


async def _async(value: Any) -> Any:
    return value
