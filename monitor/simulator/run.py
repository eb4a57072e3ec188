"""``riskmon simulate``: the exchange simulator as a standalone server."""

from __future__ import annotations

import asyncio
import signal

import structlog

from monitor.simulator.scenarios import get_scenario, play
from monitor.simulator.server import ExchangeSimulator

__all__ = ["run_simulator"]

log = structlog.get_logger(__name__)


async def run_simulator(
    host: str, port: int, scenario: str | None, speed: float, seed: int, loop_forever: bool
) -> int:
    """Serve every venue; play ``scenario`` (once, or forever) when given; stop on a signal."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with ExchangeSimulator(host=host, port=port) as sim:
        print(
            f"riskmon simulate: serving {', '.join(sorted(sim.venues))} on {sim.url} "
            "(venues under /<venue-id>/)",
            flush=True,
        )
        player: asyncio.Task[None] | None = None
        if scenario is not None:
            player = asyncio.create_task(_player(sim, scenario, speed, seed, loop_forever))
        await stop.wait()
        if player is not None:
            player.cancel()
    return 0


async def _player(
    sim: ExchangeSimulator,
    name: str,
    speed: float,
    seed: int,
    forever: bool,
) -> None:
    while True:
        sc = get_scenario(name, seed)
        n = await play(sim, sc.events(), sc.info.start_ns, speed)
        log.info("simulate.scenario_played", scenario=name, events=n)
        if not forever:
            return
