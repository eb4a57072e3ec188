"""The Kafka path (capture -> events topic -> 2 workers -> alerter) gives the single process's
alerts: same rule, severity, labels and starts_at as ``riskmon replay --emit alerts``; a record
that is not a known schema is counted and skipped."""

from __future__ import annotations

from pathlib import Path

from aiokafka import AIOKafkaProducer

from tests.test_kafka.conftest import Cluster, wait_until


async def test_two_workers_and_alerter_give_the_replay_alerts(
    cluster: Cluster, cascade_capture: Path, cascade_expected: set[tuple[str, str, str, int]]
) -> None:
    expected = cascade_expected
    assert len(expected) >= 10
    r = cluster.replay(cascade_capture)  # creates the topics
    assert r.returncode == 0, r.stderr
    assert "published" in r.stderr
    assert "lost" not in r.stderr
    bus = cluster.settings["bus"]
    producer = AIOKafkaProducer(bootstrap_servers=bus["brokers"])
    await producer.start()
    try:  # garbage after the capture, in both partitions that carry assets
        for key in (b"BTC", b"ETH"):
            await producer.send_and_wait(bus["topics"]["events"], b"\xc1not msgpack", key=key)
    finally:
        await producer.stop()
    w1 = cluster.start("worker", tag="a")
    w2 = cluster.start("worker", tag="b")
    alerter = cluster.start("alerter")
    last = max(a[3] for a in expected)

    await wait_until(
        lambda: any(a[3] >= last for a in cluster.fired(alerter)), 90, "the last replay alert"
    )
    got = cluster.fired(alerter)
    assert len(got) == len(set(got)), "an alert fired twice"
    assert {a for a in got if a[3] <= last} == expected
    await wait_until(
        lambda: (
            len(cluster.events(w1, "kafka.bad_record") + cluster.events(w2, "kafka.bad_record"))
            == 2
        ),
        30,
        "both bad records counted",
    )
    # both workers had partitions: the load was shared
    assert cluster.events(w1, "kafka.partition_restored")
    assert cluster.events(w2, "kafka.partition_restored")
