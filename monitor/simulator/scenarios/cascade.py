"""``cascade``: a short long-liquidation cascade on Binance USD-M (the spine's demo scenario).

Modelled on the morning of 21 Nov 2025 (reference: episodes-and-alerting.md §1.3): BTC falls
from ~$85,000 to ~$81,800 in under ten minutes (-4.5% intraday low on the day), about $1B of
longs are liquidated within the hour, and open interest drops ~8%. Only Binance BTCUSDT and
ETHUSDT are simulated, so the whole cascade is carried by those two symbols, at most one
liquidation per symbol per second (Binance's forceOrder cap).

Timeline (event time, UTC, 21 Nov 2025):
  08:30-08:45  calm: BTC ~85,000, funding +0.005%/8h, a few small liquidations
  08:45-08:55  the leg down: 85,000 → 81,800 (-3.8%), long liquidations ramp to ~$1M/s
  08:55-09:15  grind and aftershocks: liquidations decay, OI -8% from the start
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from monitor.simulator.scenarios.base import Backfill, ScenarioInfo
from monitor.simulator.scenarios.listings import Listing
from streams.events import Event, Funding, Liquidation, OpenInterest, TakerSide, Trade
from streams.units import NS_PER_HOUR, NS_PER_SECOND

__all__ = ["CascadeScenario"]

VENUE = "binance-usdm"
_LEG_START_S, _LEG_END_S = 15 * 60.0, 25 * 60.0  # the leg down, seconds from the start
_BTC = Listing(VENUE, "BTCUSDT", "BTC-USDT-PERP", "BTC")
_ETH = Listing(VENUE, "ETHUSDT", "ETH-USDT-PERP", "ETH")


def _ts(h: int, m: int, s: float = 0.0) -> int:
    base = datetime(2025, 11, 21, h, m, tzinfo=UTC).timestamp()
    return int((base + s) * NS_PER_SECOND)


class CascadeScenario:
    """The spine's cascade, deterministic for a seed."""

    def __init__(self, seed: int = 7) -> None:
        self.seed = seed
        self.start_ns = _ts(8, 30)
        self.end_ns = _ts(9, 15)
        self.info = ScenarioInfo(
            name="cascade",
            description="A 45-minute long-liquidation cascade on Binance USD-M BTC and ETH, "
            "modelled on the morning of 21 Nov 2025: BTC -3.8% in ten minutes, ~$1B of longs "
            "liquidated within the hour, OI -8%.",
            start_ns=self.start_ns,
            end_ns=self.end_ns,
            symbols={VENUE: [_BTC.symbol, _ETH.symbol]},
            channels={VENUE: ["trades", "liquidations", "funding", "open_interest"]},
            worst_ns=_ts(8, 55),
            demo_speed=60.0,
        )

    def backfill(self) -> Backfill:
        """No history: the cascade only exercises the liquidation and fast-move rules."""
        return Backfill()

    @staticmethod
    def _btc_price(t_s: float) -> float:
        """BTC path: flat, then a 10-minute leg down, then a slow grind with a small bounce."""
        return _over_the_leg(
            t_s,
            before=85_000.0,
            during=lambda x: 85_000.0 - 3_200.0 * (0.5 - 0.5 * math.cos(math.pi * x)),
            after=lambda s: 81_800.0 + 400.0 * math.sin(s / 600.0),
        )

    @staticmethod
    def _liq_rate_usd_s(t_s: float) -> float:
        """Long liquidations, USD per second across both symbols."""
        return _over_the_leg(
            t_s,
            before=2_000.0,
            during=lambda x: 2_000.0 + 2_900_000.0 * math.sin(math.pi * x) ** 2,
            after=lambda s: 2_000.0 + 400_000.0 * math.exp(-s / 300.0),
        )

    def events(self) -> Iterator[Event]:
        """Yield the scenario's events in event-time order."""
        rng = random.Random(self.seed)
        oi_btc = 95_000.0  # BTC on Binance BTCUSDT (~$8.1B)
        oi_eth = 2_100_000.0
        duration = (self.end_ns - self.start_ns) // NS_PER_SECOND
        for sec in range(int(duration) + 1):
            yield from sorted(self._second(rng, sec, oi_btc, oi_eth), key=lambda e: e.ts_event)

    def _second(
        self,
        rng: random.Random,
        sec: int,
        oi_btc: float,
        oi_eth: float,
    ) -> Iterator[Event]:
        t = self.start_ns + sec * NS_PER_SECOND
        px = self._btc_price(sec) * (1 + rng.gauss(0, 0.00008))
        eth = px / 85_000.0 * 2_950.0
        rate = self._liq_rate_usd_s(sec)
        funding_ns = 8 * NS_PER_HOUR
        for listing, price in ((_BTC, px), (_ETH, eth)):
            side: TakerSide = "sell" if rng.random() < 0.55 else "buy"
            size = round(rng.uniform(0.01, 2.0) * 85_000.0 / price, 3)
            yield Trade(
                **listing.header(t + 100_000_000, 0),
                price=round(price, 2),
                size=size,
                notional_usd=size * price,
                side=side,
            )
            share = 0.7 if listing.asset == "BTC" else 0.3
            usd = rate * share * rng.uniform(0.6, 1.4)
            p_liq = 1.0 if rate > 50_000 else rate * share / 20_000.0
            if rng.random() < p_liq:
                long_side = rng.random() < (0.93 if rate > 50_000 else 0.6)
                lsize = round(max(usd, 5_000.0) / price, 3)
                yield Liquidation(
                    **listing.header(t + 500_000_000, 0),
                    price=round(price, 2),
                    size=lsize,
                    notional_usd=lsize * round(price, 2),
                    side="long" if long_side else "short",
                )
            fr = 0.00005 if sec < 900 else max(-0.00003, 0.00005 - (sec - 900) * 1e-7)
            yield Funding(
                **listing.header(t + 900_000_000, 0),
                rate=round(fr, 8),
                interval_h=8.0,
                rate_8h=round(fr, 8),
                mark_price=round(price, 2),
                next_funding_ts=(t // funding_ns + 1) * funding_ns,
            )
        if sec % 5 == 0:
            drop = 0.08 * min(1.0, max(0.0, (sec - 900) / 1800.0))
            for listing, base_oi, price in ((_BTC, oi_btc, px), (_ETH, oi_eth, eth)):
                size = round(base_oi * (1 - drop), 3)
                yield OpenInterest(
                    **listing.header(t + 950_000_000, 0), size=size, notional_usd=size * price
                )


def _over_the_leg(
    t_s: float, before: float, during: Callable[[float], float], after: Callable[[float], float]
) -> float:
    """``before`` until the leg down, ``during(x)`` in it (``x``: 0 → 1), then ``after(s)``
    (``s``: seconds since the leg ended); ``t_s`` is seconds from the scenario's start."""
    if t_s < _LEG_START_S:
        return before
    if t_s < _LEG_END_S:
        return during((t_s - _LEG_START_S) / (_LEG_END_S - _LEG_START_S))
    return after(t_s - _LEG_END_S)
