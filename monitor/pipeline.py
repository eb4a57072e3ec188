"""The synchronous core of the pipeline: events → processors → signals → rules → alert notices.

It does no I/O, so ``riskmon replay``, the backtests and the daemon run exactly the same code; the
daemon only adds the bus in front and the dispatcher behind.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from alerts.model import AlertNotice
from streams.engine import StreamEngine
from streams.events import Event
from streams.signals import Signal

__all__ = ["Pipeline", "RuleEvaluator", "Step"]


class RuleEvaluator(Protocol):
    """The alert evaluator as the pipeline sees it (implemented in ``alerts``)."""

    def on_signals(self, signals: Sequence[Signal]) -> list[AlertNotice]:
        """Fold signals into rule state; return firing/resolved notices."""
        ...

    def on_tick(self, now_ns: int) -> list[AlertNotice]:
        """Advance rule timers to ``now_ns``; return firing/resolved notices."""
        ...

    def snapshot(self) -> dict[str, Any]:
        """The evaluator's state."""
        ...

    def restore(self, state: dict[str, Any]) -> None:
        """Load a state written by :meth:`snapshot`."""
        ...


@dataclass(slots=True)
class Step:
    """What one event (or one advance of time) produced."""

    signals: list[Signal] = field(default_factory=list)
    notices: list[AlertNotice] = field(default_factory=list)


class Pipeline:
    """Processors and rules, in event time.

    Args:
        engine: the stream engine with its processors.
        evaluator: the rule evaluator, or None to stop at signals.
    """

    def __init__(self, engine: StreamEngine, evaluator: RuleEvaluator | None = None) -> None:
        self.engine = engine
        self.evaluator = evaluator
        self._last_rule_tick = 0

    def on_event(self, event: Event) -> Step:
        """Process one event."""
        signals = self.engine.on_event(event)
        if signals or (
            self.evaluator is not None and self.engine.last_tick_ns > self._last_rule_tick
        ):
            return self._rules(signals)
        return Step(signals, [])  # most events: no signal and no tick, nothing for the rules

    def advance(self, now_ns: int) -> Step:
        """Move event time forward without an event (idle feeds, end of a replay)."""
        return self._rules(self.engine.advance(now_ns))

    def flush(self) -> Step:
        """Run the next tick so the latest events' signals show (the end of a replay)."""
        return self._rules(self.engine.flush())

    def _rules(self, signals: list[Signal]) -> Step:
        step = Step(signals=signals)
        ev = self.evaluator
        if ev is None:
            return step
        if signals:
            step.notices.extend(ev.on_signals(signals))
        tick = self.engine.last_tick_ns
        if tick > self._last_rule_tick:  # rule timers advance once per engine tick
            self._last_rule_tick = tick
            step.notices.extend(ev.on_tick(tick))
        return step

    def snapshot(self) -> dict[str, Any]:
        """State of processors and rules."""
        return {
            "engine": self.engine.snapshot(),
            "rules": self.evaluator.snapshot() if self.evaluator is not None else None,
            "last_rule_tick": self._last_rule_tick,
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Restore a state written by :meth:`snapshot`."""
        self.engine.restore(state.get("engine", {}))
        if self.evaluator is not None and state.get("rules") is not None:
            self.evaluator.restore(state["rules"])
        self._last_rule_tick = int(state.get("last_rule_tick", 0))
