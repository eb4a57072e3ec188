"""The scenario library: ``get_scenario(name, seed)``."""

from __future__ import annotations

from collections.abc import Callable

from monitor.simulator.scenarios.base import Scenario, ScenarioInfo, play
from monitor.simulator.scenarios.cascade import CascadeScenario

__all__ = ["SCENARIOS", "Scenario", "ScenarioInfo", "get_scenario", "play"]

SCENARIOS: dict[str, Callable[[int], Scenario]] = {
    "cascade": CascadeScenario,
}


def get_scenario(name: str, seed: int = 7) -> Scenario:
    """Build scenario ``name`` for ``seed``.

    Raises:
        KeyError: an unknown scenario name (the message lists the known ones).
    """
    factory = SCENARIOS.get(name)
    if factory is None:
        raise KeyError(f"unknown scenario {name!r}; known: {', '.join(sorted(SCENARIOS))}")
    return factory(seed)
