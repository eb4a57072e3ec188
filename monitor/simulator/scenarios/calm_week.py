"""``calm-week``: an ordinary week (8-15 Sep 2025), for false-positive rates.

Reference: episodes-and-alerting.md §1.9 (calm baseline).

History (backfilled, hourly, 8 Jun → 8 Sep): BTC $105k → ATH $124.1k (14 Aug) → $111k; ETH ATH
$4,955 (24 Aug). So BTC starts ~10% and ETH ~13% under their 90-day highs: the price-drawdown
"watch" (info) level is expected, nothing above it.

Stream (8 Sep 00:00 → 15 Sep 00:00 UTC, 7 days):
  - BTC drifts $111k → $116k, ETH $4.3k → $4.65k, with ordinary noise (10-minute moves well under
    1%); open interest within a few % of its 60-day peak;
  - liquidations $12-25M/h with a daily rhythm (~$400-500M/day, the 2025 calm average), and three
    small spikes: 9 Sep 14:30 (~$70M/h), 11 Sep 20:00 (~$60M/h) and a short squeeze on 12 Sep
    13:30 (~$85M/h, 70% shorts);
  - funding ~0.01%/8h (ETH 0.009%);
  - USDT within ±15 bps on Kraken, Coinbase and Bitstamp; USDC, DAI, FDUSD, USDe on peg;
  - one venue briefly glitching: OKX sends nothing for 100 s on 10 Sep 13:20 (the feed-staleness
    "watch" level, info only).
"""

from __future__ import annotations

from monitor.simulator.scenarios.episode_file import load_episode
from monitor.simulator.scenarios.market import MarketSpec
from monitor.simulator.scenarios.paths import amount, ts
from streams.units import NS_PER_HOUR

__all__ = ["spec"]


def _daily(start: str, days: int, base: float, peak: float) -> list[tuple[int, float]]:
    """A daily rhythm: quiet in Asian hours, busier at the US open (14:00-16:00 UTC)."""
    out: list[tuple[int, float]] = []
    day0 = ts(start)
    for d in range(days + 1):
        for hour, v in ((2, base * 0.8), (9, base), (14, peak), (17, base * 1.1), (22, base)):
            out.append((day0 + (d * 24 + hour) * NS_PER_HOUR, v))
    return out


def spec() -> MarketSpec:
    """The week (its numbers: ``episodes/calm_week.toml``; its liquidations' rhythm here)."""
    liq_anchors = _daily("2025-09-08 00:00", 7, 15e6, 24e6)
    spikes = [
        ("2025-09-09 14:10", 24e6),
        ("2025-09-09 14:30", 70e6),
        ("2025-09-09 15:00", 24e6),
        ("2025-09-11 19:40", 18e6),
        ("2025-09-11 20:00", 60e6),
        ("2025-09-11 20:30", 18e6),
        ("2025-09-12 13:20", 20e6),
        ("2025-09-12 13:40", 85e6),
        ("2025-09-12 14:10", 22e6),
    ]
    spike_ts = [(ts(a), v) for a, v in spikes]
    merged = dict(liq_anchors) | dict(spike_ts)
    # drop rhythm anchors that fall inside a spike so the spikes keep their shape
    windows = [(spike_ts[i][0], spike_ts[i + 2][0]) for i in range(0, len(spike_ts), 3)]
    liq = amount(
        [
            (t, v)
            for t, v in sorted(merged.items())
            if (t, v) in spike_ts or not any(a < t < b for a, b in windows)
        ]
    )
    return load_episode("calm_week", liq_usd_h=liq)
