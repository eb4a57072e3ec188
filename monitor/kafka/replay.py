"""``riskmon replay FILE --bus kafka``: publish a capture's events into the events topic.

The capture is parsed exactly as ``riskmon replay`` parses it, and the events are published in
file order, as fast as possible, with their own event times, through the same
:class:`~monitor.kafka.publisher.KafkaPublisher` as the feeds (batched per asset, flushed at
every second of event time). Workers and the alerter then compute what ``riskmon replay`` would,
so a cluster can be back-tested or its windows warmed.
"""

from __future__ import annotations

from collections.abc import Iterable

from monitor.capture import CaptureLine
from monitor.kafka.publisher import KafkaPublisher
from monitor.kafka.settings import KafkaBusSettings
from monitor.replay.parse import FrameStats, TextSink, parse_lines

__all__ = ["publish_capture"]


async def publish_capture(
    lines: Iterable[tuple[int, CaptureLine]],
    cfg: KafkaBusSettings,
    errors: TextSink | None = None,
    stats: FrameStats | None = None,
) -> tuple[FrameStats, KafkaPublisher]:
    """Parse capture lines and publish their events; return the parse stats and the publisher
    (its ``records``, ``events`` and ``lost_events``)."""
    stats = stats if stats is not None else FrameStats()
    pub = KafkaPublisher(cfg)
    await pub.start()
    try:
        for ev in parse_lines(lines, stats, errors):
            await pub.publish(ev)
    finally:
        await pub.stop()
    return stats, pub
