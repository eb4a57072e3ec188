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

from monitor.simulator.scenarios.listings import DEFAULT_PERPS, DEFAULT_SPOTS
from monitor.simulator.scenarios.market import MarketSpec
from monitor.simulator.scenarios.paths import Path, amount, amounts, ts

__all__ = ["spec"]


def spec() -> MarketSpec:
    """The episode."""
    return MarketSpec(
        name="march-2023-usdc",
        description=(
            "SVB and USDC, 10-13 Mar 2023: USDC falls to ~$0.87 across venues ($0.81 on "
            "Bitstamp) and stays below $0.99 for about two days, DAI follows to ~$0.885, USDT "
            "trades at a premium; the backstop of 12 Mar restores the peg and squeezes shorts."
        ),
        start=ts("2023-03-10 23:00"),
        end=ts("2023-03-13 03:00"),
        backfill_start=ts("2022-12-10 00:00"),
        worst=ts("2023-03-11 07:00"),
        price=amounts(
            BTC=[
                ("2022-12-10 00:00", 17_100),
                ("2023-01-01 00:00", 16_550),
                ("2023-01-20 00:00", 21_000),
                ("2023-02-16 12:00", 24_900),
                ("2023-03-01 00:00", 23_600),
                ("2023-03-09 00:00", 21_700),
                ("2023-03-10 14:00", 19_700),
                ("2023-03-10 23:00", 20_150),
                ("2023-03-11 07:00", 20_000),
                ("2023-03-11 20:00", 20_600),
                ("2023-03-12 06:00", 20_400),
                ("2023-03-12 22:00", 21_600),
                ("2023-03-13 01:00", 22_300),
                ("2023-03-13 03:00", 22_150),
            ],
            ETH=[
                ("2022-12-10 00:00", 1_265),
                ("2023-02-16 12:00", 1_720),
                ("2023-03-10 14:00", 1_385),
                ("2023-03-11 07:00", 1_440),
                ("2023-03-12 22:00", 1_540),
                ("2023-03-13 03:00", 1_600),
            ],
        ),
        oi=amounts(
            BTC=[
                ("2022-12-10 00:00", 9.0e9),
                ("2023-02-16 12:00", 11.0e9),
                ("2023-03-09 00:00", 10.2e9),
                ("2023-03-10 23:00", 9.6e9),
                ("2023-03-11 07:00", 9.4e9),
                ("2023-03-13 03:00", 9.9e9),
            ],
            ETH=[
                ("2022-12-10 00:00", 4.5e9),
                ("2023-02-16 12:00", 5.6e9),
                ("2023-03-10 23:00", 5.0e9),
                ("2023-03-13 03:00", 5.2e9),
            ],
        ),
        funding=dict.fromkeys(
            ("BTC", "ETH"),
            Path(
                [
                    ("2023-03-10 23:00", 0.00003),
                    ("2023-03-11 04:00", -0.00002),
                    ("2023-03-11 07:00", -0.00006),
                    ("2023-03-11 16:00", -0.00001),
                    ("2023-03-11 20:00", 0.00002),
                    ("2023-03-13 01:00", 0.00004),
                ]
            ),
        ),
        liq_usd_h=amount(
            [
                ("2023-03-10 23:00", 7e6),
                ("2023-03-11 04:00", 8e6),
                ("2023-03-11 07:00", 18e6),
                ("2023-03-11 10:00", 6e6),
                ("2023-03-12 21:30", 5e6),
                ("2023-03-12 22:30", 50e6),
                ("2023-03-13 00:30", 35e6),
                ("2023-03-13 03:00", 10e6),
            ]
        ),
        long_share=Path(
            [
                ("2023-03-10 23:00", 0.6),
                ("2023-03-11 07:00", 0.7),
                ("2023-03-12 21:30", 0.5),
                ("2023-03-12 22:30", 0.2),
                ("2023-03-13 03:00", 0.35),
            ]
        ),
        liq_split={"BTC": 0.55, "ETH": 0.45},
        pegs={
            "USDT": Path(
                [
                    ("2023-03-10 23:00", 1.0005),
                    ("2023-03-11 07:00", 1.006),
                    ("2023-03-12 06:00", 1.003),
                    ("2023-03-13 03:00", 1.0008),
                ]
            ),
            "USDC": Path(
                [
                    ("2023-03-10 23:00", 0.998),
                    ("2023-03-11 01:00", 0.99),
                    ("2023-03-11 03:00", 0.96),
                    ("2023-03-11 05:00", 0.93),
                    ("2023-03-11 07:00", 0.8726),
                    ("2023-03-11 09:00", 0.90),
                    ("2023-03-11 14:00", 0.915),
                    ("2023-03-11 20:00", 0.94),
                    ("2023-03-12 06:00", 0.955),
                    ("2023-03-12 18:00", 0.965),
                    ("2023-03-12 22:15", 0.97),
                    ("2023-03-12 23:30", 0.985),
                    ("2023-03-13 02:00", 0.99),
                    ("2023-03-13 03:00", 0.992),
                ]
            ),
            "DAI": Path(
                [
                    ("2023-03-10 23:00", 0.999),
                    ("2023-03-11 01:00", 0.993),
                    ("2023-03-11 03:00", 0.965),
                    ("2023-03-11 05:00", 0.935),
                    ("2023-03-11 07:30", 0.885),
                    ("2023-03-11 09:00", 0.905),
                    ("2023-03-11 20:00", 0.945),
                    ("2023-03-12 18:00", 0.968),
                    ("2023-03-12 23:30", 0.987),
                    ("2023-03-13 03:00", 0.994),
                ]
            ),
        },
        peg_venue={
            ("USDC", "bitstamp"): Path(
                [
                    ("2023-03-10 23:00", 0.998),
                    ("2023-03-11 01:00", 0.988),
                    ("2023-03-11 03:00", 0.95),
                    ("2023-03-11 05:00", 0.91),
                    ("2023-03-11 07:00", 0.8102),
                    ("2023-03-11 09:00", 0.89),
                    ("2023-03-11 14:00", 0.91),
                    ("2023-03-11 20:00", 0.935),
                    ("2023-03-12 06:00", 0.95),
                    ("2023-03-12 18:00", 0.962),
                    ("2023-03-12 22:15", 0.968),
                    ("2023-03-12 23:30", 0.983),
                    ("2023-03-13 02:00", 0.989),
                    ("2023-03-13 03:00", 0.991),
                ]
            )
        },
        peg_noise_bps={"USDT": 4.0, "USDC": 25.0, "DAI": 20.0},
        perps=tuple(
            p for p in DEFAULT_PERPS if p.venue in ("binance-usdm", "bybit-linear", "okx-swap")
        ),
        spots=tuple(s for s in DEFAULT_SPOTS if s.coin in ("USDT", "USDC", "DAI")),
        liq_size_usd=10_000.0,
        notes=[
            "Derivatives amounts at the 2023 scale (BTC perp OI ~$10B), split over Binance, "
            "Bybit and OKX by venue share.",
            "FDUSD and USDe did not trade in March 2023: only USDT, USDC and DAI books are "
            "simulated.",
        ],
    )
