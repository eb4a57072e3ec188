"""``november-2025``: the grind from the October peak to the 21 Nov 2025 liquidation cascade.

Reference: episodes-and-alerting.md §1.3 (and §1.1, §1.9). Every simulated venue carries its share
of the market (see :mod:`monitor.simulator.scenarios.market`), so the sums match CoinGlass's
aggregates.

History (backfilled, hourly, 20 Aug → 20 Nov 18:00; loaded by the daemon on start-up):
  BTC $113.5k (20 Aug) → ATH $126,080 (6 Oct) → $104.5k (10 Oct crash) → $115k (27 Oct)
  → $101k (4 Nov) → $89.4k (18 Nov) → $87.2k; ETH ATH $4,955 (24 Aug) → $2,900.
  BTC perp OI (market) $82B → peak $94B (6 Oct) → $63.5B on 20 Nov (−32%); ETH $60B → $34B.

Stream (20 Nov 18:00 → 21 Nov 15:00 UTC, dense 05:30 → 11:30):
  20 Nov 18:00-05:30  calm-ish: liquidations ~$20M/h (62% longs), funding +0.003%/8h, BTC drifts
                      $87.2k → $85.6k
  21 Nov 05:30-08:00  first wave: BTC → $84.6k and back, liquidations up to ~$220M/h, 90% longs
  21 Nov 08:47-08:56  the leg: BTC $85,600 → $81,750 (−4.5% in 9 minutes)
  21 Nov 08:45-09:45  the peak hour: ~$1B of longs liquidated; OI −4% in the hour
  21 Nov 09:45-10:40  aftershocks, BTC grinds to the low, $80,550 at 10:40 (−36% from the ATH);
                      ETH $2,622 (−47% from its ATH); funding −0.006%/8h (leaning bearish)
  21 Nov 10:40-15:00  relief bounce to $84.6k, a small short squeeze, liquidations decay

Totals: ~$1.95B liquidated in the 24 h to 11:00 (~93% longs), ~$1.7B of it in four hours; BTC OI
−37% from the peak at the low. Stablecoins stay on peg: USDT +2 bps, USDC −0.5 bp, USDe −8 bps
(supply shrinking, no depeg).
"""

from __future__ import annotations

from monitor.simulator.scenarios.episode_file import load_episode
from monitor.simulator.scenarios.market import MarketSpec
from monitor.simulator.scenarios.paths import ts

__all__ = ["morning_spec", "spec"]


def spec(start: str | None = None, end: str | None = None) -> MarketSpec:
    """The episode (its numbers: ``episodes/november_2025.toml``); ``start``/``end`` (UTC text)
    bound the streamed part instead of the file's 20 Nov 21:00 → 21 Nov 14:00 (the rest is
    backfill)."""
    window = {"start": start, "end": end}
    return load_episode("november_2025", **{k: ts(v) for k, v in window.items() if v is not None})


def morning_spec() -> MarketSpec:
    """``november-2025-morning``: two hours of the 21 Nov cascade streamed (a short demo/test)."""
    s = spec("2025-11-21 07:40", "2025-11-21 09:40")
    s.name = "november-2025-morning"
    s.description = (
        "Two hours of 21 Nov 2025 from the november-2025 scenario (07:40-09:40 UTC streamed, "
        "everything before backfilled): the nine-minute −4.5% leg and the $1B hour of long "
        "liquidations. Too short for the liquidation burst baseline: the composite "
        "deleveraging alert needs the full scenario."
    )
    s.worst = ts("2025-11-21 08:56")
    return s
