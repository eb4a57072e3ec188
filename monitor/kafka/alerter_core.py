"""The alerter's ordering of signal batches from many workers (pure: no Kafka, no I/O).

Workers publish the signals of each events partition independently; one alerter folds them into
the same :class:`~alerts.evaluator.AlertEvaluator` as the single process. Three things make the
answers the same as one process:

- **Once per source offset.** A batch whose source offset was already applied (a worker's
  rewind, a replacement worker re-processing after a checkpoint) is skipped by a per-partition
  :class:`~monitor.kafka.partition.OffsetGate`.
- **Event-time order across partitions.** A batch carries its partition's event time (last
  engine tick). Batches are held until every active partition has reached that tick, then
  applied in tick order, and the rule timers advance once per tick: the order of one engine.
  A partition that publishes nothing for ``max_hold_s`` of wall time stops holding the others
  back until it publishes again.
- **Market-wide sums.** Processors compute ``asset="all"`` series over the assets they see,
  which on Kafka is one partition's assets. ``liq_usd`` and ``liq_count`` of ``asset="all"``
  are summed over partitions here, and ``liq_long_share{asset="all"}`` is recomputed from the
  sums. ``liq_burst_z{asset="all"}`` cannot be summed; it is the partition's own (documented).
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec

from alerts.evaluator import AlertEvaluator
from alerts.model import AlertNotice
from monitor.kafka.codec import SignalBatch
from monitor.kafka.partition import OffsetGate
from streams.signals import Signal

__all__ = ["AlerterCore", "MarketWideMerger"]

_ALL = "all"
_SUMMED = ("liq_usd", "liq_count")


class MarketWideMerger:
    """Sum ``asset="all"`` liquidation series over partitions."""

    def __init__(self) -> None:
        # (name, side, window) -> partition -> value
        self.parts: dict[str, dict[int, float]] = {}

    @staticmethod
    def _key(name: str, labels: dict[str, str]) -> str:
        return f"{name}|{labels.get('side', '')}|{labels.get('window', '')}"

    def merge(self, partition: int, signals: list[Signal]) -> list[Signal]:
        """Replace partition-level ``asset="all"`` sums by market-wide ones."""
        if not any(s.labels.get("asset") == _ALL for s in signals):
            return signals
        out: list[Signal] = []
        shares: dict[str, int] = {}
        for s in signals:
            if s.labels.get("asset") != _ALL:
                out.append(s)
                continue
            if s.name == "liq_long_share":
                shares[s.labels.get("window", "")] = s.ts
                continue
            if s.name not in _SUMMED:
                out.append(s)
                continue
            k = self._key(s.name, s.labels)
            self.parts.setdefault(k, {})[partition] = s.value
            out.append(Signal(s.name, s.labels, sum(self.parts[k].values()), s.ts))
            if s.name == "liq_usd" and s.labels.get("side") in ("long", "all"):
                shares.setdefault(s.labels.get("window", ""), s.ts)
        for window, ts in shares.items():
            long = sum(self.parts.get(f"liq_usd|long|{window}", {}).values())
            total = sum(self.parts.get(f"liq_usd|all|{window}", {}).values())
            share = long / total if total > 0 else 0.0
            out.append(Signal("liq_long_share", {"asset": _ALL, "window": window}, share, ts))
        return out

    def snapshot(self) -> dict[str, Any]:
        """The per-partition values."""
        return {k: {str(p): v for p, v in d.items()} for k, d in self.parts.items()}

    def restore(self, state: dict[str, Any]) -> None:
        """Load :meth:`snapshot`."""
        self.parts = {k: {int(p): float(v) for p, v in d.items()} for k, d in state.items()}


@dataclass(order=True)
class _Held:
    tick_ns: int
    seq: int
    batch: SignalBatch = field(compare=False)


class AlerterCore:
    """Gate, order and merge signal batches; evaluate rules.

    Args:
        evaluator: the rule evaluator (from the alert service).
        max_hold_s: wall seconds a silent partition may hold the others back.
        max_held: batches held at most (beyond, the oldest are applied anyway).
    """

    def __init__(
        self, evaluator: AlertEvaluator, max_hold_s: float = 30.0, max_held: int = 200_000
    ) -> None:
        self.evaluator = evaluator
        self.max_hold_s = max_hold_s
        self.max_held = max_held
        self.gates: dict[int, OffsetGate] = {}
        self.ticks: dict[int, int] = {}
        self.seen_s: dict[int, float] = {}
        self.merger = MarketWideMerger()
        self.last_tick_ns = 0
        self._ticked = 0
        self.duplicates = 0
        self.applied = 0
        self._held: list[_Held] = []
        self._seq = itertools.count()
        #: sees every applied batch's signals, market-wide sums merged (the alerter's exporter)
        self.observe: Callable[[list[Signal]], None] | None = None

    def on_batch(self, batch: SignalBatch, now_s: float) -> list[AlertNotice]:
        """Take one batch; return the notices of every batch that became due."""
        p = batch.partition
        if batch.offset >= 0:
            gate = self.gates.setdefault(p, OffsetGate())
            if gate.admit(batch.offset, batch.published_ns) == "duplicate":
                self.duplicates += 1
                return []
        self.seen_s[p] = now_s
        if batch.tick_ns > self.ticks.get(p, 0):
            self.ticks[p] = batch.tick_ns
        heapq.heappush(self._held, _Held(batch.tick_ns, next(self._seq), batch))
        return self.release(now_s)

    def watermark(self, now_s: float) -> int:
        """The event time every active partition has reached."""
        live = [
            t
            for p, t in self.ticks.items()
            if t > 0 and now_s - self.seen_s.get(p, now_s) < self.max_hold_s
        ]
        return min(live) if live else 0

    def release(self, now_s: float) -> list[AlertNotice]:
        """Apply the held batches that are due."""
        wm = self.watermark(now_s)
        out: list[AlertNotice] = []
        held = self._held
        while held and (held[0].tick_ns <= wm or len(held) > self.max_held):
            b = heapq.heappop(held).batch
            if b.tick_ns > self.last_tick_ns:
                out.extend(self._tick())
            signals = self.merger.merge(b.partition, b.signals)
            if signals:
                out.extend(self.evaluator.on_signals(signals))
                if self.observe is not None:
                    self.observe(signals)
            self.applied += 1
            if b.tick_ns > self.last_tick_ns:
                self.last_tick_ns = b.tick_ns
        if not held:
            out.extend(self._tick())
        return out

    def _tick(self) -> list[AlertNotice]:
        """Run the rule timers at the last applied tick, once per tick."""
        t = self.last_tick_ns
        if t <= self._ticked:
            return []
        self._ticked = t
        return self.evaluator.on_tick(t)

    @property
    def held(self) -> int:
        """Batches waiting for slower partitions."""
        return len(self._held)

    def snapshot(self) -> bytes:
        """Everything, as msgpack (the held batches included: their offsets are committed)."""
        state = {
            "evaluator": self.evaluator.snapshot(),
            "gates": {str(p): [g.offset, g.published_ns] for p, g in self.gates.items()},
            "ticks": {str(p): t for p, t in self.ticks.items()},
            "merger": self.merger.snapshot(),
            "last_tick_ns": self.last_tick_ns,
            "held": [h.batch for h in sorted(self._held)],
        }
        return msgspec.msgpack.encode(state)

    def restore(self, data: bytes) -> None:
        """Load :meth:`snapshot`."""
        state = msgspec.msgpack.decode(data)
        self.evaluator.restore(state["evaluator"])
        self.gates = {int(p): OffsetGate(o, n) for p, (o, n) in state["gates"].items()}
        self.ticks = {int(p): int(t) for p, t in state["ticks"].items()}
        self.merger.restore(state["merger"])
        self.last_tick_ns = int(state["last_tick_ns"])
        self._ticked = self.last_tick_ns
        self._held = []
        for raw in state["held"]:
            b = msgspec.convert(raw, SignalBatch)
            heapq.heappush(self._held, _Held(b.tick_ns, next(self._seq), b))
