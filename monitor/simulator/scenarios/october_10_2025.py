"""``october-10-2025``: the 10/10 tariff crash and USDe at $0.65 on Binance only.

Reference: episodes-and-alerting.md §1.2 (and §1.1, §4.3). Every simulated venue carries its share
of the market (see :mod:`monitor.simulator.scenarios.market`).

History (backfilled, hourly, 10 Jul → 10 Oct 14:00): BTC $111k → ATH $126,080 (6 Oct); ETH ATH
$4,955 (24 Aug); BTC perp OI (market) peaks at ~$70.5B on 10 Oct, ETH ~$40B.

Stream (10 Oct 14:00 → 11 Oct 04:00 UTC, dense 20:45 → 22:00):
  14:00-20:50  an ordinary Friday: liquidations ~$35M/h, funding +0.01%/8h, BTC ~$121.5k
  20:50-21:20  the tariff post and the crash: BTC $121k → $104.5k (−14% in half an hour, the
               worst point at 21:20), ETH $4,330 → $3,435 (−21%); liquidations peak at $3.2B in
               the minute of 21:15; BTC OI $70B → $61B within the hour
  21:36-23:30  USDe on Binance falls to $0.65 (21:42) and recovers over ~2 hours; on Kraken it
               barely moves (−0.4% at worst); USDT, USDC and DAI stay within a few bps
  21:30-04:00  funding turns negative (−0.035%/8h around 22:30, briefly), liquidations decay,
               BTC rebounds to ~$112k; OI settles at $58B (−17% in a day)

Totals: ~$19B liquidated by 04:00, ~87% longs (CoinGlass $19.1B, 85-90% longs).
"""

from __future__ import annotations

from monitor.simulator.scenarios.episode_file import load_episode
from monitor.simulator.scenarios.listings import DEFAULT_SPOTS, Spot
from monitor.simulator.scenarios.market import MarketSpec
from monitor.venues.planning import spot

__all__ = ["spec"]


def spec() -> MarketSpec:
    """The episode (its numbers: ``episodes/october_10_2025.toml``), with Kraken's USDE/USD book."""
    return load_episode(
        "october_10_2025",
        extra_instruments={"kraken": [spot("kraken", "USDE/USD", "USDE", "USD")]},
        spots=(*DEFAULT_SPOTS, Spot("kraken", "USDE", "USDE/USD")),
    )
