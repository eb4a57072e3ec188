"""The venues' REST history on the Kafka topology: loaded by the feeds, seeded by the workers.

The single process seeds its price and open-interest processors from the venues' REST history
(:mod:`monitor.backfill`): all of it at a first start, the gap after a downtime. On Kafka the
feeds role has the venues and the workers have the processors, so the history travels on the
events topic:

- **Feeds** (:func:`publish_histories`): at start, every venue's whole history (90 days of
  prices, 60 days of open interest) is fetched beside the running feeds and published as one
  record per venue and asset (:class:`~monitor.kafka.codec.HistoryRecord`, keyed by asset like
  that asset's events, so it reaches the partition that holds the asset). Every record of a run
  carries the run's start (``run_ns``).
- **Workers** (:class:`PartitionHistory`): a partition remembers the newest event time it held
  when the run's first record came (``held_ns``). A partition that held nothing (a new cluster)
  seeds the whole history at once, as a first start of the single process does. A partition that
  held events seeds only the points after them (the gap the feeds were down), and only once its
  event time has passed the gap (:func:`monitor.backfill.gap_seed_time`): the ticks through the
  downtime record its hours as without values and would overwrite history seeded before them. A
  gap under :data:`~monitor.daemon_history.GAP_MIN_S` has nothing to load; one over
  :data:`~monitor.daemon_history.GAP_MAX_S` outlives every window. Pending histories are part of
  the partition's checkpoint, and the record is behind the offset gate like any other, so a
  takeover neither loses nor repeats a seeding.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import msgspec
import structlog

from monitor.backfill import Answer, Seedable, fetch_history, gap_seed_time, seed_answers
from monitor.daemon_history import GAP_MAX_S, GAP_MIN_S, feed_symbols, for_each_feed
from monitor.kafka.codec import EventBatch, HistoryRecord, HistoryState, PendingHistory
from streams.units import NS_PER_SECOND

if TYPE_CHECKING:
    import aiohttp

    from monitor.feed import VenueFeed
    from monitor.kafka.publisher import KafkaPublisher
    from monitor.metrics import MonitorMetrics
    from streams.clock import Clock

__all__ = ["PartitionHistory", "publish_histories"]

log = structlog.get_logger(__name__)

#: the histories the workers' processors take
KINDS = ("price", "open_interest")


async def publish_histories(
    feeds: Sequence[VenueFeed],
    http: aiohttp.ClientSession,
    publisher: KafkaPublisher,
    clock: Clock | None = None,
    metrics: MonitorMetrics | None = None,
) -> None:
    """Fetch every feed's venue history up to ``clock``'s now and publish it per asset. Never
    raises: a venue that fails is logged and the others go on."""

    async def one(feed: VenueFeed) -> None:
        got = await fetch_history(
            feed.spec,
            feed.endpoints,
            feed_symbols(feed),
            feed.registry,
            http,
            KINDS,
            clock=clock,
            metrics=metrics,
        )
        by_asset: dict[str, list[Answer]] = {}
        for a in got.answers:
            by_asset.setdefault(a.asset, []).append(a)
        for asset, answers in sorted(by_asset.items()):
            record = HistoryRecord(venue=feed.venue, until_ns=got.until_ns, answers=answers)
            await publisher.publish_history(asset, record)
        log.info(
            "kafka.history_published",
            venue=feed.venue,
            requests=got.requests,
            assets=len(by_asset),
            points=sum(len(a.points) for a in got.answers),
        )

    await for_each_feed(feeds, one, log, "kafka.history_failed")


class PartitionHistory:
    """A partition's side of the history: which run it is in, what it held, what waits.

    Args:
        partition: the events partition (for the logs).
        targets: the partition's processors that take history
            (:func:`~monitor.backfill.seed_targets`).
        state: restored from a checkpoint (default: a partition that has seen nothing).
    """

    def __init__(
        self, partition: int, targets: dict[str, Seedable], state: HistoryState | None = None
    ) -> None:
        self.partition = partition
        self.targets = targets
        self.state = state or HistoryState()

    def on_record(self, batch: EventBatch, watermark_ns: int) -> int:
        """Note an admitted record before its events are folded in: a new run of the feeds, a
        history to seed now or later. Return the points seeded."""
        st = self.state
        if batch.run_ns and batch.run_ns != st.run_ns:
            st.run_ns, st.held_ns = batch.run_ns, st.records_ns
        record = batch.history
        if record is None:
            return 0
        since = st.held_ns
        if since <= 0:  # the partition held nothing before this run: the whole history, now
            return self._seed(record, 0)
        gap_s = (record.until_ns - since) / NS_PER_SECOND
        if not GAP_MIN_S < gap_s <= GAP_MAX_S:
            log.info(
                "kafka.history_not_needed",
                partition=self.partition,
                venue=record.venue,
                gap_s=round(gap_s),
            )
            return 0
        seed_at = gap_seed_time(record.answers, since, record.until_ns)
        st.pending.append(PendingHistory(since_ns=since, seed_at_ns=seed_at, record=record))
        return self.seed_due(watermark_ns)

    def folded(self, watermark_ns: int) -> int:
        """Note the partition's event time after a record's events were folded in (idle ticks
        are not noted: what a partition held is what its records brought); seed what is due."""
        self.state.records_ns = watermark_ns
        return self.seed_due(watermark_ns) if self.state.pending else 0

    def seed_due(self, watermark_ns: int) -> int:
        """Seed the pending histories whose gap event time has passed; return the points."""
        st = self.state
        if not st.pending or watermark_ns < min(p.seed_at_ns for p in st.pending):
            return 0
        due = [p for p in st.pending if p.seed_at_ns <= watermark_ns]
        st.pending = [p for p in st.pending if p.seed_at_ns > watermark_ns]
        return sum(self._seed(p.record, p.since_ns) for p in due)

    def snapshot(self) -> HistoryState:
        """A copy of the state for a checkpoint (records folded in later do not change it)."""
        return msgspec.structs.replace(self.state, pending=list(self.state.pending))

    def _seed(self, record: HistoryRecord, since_ns: int) -> int:
        points = seed_answers(record.venue, record.answers, self.targets, since_ns)
        log.info(
            "kafka.history_seeded",
            partition=self.partition,
            venue=record.venue,
            since_ns=since_ns or None,
            points=points,
        )
        return points
