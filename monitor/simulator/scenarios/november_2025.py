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

from monitor.simulator.scenarios.market import MarketSpec
from monitor.simulator.scenarios.paths import Path, amount, amounts, flat_paths, ts

__all__ = ["morning_spec", "spec"]


def spec(start: str = "2025-11-20 21:00", end: str = "2025-11-21 14:00") -> MarketSpec:
    """The episode; ``start``/``end`` bound the streamed part (the rest is backfill)."""
    return MarketSpec(
        name="november-2025",
        description=(
            "The November 2025 deleveraging: BTC grinds from the $126k October peak to $80.5k on "
            "21 Nov while perp open interest falls ~35% from $94B; on 21 Nov ~$1.9B is "
            "liquidated in a day (~93% longs, ~$1B of longs in one hour, BTC −4.5% in nine "
            "minutes). Funding drifts below neutral; stablecoins hold their pegs."
        ),
        start=ts(start),
        end=ts(end),
        backfill_start=ts("2025-08-20 00:00"),
        worst=ts("2025-11-21 10:40"),
        price=amounts(
            BTC=[
                ("2025-08-20 00:00", 113_500),
                ("2025-09-01 00:00", 108_500),
                ("2025-09-18 00:00", 117_000),
                ("2025-09-25 00:00", 109_500),
                ("2025-10-01 00:00", 116_500),
                ("2025-10-06 12:00", 126_080),
                ("2025-10-08 00:00", 122_500),
                ("2025-10-10 20:00", 121_500),
                ("2025-10-10 21:20", 104_500),
                ("2025-10-11 06:00", 112_000),
                ("2025-10-13 00:00", 115_200),
                ("2025-10-17 00:00", 106_500),
                ("2025-10-27 00:00", 115_500),
                ("2025-11-04 00:00", 101_000),
                ("2025-11-07 00:00", 103_500),
                ("2025-11-11 00:00", 105_500),
                ("2025-11-14 00:00", 95_500),
                ("2025-11-17 00:00", 92_500),
                ("2025-11-18 12:00", 89_400),
                ("2025-11-19 12:00", 91_500),
                ("2025-11-20 12:00", 88_500),
                ("2025-11-20 18:00", 87_200),
                ("2025-11-21 00:00", 86_300),
                ("2025-11-21 05:45", 85_600),
                ("2025-11-21 05:58", 84_250),
                ("2025-11-21 07:00", 84_900),
                ("2025-11-21 08:00", 85_300),
                ("2025-11-21 08:47", 85_600),
                ("2025-11-21 08:56", 81_750),
                ("2025-11-21 09:10", 82_600),
                ("2025-11-21 09:45", 81_400),
                ("2025-11-21 10:40", 80_550),
                ("2025-11-21 11:30", 82_800),
                ("2025-11-21 13:00", 84_200),
                ("2025-11-21 15:00", 84_600),
            ],
            ETH=[
                ("2025-08-20 00:00", 4_250),
                ("2025-08-24 12:00", 4_955),
                ("2025-09-01 00:00", 4_400),
                ("2025-09-13 00:00", 4_700),
                ("2025-09-25 00:00", 3_900),
                ("2025-10-06 12:00", 4_700),
                ("2025-10-10 20:00", 4_370),
                ("2025-10-10 21:20", 3_450),
                ("2025-10-11 06:00", 3_800),
                ("2025-10-27 00:00", 4_150),
                ("2025-11-04 00:00", 3_300),
                ("2025-11-11 00:00", 3_550),
                ("2025-11-14 00:00", 3_200),
                ("2025-11-17 00:00", 3_050),
                ("2025-11-20 12:00", 2_950),
                ("2025-11-20 18:00", 2_900),
                ("2025-11-21 05:45", 2_840),
                ("2025-11-21 05:58", 2_790),
                ("2025-11-21 08:47", 2_810),
                ("2025-11-21 08:56", 2_680),
                ("2025-11-21 09:45", 2_660),
                ("2025-11-21 10:40", 2_622),
                ("2025-11-21 13:00", 2_730),
                ("2025-11-21 15:00", 2_760),
            ],
        ),
        oi=amounts(
            BTC=[
                ("2025-08-20 00:00", 82e9),
                ("2025-09-20 00:00", 86e9),
                ("2025-10-06 12:00", 94e9),
                ("2025-10-10 20:00", 92e9),
                ("2025-10-11 03:00", 77e9),
                ("2025-10-20 00:00", 80e9),
                ("2025-11-03 00:00", 73e9),
                ("2025-11-14 00:00", 67e9),
                ("2025-11-18 00:00", 64e9),
                ("2025-11-20 18:00", 63.5e9),
                ("2025-11-21 05:45", 63e9),
                ("2025-11-21 06:10", 62e9),
                ("2025-11-21 08:45", 62e9),
                ("2025-11-21 09:45", 59.5e9),
                ("2025-11-21 10:40", 59e9),
                ("2025-11-21 15:00", 59.5e9),
            ],
            ETH=[
                ("2025-08-20 00:00", 58e9),
                ("2025-08-24 12:00", 62e9),
                ("2025-10-06 12:00", 60e9),
                ("2025-10-10 20:00", 58e9),
                ("2025-10-11 03:00", 45e9),
                ("2025-11-03 00:00", 40e9),
                ("2025-11-20 18:00", 34e9),
                ("2025-11-21 08:45", 33.5e9),
                ("2025-11-21 10:40", 32e9),
                ("2025-11-21 15:00", 32.3e9),
            ],
        ),
        funding=dict.fromkeys(
            ("BTC", "ETH"),
            Path(
                [
                    ("2025-11-20 18:00", 0.00003),
                    ("2025-11-21 05:30", 0.00002),
                    ("2025-11-21 08:50", -0.00004),
                    ("2025-11-21 10:40", -0.00006),
                    ("2025-11-21 15:00", -0.00002),
                ]
            ),
        ),
        liq_usd_h=amount(
            [
                ("2025-11-20 21:00", 20e6),
                ("2025-11-21 05:45", 20e6),
                ("2025-11-21 05:48", 650e6),
                ("2025-11-21 05:56", 500e6),
                ("2025-11-21 06:20", 90e6),
                ("2025-11-21 07:30", 60e6),
                ("2025-11-21 08:40", 80e6),
                ("2025-11-21 08:48", 700e6),
                ("2025-11-21 08:56", 1.9e9),
                ("2025-11-21 09:15", 1.3e9),
                ("2025-11-21 09:45", 450e6),
                ("2025-11-21 10:15", 300e6),
                ("2025-11-21 10:40", 250e6),
                ("2025-11-21 11:00", 90e6),
                ("2025-11-21 12:00", 50e6),
                ("2025-11-21 14:00", 35e6),
            ]
        ),
        long_share=Path(
            [
                ("2025-11-20 21:00", 0.7),
                ("2025-11-21 05:45", 0.72),
                ("2025-11-21 05:48", 0.94),
                ("2025-11-21 08:45", 0.95),
                ("2025-11-21 10:40", 0.93),
                ("2025-11-21 11:00", 0.55),
                ("2025-11-21 12:00", 0.45),
                ("2025-11-21 14:00", 0.5),
            ]
        ),
        liq_split={"BTC": 0.6, "ETH": 0.4},
        pegs=flat_paths(USDT=1.0002, USDC=0.99995, DAI=0.9999, FDUSD=0.9988, USDE=0.9992),
        peg_noise_bps={"USDT": 4.0, "USDC": 1.5, "DAI": 3.0, "FDUSD": 4.0, "USDE": 4.0},
        dense=[
            (ts("2025-11-21 05:40"), ts("2025-11-21 06:05")),
            (ts("2025-11-21 08:40"), ts("2025-11-21 09:10")),
        ],
        notes=[
            "The six derivatives venues stand for the whole market: market OI and liquidation "
            "totals (CoinGlass) are split by venue share (Binance 27-34%, Bybit 19-26%, OKX "
            "11-17%, Hyperliquid 18-22% of OI and no liquidation feed, Deribit ~10%, BitMEX "
            "~11-14%).",
            "BTC and ETH carry the liquidations of every asset (60/40).",
            "Price and open-interest history before 20 Nov 18:00 is backfilled hourly, as a "
            "daemon loads klines and OI history on start-up.",
        ],
    )


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
