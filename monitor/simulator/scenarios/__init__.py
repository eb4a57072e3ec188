"""The scenario library: ``get_scenario(name, seed)``."""

from __future__ import annotations

from collections.abc import Callable

from monitor.simulator.scenarios.august_2024 import August2024Scenario
from monitor.simulator.scenarios.base import (
    Backfill,
    Scenario,
    ScenarioInfo,
    install_instruments,
    play,
    seed_backfill,
)
from monitor.simulator.scenarios.calm_week import CalmWeekScenario
from monitor.simulator.scenarios.cascade import CascadeScenario
from monitor.simulator.scenarios.march_2023_usdc import March2023UsdcScenario
from monitor.simulator.scenarios.november_2025 import (
    November21MorningScenario,
    November2025Scenario,
)
from monitor.simulator.scenarios.october_10_2025 import October10Scenario

__all__ = [
    "SCENARIOS",
    "Backfill",
    "Scenario",
    "ScenarioInfo",
    "get_scenario",
    "install_instruments",
    "play",
    "seed_backfill",
]

SCENARIOS: dict[str, Callable[[int], Scenario]] = {
    "cascade": CascadeScenario,
    "november-2025": November2025Scenario,
    "november-2025-morning": November21MorningScenario,
    "october-10-2025": October10Scenario,
    "march-2023-usdc": March2023UsdcScenario,
    "august-2024": August2024Scenario,
    "calm-week": CalmWeekScenario,
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
