"""``riskmon simulate``: the exchange simulator as a standalone server.

With ``--scenario`` the simulator owns the run's clock (:class:`ScenarioClock`, served at
``/_control/clock``): it stands at the scenario's start until a client has subscribed, then runs
at ``speed``; each event is published when the clock reaches it. The scenario's backfilled
history is served by the venues' klines and open-interest history endpoints. With ``--loop``
every pass is shifted forward by the scenario's span, so the clock never goes back; without it the
clock stands still at the scenario's end (the market is over, nothing goes stale).
"""

from __future__ import annotations

import asyncio
import errno
import signal
import sys

import structlog

from monitor.simulator.clock import ScenarioClock
from monitor.simulator.fill import KeepAlive
from monitor.simulator.playback import (
    play_on_clock,
    prime_open_interest,
    serve_history,
    wait_for_subscribers,
)
from monitor.simulator.scenarios import get_scenario, install_instruments
from monitor.simulator.server import ExchangeSimulator
from streams.units import NS_PER_MINUTE

__all__ = ["run_simulator"]

log = structlog.get_logger(__name__)

EXIT_BUSY = 2


async def run_simulator(
    host: str, port: int, scenario: str | None, speed: float, seed: int, loop_forever: bool
) -> int:
    """Serve every venue; play ``scenario`` (once, or forever) when given; stop on a signal.

    Returns 2 (after one line on stderr) when the port cannot be bound.
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    sim = ExchangeSimulator(host=host, port=port)
    try:
        await sim.start()
    except OSError as e:
        await sim.stop()
        reason = "address already in use" if e.errno == errno.EADDRINUSE else e.strerror or str(e)
        print(f"riskmon: error: cannot serve on {host}:{port}: {reason}", file=sys.stderr)
        return EXIT_BUSY
    try:
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
    finally:
        await sim.stop()
    return 0


async def _player(
    sim: ExchangeSimulator,
    name: str,
    speed: float,
    seed: int,
    forever: bool,
) -> None:
    sc = get_scenario(name, seed)
    info = sc.info
    for sv in sim.venues.values():
        install_instruments(sv, info.extra_instruments.get(sv.venue, []))
    backfill = sc.backfill()
    serve_history(sim.venues.values(), info, backfill)
    clock = ScenarioClock(info.start_ns, speed if speed > 0 else 1e6, paused=True)
    sim.clock = clock
    events = prime_open_interest(sim, sc.events(), info.start_ns)
    keepalive = KeepAlive(sim, clock, info.symbols, info.channels, info.silent)
    keepalive.serve_history(backfill)
    keepalive.serve(info.start_ns)  # every stream has a first value for the REST polls
    await wait_for_subscribers(sim)
    clock.resume()
    log.info("simulate.clock_started", scenario=name, start_ns=info.start_ns, speed=clock.speed)
    span = info.end_ns - info.start_ns + NS_PER_MINUTE
    beat = asyncio.create_task(keepalive.run(), name="simulate-keepalive")
    try:
        for lap in range(1_000_000 if forever else 1):
            if lap:
                events = get_scenario(name, seed).events()
            n = await play_on_clock(sim, events, clock, offset_ns=lap * span, keepalive=keepalive)
            log.info("simulate.scenario_played", scenario=name, events=n, lap=lap)
        clock.pause()  # the scenario is over: its clock stands (a follower's feeds do not age)
        await asyncio.Event().wait()  # served until the simulator stops
    finally:
        beat.cancel()
