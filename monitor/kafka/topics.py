"""Create the riskmon topics with their final partition counts (idempotent).

Partition counts are never changed afterwards: the events topic is keyed by asset, and adding
partitions would move assets (and their windows) to other partitions. Some brokers cannot add
partitions at all (Tansu), so creation is the only time they are set.
"""

from __future__ import annotations

import asyncio

import structlog
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError

from monitor.kafka.settings import KafkaBusSettings
from streams.backoff import Backoff

__all__ = ["ensure_topics", "topic_specs", "wait_for_broker"]

log = structlog.get_logger(__name__)

_MAX_MESSAGE_BYTES = 16 * 1024 * 1024


def topic_specs(cfg: KafkaBusSettings) -> list[NewTopic]:
    """The topics riskmon needs, with partition counts and configs."""
    t = cfg.topics
    rf = t.replication_factor
    specs = [
        NewTopic(t.events, t.events_partitions, rf),
        NewTopic(t.signals, 1, rf),
        NewTopic(
            t.checkpoints,
            t.events_partitions,
            rf,
            topic_configs={
                "cleanup.policy": "compact",
                "max.message.bytes": str(_MAX_MESSAGE_BYTES),
            },
        ),
    ]
    if cfg.frames:
        specs.append(NewTopic(t.frames, t.frames_partitions, rf))
    return specs


async def ensure_topics(cfg: KafkaBusSettings) -> list[str]:
    """Create the topics that do not exist yet; return the names created.

    Raises:
        aiokafka.errors.KafkaError: the cluster cannot be reached or refuses a topic.
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=cfg.brokers, client_id=f"{cfg.client_id}-admin")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [s for s in topic_specs(cfg) if s.name not in existing]
        if missing:
            resp = await admin.create_topics(missing)
            for err in getattr(resp, "topic_errors", ()):
                name, code = err[0], err[1]
                if code not in (0, 36):  # 36: TOPIC_ALREADY_EXISTS (another process won)
                    raise RuntimeError(f"cannot create topic {name}: error code {code}")
            log.info(
                "kafka.topics_created",
                topics=[s.name for s in missing],
                partitions=[s.num_partitions for s in missing],
            )
        return [s.name for s in missing]
    finally:
        await admin.close()


#: retries of a cluster that cannot be reached at start: 1 s, 2 s, ... up to 30 s
START_BACKOFF = Backoff(initial_s=1.0, max_s=30.0)


async def wait_for_broker(
    cfg: KafkaBusSettings, stop: asyncio.Event | None = None, backoff: Backoff = START_BACKOFF
) -> bool:
    """Create the topics (:func:`ensure_topics`), retrying while the cluster cannot be reached,
    as a service started before its broker should; return False if ``stop`` was set first.

    Each failed attempt is logged (``kafka.broker_unreachable``): a role waits, it does not exit,
    so a supervisor does not restart it in a loop while Kafka starts.
    """
    attempt = 0
    while True:
        try:
            await ensure_topics(cfg)
            if attempt:
                log.info("kafka.broker_reachable", brokers=cfg.brokers, attempts=attempt + 1)
            return True
        except KafkaError as e:
            delay = backoff.delay(attempt)
            attempt += 1
            log.warning(
                "kafka.broker_unreachable",
                brokers=cfg.brokers,
                error=str(e) or type(e).__name__,
                attempt=attempt,
                retry_in_s=round(delay, 1),
            )
        if stop is None:
            await asyncio.sleep(delay)
            continue
        try:
            await asyncio.wait_for(stop.wait(), delay)
            return False
        except TimeoutError:
            pass
