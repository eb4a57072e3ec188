"""``august-2024``: the yen carry-trade unwind of 5 Aug 2024 (fast, but not November).

Reference: episodes-and-alerting.md §1.4 (and §1.10).

History (backfilled, hourly, 1 May → 4 Aug 14:00): BTC $57k → $71.5k (7 Jun, the hourly 90-day
high; $71.9k intraday) → $54k (5 Jul) → $69.9k (29 Jul); ETH $3,950 (27 May) → $2,850. BTC perp OI
(market, 2024 scale) peaks at ~$38B on 29 Jul, ETH ~$16.5B on 22 Jul.

Stream (4 Aug 14:00 → 5 Aug 14:00 UTC, dense 01:30 → 03:30):
  4 Aug 14:00-5 Aug 01:30  a nervous Sunday: BTC $60.2k → $58.35k, liquidations ~$15-45M/h
  5 Aug 01:30-06:20        Asia opens into the Nikkei crash: BTC $58,350 → $49,513 (−15% in
                           4h50m; −5.5% in the worst hour), ETH $2,695 → $2,118 (−21%);
                           liquidations peak at ~$380M/h (02:40), ~85% longs; funding turns
                           negative (−0.012%/8h)
  5 Aug 06:20-14:00        rebound to $54.5k with some short liquidations

Totals: ~$1.2B liquidated in 24 h (CoinGlass $1.06-1.08B, 85% longs); BTC OI −15% in the day and
−22% from its 60-day peak, ETH −21%: well short of the November composite (OI −25% or worse).
The low is ~31% under the 7 Jun hourly high, so the −30% price-drawdown level is reached.
Stablecoins hold (+1 to +3 bps).
"""

from __future__ import annotations

from monitor.simulator.scenarios.episode_file import load_episode
from monitor.simulator.scenarios.market import MarketSpec

__all__ = ["spec"]


def spec() -> MarketSpec:
    """The episode (its numbers: ``episodes/august_2024.toml``)."""
    return load_episode("august_2024")
