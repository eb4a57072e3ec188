"""Playing a scenario on the scenario clock: what ``riskmon simulate`` and the demo share.

- :func:`serve_history` puts the scenario's backfilled history (:meth:`Scenario.backfill`) into
  the venues' hourly history, so a daemon's start-up backfill (klines, open-interest history)
  loads it over REST as it would from the exchanges;
- :func:`prime_open_interest` publishes each symbol's opening open interest as of the start, so
  the daemon's first REST polls find one;
- :func:`play_on_clock` publishes each event when the :class:`ScenarioClock` reaches its time;
  a consumer that falls behind pauses the clock (the demo), so queues never overflow;
- :class:`~monitor.simulator.fill.KeepAlive` (noted here as each event is published) serves
  every stream a daemon subscribes to on a live venue's cadence;
- :func:`wait_for_subscribers` holds the (paused) clock at the start until clients have
  subscribed and stopped subscribing, so a daemon started after the simulator sees the whole
  scenario (it loads its history over REST while the first minutes play, as it would live).
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable, Iterable, Iterator

import msgspec
import structlog

from monitor.simulator.base import SimVenue
from monitor.simulator.clock import ScenarioClock
from monitor.simulator.fill import KeepAlive
from monitor.simulator.scenarios.base import Backfill, ScenarioInfo
from monitor.simulator.server import ExchangeSimulator
from streams.events import Event, OpenInterest, Trade
from streams.units import NS_PER_SECOND

__all__ = [
    "play_on_clock",
    "prime_open_interest",
    "serve_history",
    "wait_for_subscribers",
]

log = structlog.get_logger(__name__)


def serve_history(sims: Iterable[SimVenue], info: ScenarioInfo, backfill: Backfill) -> int:
    """Record ``backfill`` into the hourly history of the venues that serve history.

    Price points go to every scenario symbol of the asset; a venue's open interest of an asset
    is split evenly over its scenario symbols of that asset (the daemon sums them back).
    Returns the points recorded.
    """
    n = 0
    for sv in sims:
        if not sv.serves_history:
            continue
        by_asset: dict[str, list[str]] = {}
        for sym in info.symbols.get(sv.venue, []):
            inst = sv.instruments.get(sym)
            if inst is not None:
                by_asset.setdefault(inst.base, []).append(sym)
        for asset, syms in by_asset.items():
            for sym in syms:
                inst = sv.instruments[sym]
                head = {
                    "venue": sv.venue,
                    "symbol": sym,
                    "instrument": inst.instrument,
                    "asset": asset,
                }
                prices = backfill.price.get(asset, [])
                for ts, px in prices:
                    sv.hourly.record(
                        Trade(
                            **head,
                            ts_event=ts,
                            ts_recv=ts,
                            price=px,
                            size=0.0,
                            notional_usd=0.0,
                            side="buy",
                        )
                    )
                    n += 1
                price_at = dict(prices)
                for ts, usd in backfill.open_interest.get((asset, sv.venue), []):
                    px = price_at.get(ts, 0.0)
                    share = usd / len(syms)
                    sv.hourly.record(
                        OpenInterest(
                            **head,
                            ts_event=ts,
                            ts_recv=ts,
                            size=share / px if px else 0.0,
                            notional_usd=share,
                        )
                    )
                    n += 1
    log.info("simulator.history_served", scenario=info.name, points=n)
    return n


def prime_open_interest(
    sim: ExchangeSimulator, events: Iterable[Event], start_ns: int, head_s: float = 300.0
) -> Iterator[Event]:
    """Give the simulator the scenario's opening open interest before any client connects.

    Venues always have an open interest to serve; without this the daemon's first REST polls
    would meet a simulator that has none yet. The first open interest of each symbol within
    ``head_s`` is published as of the scenario's start. Returns the same events, ready to play.
    """
    it = iter(events)
    head: list[Event] = []
    opening: dict[tuple[str, str], Event] = {}
    for ev in it:
        head.append(ev)
        if type(ev) is OpenInterest:
            opening.setdefault((ev.venue, ev.symbol), ev)
        if ev.ts_event > start_ns + int(head_s * NS_PER_SECOND):
            break
    sim.publish_many(msgspec.structs.replace(ev, ts_event=start_ns) for ev in opening.values())
    return itertools.chain(head, it)


async def wait_for_subscribers(
    sim: ExchangeSimulator, settle_s: float = 1.0, timeout_s: float | None = None
) -> bool:
    """Wait until some client subscribed and no subscription changed for ``settle_s`` (wall).

    Returns False when ``timeout_s`` (wall) passed first.
    """
    started = time.monotonic()
    last_count, last_change = -1, time.monotonic()
    while True:
        count = sum(st.subscribe_frames for st in sim.stats.values())
        now = time.monotonic()
        if count != last_count:
            last_count, last_change = count, now
        elif count > 0 and now - last_change >= settle_s:
            return True
        if timeout_s is not None and now - started > timeout_s:
            return False
        await asyncio.sleep(0.05)


async def play_on_clock(
    sim: ExchangeSimulator,
    events: Iterable[Event],
    clock: ScenarioClock,
    *,
    offset_ns: int = 0,
    lag_ns: Callable[[int], int] | None = None,
    max_lag_s: float = 2.0,
    keepalive: KeepAlive | None = None,
) -> int:
    """Publish ``events`` (shifted by ``offset_ns``) as ``clock`` reaches them; return how many.

    ``lag_ns(ts)`` (optional) says how far, in event time, the consumer is behind an event at
    ``ts``; while that exceeds ``max_lag_s`` of wall time at the clock's speed the clock is
    paused, so a slow consumer slows the scenario instead of overflowing queues.
    """
    n = 0
    max_lag_ns = int(max_lag_s * max(clock.speed, 1.0) * NS_PER_SECOND)
    for ev in events:
        if offset_ns:
            ev = msgspec.structs.replace(ev, ts_event=ev.ts_event + offset_ns)
        waited = False
        while (wait_ns := ev.ts_event - clock.now_ns()) > 0:  # again if woken a little early
            await clock.sleep(wait_ns / NS_PER_SECOND)
            waited = True
        if not waited and n % 256 == 0:
            await asyncio.sleep(0)
        if lag_ns is not None and n % 64 == 0 and lag_ns(ev.ts_event) > max_lag_ns:
            clock.pause()
            while lag_ns(ev.ts_event) > max_lag_ns:  # noqa: ASYNC110 - polling a plain number
                await asyncio.sleep(0.01)
            clock.resume()
        if keepalive is not None and keepalive.due(ev.ts_event):
            keepalive.serve(ev.ts_event)  # in event-time order, even after a wall hiccup
        sim.publish(ev)
        if keepalive is not None:
            keepalive.note(ev)
        n += 1
    return n
