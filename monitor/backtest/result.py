"""What one backtest produced: :class:`BacktestResult`.

The alert notices in event-time order, the frame counters of the parsers, the per-minute record
of the charted figures, the history the scenario backfilled, and the episode's bounds and worst
point (the reference for lead times).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from alerts.model import AlertNotice, Severity
from monitor.backtest.recorder import Recorder
from monitor.replay.parse import FrameStats
from monitor.simulator.scenarios import Backfill

__all__ = ["SEVERITIES", "BacktestResult"]

#: severities in rising order (the order of counts, tables and columns)
SEVERITIES: tuple[Severity, ...] = ("info", "warning", "critical")


@dataclass
class BacktestResult:
    """What one backtest produced."""

    scenario: str
    source: str
    rules: str
    seed: int | None
    description: str
    start_ns: int
    end_ns: int
    worst_ns: int | None
    notices: list[AlertNotice] = field(default_factory=list)
    stats: FrameStats = field(default_factory=FrameStats)
    input_events: int = 0
    recorder: Recorder = field(default_factory=Recorder)
    backfill: Backfill = field(default_factory=Backfill)
    notes: list[str] = field(default_factory=list)
    wall_s: float = 0.0
    #: the shortest ``for`` of each (rule, severity) in the rules run, ns: when an alert's
    #: condition began, from its first firing
    rule_for_ns: dict[tuple[str, str], int] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        """Firing notices by severity."""
        c: Counter[str] = Counter(n.severity for n in self.notices if n.status == "firing")
        return {s: c[s] for s in SEVERITIES}

    def fired(self, rule: str, severity: str | None = None, **labels: str) -> list[AlertNotice]:
        """The firing notices of ``rule`` (optionally of one severity and matching labels)."""
        return [
            n
            for n in self.notices
            if n.status == "firing"
            and n.rule == rule
            and (severity is None or n.severity == severity)
            and all(n.labels.get(k) == v for k, v in labels.items())
        ]
