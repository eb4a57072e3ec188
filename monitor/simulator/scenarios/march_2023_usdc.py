"""``march-2023-usdc``: USDC loses its peg after Silicon Valley Bank fails (10-13 Mar 2023).

Reference: episodes-and-alerting.md §1.5 (and §1.10, §4.3).

History (backfilled, hourly, 10 Dec 2022 → 10 Mar 23:00): BTC $17.1k → $24.9k (16 Feb, the 90-day
high) → $19.7k on 10 Mar; BTC perp OI (market, 2023 scale) ~$10-11B.

Stream (10 Mar 23:00 → 13 Mar 03:00 UTC, 52 h):
  10 Mar 23:00  Circle's $3.3B at SVB is known; USDC slips below $0.99 after midnight
  11 Mar 07:00  the low: USDC $0.873 (CCData aggregate) on Kraken and Binance, $0.81 on Bitstamp;
                DAI follows to $0.885; USDT trades at a premium (+60 bps, flight to USDT)
  11-12 Mar     USDC recovers slowly to ~$0.96-0.97 (below $0.99 for ~2 days); liquidations stay
                modest (~$10-25M/h; $791M over four days per CoinGlass)
  12 Mar 22:15  the Fed/FDIC backstop: USDC back to $0.99 by 13 Mar 02:00; BTC +9% and a short
                squeeze (~$60M/h of short liquidations)

Derivatives: Binance, Bybit and OKX only (Hyperliquid, Deribit and BitMEX perps were a small part
of the 2023 market). Stablecoins on Kraken, Coinbase, Bitstamp (USD pairs) and Binance (USDC/USDT,
converted at the USDT/USD median).
"""

from __future__ import annotations

from monitor.simulator.scenarios.episode_file import load_episode
from monitor.simulator.scenarios.listings import DEFAULT_PERPS, DEFAULT_SPOTS
from monitor.simulator.scenarios.market import MarketSpec

__all__ = ["spec"]


def spec() -> MarketSpec:
    """The episode (its numbers: ``episodes/march_2023_usdc.toml``), on the venues of 2023."""
    return load_episode(
        "march_2023_usdc",
        perps=tuple(
            p for p in DEFAULT_PERPS if p.venue in ("binance-usdm", "bybit-linear", "okx-swap")
        ),
        spots=tuple(s for s in DEFAULT_SPOTS if s.coin in ("USDT", "USDC", "DAI")),
    )
