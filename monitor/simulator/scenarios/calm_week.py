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

from monitor.simulator.scenarios.market import MarketSpec
from monitor.simulator.scenarios.paths import Path, amount, amounts, flat_paths, ts
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
    """The week."""
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
    return MarketSpec(
        name="calm-week",
        description=(
            "An ordinary week, 8-15 Sep 2025: tens of $M of liquidations per hour with a few "
            "small spikes, funding ~0.01%/8h, USDT within ±15 bps, one venue glitching for "
            "100 s. Nothing should page."
        ),
        start=ts("2025-09-08 00:00"),
        end=ts("2025-09-15 00:00"),
        backfill_start=ts("2025-06-08 00:00"),
        worst=None,
        price=amounts(
            BTC=[
                ("2025-06-08 00:00", 105_500),
                ("2025-06-22 00:00", 101_000),
                ("2025-07-14 12:00", 122_800),
                ("2025-08-14 12:00", 124_100),
                ("2025-08-25 00:00", 110_500),
                ("2025-09-01 00:00", 108_300),
                ("2025-09-08 00:00", 111_200),
                ("2025-09-09 00:00", 112_500),
                ("2025-09-10 00:00", 113_800),
                ("2025-09-11 00:00", 114_300),
                ("2025-09-12 00:00", 115_200),
                ("2025-09-12 13:30", 115_500),
                ("2025-09-12 14:00", 116_400),
                ("2025-09-13 00:00", 115_700),
                ("2025-09-14 00:00", 115_300),
                ("2025-09-15 00:00", 115_400),
            ],
            ETH=[
                ("2025-06-08 00:00", 2_520),
                ("2025-07-14 12:00", 3_050),
                ("2025-08-24 12:00", 4_955),
                ("2025-09-01 00:00", 4_350),
                ("2025-09-08 00:00", 4_300),
                ("2025-09-10 00:00", 4_350),
                ("2025-09-12 00:00", 4_500),
                ("2025-09-12 14:00", 4_620),
                ("2025-09-14 00:00", 4_650),
                ("2025-09-15 00:00", 4_600),
            ],
        ),
        oi=amounts(
            BTC=[
                ("2025-06-08 00:00", 72e9),
                ("2025-07-14 12:00", 84e9),
                ("2025-08-14 12:00", 86e9),
                ("2025-09-01 00:00", 81e9),
                ("2025-09-08 00:00", 83e9),
                ("2025-09-12 00:00", 84.5e9),
                ("2025-09-15 00:00", 84e9),
            ],
            ETH=[
                ("2025-06-08 00:00", 36e9),
                ("2025-08-24 12:00", 62e9),
                ("2025-09-08 00:00", 58e9),
                ("2025-09-15 00:00", 59.5e9),
            ],
        ),
        funding=flat_paths(BTC=0.0001, ETH=0.00009),
        liq_usd_h=liq,
        long_share=Path(
            [
                ("2025-09-08 00:00", 0.55),
                ("2025-09-12 13:20", 0.52),
                ("2025-09-12 13:40", 0.3),
                ("2025-09-12 14:10", 0.5),
                ("2025-09-15 00:00", 0.55),
            ]
        ),
        liq_split={"BTC": 0.55, "ETH": 0.45},
        pegs=flat_paths(USDT=1.0002, USDC=0.99998, DAI=0.9999, FDUSD=0.9990, USDE=0.9995),
        peg_noise_bps={"USDT": 5.0, "USDC": 1.5, "DAI": 3.0, "FDUSD": 4.0, "USDE": 4.0},
        price_noise={"BTC": 0.004, "ETH": 0.005},
        calm_periods=(6, 6, 6),
        silent=[("okx-swap", ts("2025-09-10 13:20"), ts("2025-09-10 13:21:40"))],
        notes=[
            "Market totals split by venue share as in every episode scenario.",
            "The OKX glitch is 100 s of silence in event time (in the demo the simulator stays "
            "connected): long enough for the feed-staleness watch level, short of a warning.",
        ],
    )
