"""The scenario library: ``get_scenario(name, seed)``.

``cascade`` is the spine's hand-written Binance-only scenario (:mod:`.cascade`); the episodes are
:class:`~.market.MarketSpec` descriptions (one module each, ``spec()``) played by the market model
(:class:`~.market.MarketScenario`).
"""

from __future__ import annotations

from collections.abc import Callable

from monitor.simulator.scenarios import (
    august_2024,
    calm_week,
    march_2023_usdc,
    november_2025,
    october_10_2025,
)
from monitor.simulator.scenarios.base import (
    Backfill,
    Scenario,
    ScenarioInfo,
    install_instruments,
    play,
    seed_backfill,
)
from monitor.simulator.scenarios.cascade import CascadeScenario
from monitor.simulator.scenarios.market import MarketScenario, MarketSpec

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


def _episode(spec: Callable[[], MarketSpec]) -> Callable[[int], Scenario]:
    """The factory of an episode: ``spec()`` played by the market model for a seed."""

    def build(seed: int) -> Scenario:
        return MarketScenario(spec(), seed)

    return build


SCENARIOS: dict[str, Callable[[int], Scenario]] = {
    "cascade": CascadeScenario,
    "november-2025": _episode(november_2025.spec),
    "november-2025-morning": _episode(november_2025.morning_spec),
    "october-10-2025": _episode(october_10_2025.spec),
    "march-2023-usdc": _episode(march_2023_usdc.spec),
    "august-2024": _episode(august_2024.spec),
    "calm-week": _episode(calm_week.spec),
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
