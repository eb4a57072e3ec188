"""The scenario library: ``get_scenario(name, seed)``.

``cascade`` is the spine's hand-written Binance-only scenario (:mod:`.cascade`); the episodes are
:class:`~.market.MarketSpec` descriptions (one module each, ``spec()``, whose numbers are the data
file ``episodes/<module>.toml``, read by :mod:`.episode_file`) played by the market model
(:class:`~.market.MarketScenario`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

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
    "EPISODES",
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


#: the episodes played by the market model (they have coverage variants)
EPISODES: dict[str, Callable[[], MarketSpec]] = {
    "november-2025": november_2025.spec,
    "november-2025-morning": november_2025.morning_spec,
    "october-10-2025": october_10_2025.spec,
    "march-2023-usdc": march_2023_usdc.spec,
    "august-2024": august_2024.spec,
    "calm-week": calm_week.spec,
}

SCENARIOS: dict[str, Callable[[int], Scenario]] = {
    "cascade": CascadeScenario,
    **{name: _episode(spec) for name, spec in EPISODES.items()},
}


def get_scenario(name: str, seed: int = 7, coverage: Mapping[str, float] | None = None) -> Scenario:
    """Build scenario ``name`` for ``seed``.

    ``coverage`` (venue -> share of the whole market's liquidations its feed shows) renders an
    episode as those feeds see it (:class:`~.market.MarketScenario`); None: the whole market.

    Raises:
        KeyError: an unknown scenario name (the message lists the known ones), or a coverage
            variant of a scenario that is not an episode.
    """
    factory = SCENARIOS.get(name)
    if factory is None:
        raise KeyError(f"unknown scenario {name!r}; known: {', '.join(sorted(SCENARIOS))}")
    if coverage is not None:
        spec = EPISODES.get(name)
        if spec is None:
            raise KeyError(
                f"scenario {name!r} has no coverage variant; episodes: {', '.join(EPISODES)}"
            )
        return MarketScenario(spec(), seed, coverage)
    return factory(seed)
