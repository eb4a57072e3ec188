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

from monitor.simulator.scenarios.market import MarketSpec
from monitor.simulator.scenarios.paths import Path, amount, amounts, flat_paths, ts

__all__ = ["spec"]


def spec() -> MarketSpec:
    """The episode."""
    return MarketSpec(
        name="august-2024",
        description=(
            "5 Aug 2024, the yen carry-trade unwind: BTC −15% in under five hours to $49.5k, "
            "~$1.1B liquidated in a day (~85% longs, ~$380M in the worst hour), OI −15% in the "
            "day, funding briefly negative, pegs holding. A sharp flush, not a November-style "
            "deleveraging."
        ),
        start=ts("2024-08-04 14:00"),
        end=ts("2024-08-05 14:00"),
        backfill_start=ts("2024-05-01 00:00"),
        worst=ts("2024-08-05 06:20"),
        price=amounts(
            BTC=[
                ("2024-05-01 00:00", 57_000),
                ("2024-05-20 00:00", 71_000),
                ("2024-06-07 12:00", 71_500),
                ("2024-06-24 00:00", 60_500),
                ("2024-07-05 00:00", 54_000),
                ("2024-07-15 00:00", 64_000),
                ("2024-07-29 12:00", 69_900),
                ("2024-08-01 00:00", 64_500),
                ("2024-08-03 00:00", 60_500),
                ("2024-08-04 14:00", 60_200),
                ("2024-08-04 22:00", 58_600),
                ("2024-08-05 01:30", 58_350),
                ("2024-08-05 02:00", 58_000),
                ("2024-08-05 03:00", 54_800),
                ("2024-08-05 04:00", 53_200),
                ("2024-08-05 05:20", 51_500),
                ("2024-08-05 06:20", 49_513),
                ("2024-08-05 07:30", 51_800),
                ("2024-08-05 10:00", 54_000),
                ("2024-08-05 14:00", 54_500),
            ],
            ETH=[
                ("2024-05-01 00:00", 2_950),
                ("2024-05-27 12:00", 3_950),
                ("2024-06-10 00:00", 3_650),
                ("2024-07-05 00:00", 2_950),
                ("2024-07-22 00:00", 3_500),
                ("2024-08-01 00:00", 3_200),
                ("2024-08-04 14:00", 2_850),
                ("2024-08-04 22:00", 2_720),
                ("2024-08-05 01:30", 2_695),
                ("2024-08-05 03:00", 2_450),
                ("2024-08-05 06:20", 2_118),
                ("2024-08-05 10:00", 2_450),
                ("2024-08-05 14:00", 2_500),
            ],
        ),
        oi=amounts(
            BTC=[
                ("2024-05-01 00:00", 30e9),
                ("2024-06-07 12:00", 37e9),
                ("2024-07-05 00:00", 31e9),
                ("2024-07-29 12:00", 38e9),
                ("2024-08-02 00:00", 36e9),
                ("2024-08-04 14:00", 35e9),
                ("2024-08-05 01:30", 34.5e9),
                ("2024-08-05 04:00", 31.5e9),
                ("2024-08-05 06:20", 29.8e9),
                ("2024-08-05 14:00", 30.2e9),
            ],
            ETH=[
                ("2024-05-01 00:00", 14e9),
                ("2024-05-27 12:00", 17e9),
                ("2024-07-22 00:00", 16.5e9),
                ("2024-08-04 14:00", 15e9),
                ("2024-08-05 01:30", 14.8e9),
                ("2024-08-05 06:20", 13.0e9),
                ("2024-08-05 14:00", 13.2e9),
            ],
        ),
        funding=dict.fromkeys(
            ("BTC", "ETH"),
            Path(
                [
                    ("2024-08-04 14:00", 0.00005),
                    ("2024-08-05 02:00", 0.0),
                    ("2024-08-05 04:00", -0.00012),
                    ("2024-08-05 07:00", -0.00008),
                    ("2024-08-05 10:00", -0.00002),
                    ("2024-08-05 14:00", 0.00003),
                ]
            ),
        ),
        liq_usd_h=amount(
            [
                ("2024-08-04 14:00", 15e6),
                ("2024-08-04 21:00", 20e6),
                ("2024-08-05 01:30", 45e6),
                ("2024-08-05 02:10", 200e6),
                ("2024-08-05 02:40", 380e6),
                ("2024-08-05 03:30", 150e6),
                ("2024-08-05 04:30", 80e6),
                ("2024-08-05 05:30", 120e6),
                ("2024-08-05 06:20", 140e6),
                ("2024-08-05 07:00", 70e6),
                ("2024-08-05 08:00", 40e6),
                ("2024-08-05 14:00", 25e6),
            ]
        ),
        long_share=Path(
            [
                ("2024-08-04 14:00", 0.62),
                ("2024-08-05 01:30", 0.8),
                ("2024-08-05 02:10", 0.93),
                ("2024-08-05 06:20", 0.92),
                ("2024-08-05 07:00", 0.5),
                ("2024-08-05 10:00", 0.4),
                ("2024-08-05 14:00", 0.5),
            ]
        ),
        liq_split={"BTC": 0.5, "ETH": 0.5},
        pegs=flat_paths(USDT=1.0003, USDC=1.0001, DAI=0.9999, FDUSD=0.9992, USDE=0.9990),
        peg_noise_bps={"USDT": 3.0, "USDC": 1.5, "DAI": 3.0, "FDUSD": 4.0, "USDE": 4.0},
        dense=[(ts("2024-08-05 01:30"), ts("2024-08-05 03:30"))],
        notes=[
            "Derivatives amounts at the 2024 scale (BTC perp OI ~$35B), split by venue share; "
            "BTC and ETH carry the liquidations of every asset.",
            "Exact OI and ETF figures for 5 Aug 2024 are not in the reference (§6): OI paths "
            "follow 'futures OI −15%' for the day.",
        ],
    )
