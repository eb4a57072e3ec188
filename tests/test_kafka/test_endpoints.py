"""The Kafka roles serve the daemon's endpoint: ``/metrics``, ``/healthz``, ``/readyz``.

A worker and two alerters (active and standby) on a real broker, each on its own port, after a
capture was replayed into the events topic: the worker counts every replayed event and is ready
once it owns partitions; the active alerter exports the signals (the dashboards' series) and is
ready; the standby is alive but not ready. A port already taken is a one-line start-up error.
"""

from __future__ import annotations

import asyncio
import re
import socket
import urllib.error
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from tests.helpers import free_port
from tests.test_kafka.conftest import Cluster, wait_until


def get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except OSError:
        return 0, ""


def samples(port: int) -> dict[str, float]:
    """``name{labels}`` -> value of the role's ``/metrics`` (empty if it does not answer)."""
    status, text = get(port, "/metrics")
    if status != 200:
        return {}
    out = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(s.labels.items()))
            out[f"{s.name}{{{labels}}}" if labels else s.name] = s.value
    return out


async def test_worker_and_alerters_serve_their_endpoints(
    cluster: Cluster, cascade_capture: Path
) -> None:
    cluster.write(metrics={"enabled": True, "host": "127.0.0.1", "port": 9464})
    r = cluster.replay(cascade_capture)
    assert r.returncode == 0, r.stderr
    published = int(re.search(r"published (\d+) events", r.stderr).group(1))  # type: ignore[union-attr]
    pw, px, py = free_port(), free_port(), free_port()
    cluster.start("worker", env={"RISKMON_METRICS__PORT": str(pw)})
    x = cluster.start("alerter", tag="x", env={"RISKMON_METRICS__PORT": str(px)})
    await wait_until(lambda: bool(cluster.events(x, "kafka.alerter_active")), 30, "alerter x")
    y = cluster.start("alerter", tag="y", env={"RISKMON_METRICS__PORT": str(py)})
    await wait_until(lambda: bool(cluster.events(y, "kafka.alerter_standby")), 30, "standby y")

    def worker_events() -> float:
        return samples(pw).get("riskmon_kafka_worker_events_total", -1)

    await wait_until(lambda: worker_events() == published, 90, "the worker folds every event")
    w = samples(pw)
    assert w["riskmon_kafka_worker_partitions"] >= 1
    assert w["riskmon_kafka_worker_records_total"] > 0
    assert w["riskmon_kafka_worker_bad_records_total"] == 0
    assert w["riskmon_kafka_worker_signal_batches_total"] > 0
    assert any(k.startswith("riskmon_kafka_worker_event_time_seconds{") for k in w)
    assert get(pw, "/healthz")[0] == 200
    assert get(pw, "/readyz")[0] == 200

    await wait_until(
        lambda: samples(px).get("riskmon_kafka_alerter_applied_batches_total", 0) > 0,
        60,
        "the alerter applies signals",
    )
    a = samples(px)
    assert a["riskmon_kafka_alerter_active"] == 1
    assert a["riskmon_kafka_alerter_bad_records_total"] == 0
    assert a["riskmon_kafka_alerter_event_time_seconds"] > 1.5e9
    # the signals, as the single process exports them for the dashboards
    assert any(k.startswith('riskmon_liq_usd{asset="BTC"') for k in a), sorted(a)[:20]
    assert any(k.startswith("riskmon_price_ref{") for k in a)
    assert get(px, "/healthz")[0] == 200
    assert get(px, "/readyz")[0] == 200

    b = samples(py)  # the standby: alive, not ready, no signals
    assert b["riskmon_kafka_alerter_active"] == 0
    assert not any(k.startswith("riskmon_liq_usd{") for k in b)
    assert get(py, "/healthz")[0] == 200
    status, body = get(py, "/readyz")
    assert status == 503
    assert "standby" in body

    # a second worker on the first one's port: one line, exit 2, no traceback
    busy = cluster.start("worker", tag="busy", env={"RISKMON_METRICS__PORT": str(pw)})
    code = await asyncio.to_thread(busy.wait, 60)
    log = cluster.log_of(busy)
    assert code == 2, log
    assert f"cannot serve metrics on 127.0.0.1:{pw}" in log
    assert "Traceback" not in log


def test_alerter_port_error_is_one_line(cluster: Cluster) -> None:
    """The alerter binds its endpoint before it waits for the lock or the broker."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        cluster.write(metrics={"enabled": True, "host": "127.0.0.1", "port": port})
        p = cluster.start("alerter")
        assert p.wait(30) == 2
    log = cluster.log_of(p)
    assert f"cannot serve metrics on 127.0.0.1:{port}: Address already in use" in log
    assert "Traceback" not in log
