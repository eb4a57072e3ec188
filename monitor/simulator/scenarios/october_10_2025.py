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

from monitor.simulator.scenarios.listings import DEFAULT_SPOTS, Spot
from monitor.simulator.scenarios.market import MarketSpec
from monitor.simulator.scenarios.paths import Path, amount, amounts, flat_paths, ts
from monitor.venues.planning import spot

__all__ = ["spec"]


def spec() -> MarketSpec:
    """The episode."""
    return MarketSpec(
        name="october-10-2025",
        description=(
            "10/10: the tariff crash of 10 Oct 2025. BTC −14% in half an hour, ~$19B "
            "liquidated in a day (~87% longs, $3.2B in the worst minute), BTC OI −17% in a day, "
            "funding briefly negative, and USDe at $0.65 on Binance only while Kraken and the "
            "other stablecoins stay near $1."
        ),
        start=ts("2025-10-10 14:00"),
        end=ts("2025-10-11 04:00"),
        backfill_start=ts("2025-07-10 00:00"),
        worst=ts("2025-10-10 21:20"),
        price=amounts(
            BTC=[
                ("2025-07-10 00:00", 111_000),
                ("2025-07-14 12:00", 122_800),
                ("2025-08-01 00:00", 115_000),
                ("2025-08-14 12:00", 124_100),
                ("2025-09-01 00:00", 108_500),
                ("2025-09-18 00:00", 117_000),
                ("2025-09-25 00:00", 109_500),
                ("2025-10-01 00:00", 116_500),
                ("2025-10-06 12:00", 126_080),
                ("2025-10-08 00:00", 122_500),
                ("2025-10-10 14:00", 121_800),
                ("2025-10-10 20:50", 121_000),
                ("2025-10-10 21:05", 116_000),
                ("2025-10-10 21:15", 108_000),
                ("2025-10-10 21:20", 104_500),
                ("2025-10-10 21:40", 107_500),
                ("2025-10-10 22:30", 110_500),
                ("2025-10-11 00:00", 112_000),
                ("2025-10-11 02:00", 111_200),
                ("2025-10-11 04:00", 112_300),
            ],
            ETH=[
                ("2025-07-10 00:00", 2_780),
                ("2025-08-24 12:00", 4_955),
                ("2025-09-01 00:00", 4_400),
                ("2025-09-13 00:00", 4_700),
                ("2025-09-25 00:00", 3_900),
                ("2025-10-06 12:00", 4_700),
                ("2025-10-10 14:00", 4_370),
                ("2025-10-10 20:50", 4_330),
                ("2025-10-10 21:15", 3_700),
                ("2025-10-10 21:20", 3_435),
                ("2025-10-10 21:40", 3_600),
                ("2025-10-10 22:30", 3_750),
                ("2025-10-11 04:00", 3_800),
            ],
        ),
        oi=amounts(
            BTC=[
                ("2025-07-10 00:00", 60e9),
                ("2025-08-14 12:00", 68e9),
                ("2025-09-25 00:00", 62e9),
                ("2025-10-06 12:00", 70e9),
                ("2025-10-10 14:00", 70.5e9),
                ("2025-10-10 20:50", 70e9),
                ("2025-10-10 21:30", 61e9),
                ("2025-10-10 23:00", 58.5e9),
                ("2025-10-11 04:00", 58e9),
            ],
            ETH=[
                ("2025-07-10 00:00", 30e9),
                ("2025-08-24 12:00", 38e9),
                ("2025-10-06 12:00", 40e9),
                ("2025-10-10 20:50", 39e9),
                ("2025-10-10 21:30", 32e9),
                ("2025-10-10 23:00", 29.5e9),
                ("2025-10-11 04:00", 29.2e9),
            ],
        ),
        funding=dict.fromkeys(
            ("BTC", "ETH"),
            Path(
                [
                    ("2025-10-10 14:00", 0.0001),
                    ("2025-10-10 20:50", 0.0001),
                    ("2025-10-10 21:30", -0.0002),
                    ("2025-10-10 22:30", -0.00035),
                    ("2025-10-10 23:30", -0.00015),
                    ("2025-10-11 02:00", -0.00002),
                    ("2025-10-11 04:00", 0.00002),
                ]
            ),
        ),
        liq_usd_h=amount(
            [
                ("2025-10-10 14:00", 30e6),
                ("2025-10-10 20:50", 40e6),
                ("2025-10-10 20:56", 1.2e9),
                ("2025-10-10 21:05", 9e9),
                ("2025-10-10 21:13", 30e9),
                ("2025-10-10 21:15", 190e9),
                ("2025-10-10 21:16", 30e9),
                ("2025-10-10 21:25", 10e9),
                ("2025-10-10 21:45", 4.5e9),
                ("2025-10-10 22:30", 2.6e9),
                ("2025-10-10 23:30", 1.1e9),
                ("2025-10-11 01:00", 450e6),
                ("2025-10-11 04:00", 150e6),
            ]
        ),
        long_share=Path(
            [
                ("2025-10-10 14:00", 0.6),
                ("2025-10-10 20:50", 0.62),
                ("2025-10-10 20:56", 0.9),
                ("2025-10-10 21:25", 0.9),
                ("2025-10-10 22:30", 0.78),
                ("2025-10-11 04:00", 0.55),
            ]
        ),
        liq_split={"BTC": 0.45, "ETH": 0.55},
        pegs={
            "USDT": Path(
                [
                    ("2025-10-10 14:00", 1.0002),
                    ("2025-10-10 21:30", 1.0012),
                    ("2025-10-11 00:00", 1.0004),
                ]
            ),
            **flat_paths(USDC=0.99995, DAI=0.9998, FDUSD=0.9985),
        },
        peg_venue={
            ("USDE", "binance-spot"): Path(
                [
                    ("2025-10-10 14:00", 0.9994),
                    ("2025-10-10 21:34", 0.9990),
                    ("2025-10-10 21:37", 0.80),
                    ("2025-10-10 21:42", 0.65),
                    ("2025-10-10 22:00", 0.70),
                    ("2025-10-10 22:30", 0.85),
                    ("2025-10-10 23:00", 0.95),
                    ("2025-10-10 23:25", 0.99),
                    ("2025-10-10 23:40", 0.9985),
                ]
            ),
            ("USDE", "kraken"): Path(
                [
                    ("2025-10-10 14:00", 0.9995),
                    ("2025-10-10 21:35", 0.9993),
                    ("2025-10-10 21:42", 0.9960),
                    ("2025-10-10 22:30", 0.9985),
                    ("2025-10-10 23:30", 0.9994),
                ]
            ),
        },
        peg_noise_bps={"USDT": 4.0, "USDC": 1.5, "DAI": 3.0, "FDUSD": 4.0, "USDE": 3.0},
        dense=[(ts("2025-10-10 20:45"), ts("2025-10-10 22:00"))],
        extra_instruments={"kraken": [spot("kraken", "USDE/USD", "USDE", "USD")]},
        spots=(*DEFAULT_SPOTS, Spot("kraken", "USDE", "USDE/USD")),
        notes=[
            "Market totals split by venue share as in every episode scenario; BTC and ETH carry "
            "the liquidations of every asset (45/55: altcoins fell hardest).",
            "Hyperliquid's $9.3B of liquidations in 4 h is not visible: it publishes no "
            "liquidation feed. Liquidation feeds are lower bounds (CoinGlass: true total "
            "$30-40B).",
            "USDe is quoted on Binance (USDE/USDT) and Kraken (USDE/USD). Kraken's USDE/USD "
            "is not in its packaged instrument snapshot yet: the scenario installs it in the "
            "simulator and the parser registry.",
        ],
    )
