"""Synthetic signal streams shaped like the reference episodes (per-minute samples)."""

from __future__ import annotations

from collections.abc import Iterator

from streams.signals import Signal

S = 1_000_000_000
MIN = 60 * S
T0 = 1_763_700_000 * S  # 2025-11-21 04:40 UTC


def _lerp(a: float, b: float, x: float) -> float:
    return a + (b - a) * min(1.0, max(0.0, x))


def november_cascade(minutes: int = 360) -> Iterator[tuple[int, list[Signal]]]:
    """BTC, 21 Nov 2025 style: calm-ish stress for 2 h, a 2 h cascade, the low at minute 240.

    Figures follow the reference: price ~-36% from the high at the low, OI ~-35% from peak,
    ~$1B/h of liquidations (93% longs), ~$1.9B in 24 h, BTC -4.5% in 10 minutes, pegs on.
    """
    for m in range(minutes):
        t = T0 + m * MIN
        c = (m - 120) / 120  # cascade progress 0..1 between minutes 120 and 240
        px_dd = _lerp(-25.0, -36.0, c) if m <= 240 else _lerp(-36.0, -33.0, (m - 240) / 120)
        oi_dd = _lerp(-27.0, -35.0, c)
        if m < 120 or m >= 240:
            z = 0.5
        elif m < 180:
            z = 8.0
        else:
            z = _lerp(8.0, 1.0, (m - 180) / 60)
        if m < 120:
            liq_1h = 30e6
        elif m <= 180:
            liq_1h = _lerp(30e6, 1.0e9, (m - 120) / 60)
        else:
            liq_1h = _lerp(1.0e9, 150e6, (m - 180) / 120)
        liq_24h = 600e6 if m < 120 else _lerp(600e6, 1.95e9, c)
        ret_10m = -4.5 if 150 <= m < 155 else -0.3
        sig = [
            Signal("price_ref", {"asset": "BTC"}, 84_000.0 * (1 + px_dd / 100) / 0.75, t),
            Signal("price_drawdown_pct", {"asset": "BTC"}, px_dd, t),
            Signal("price_return_pct", {"asset": "BTC", "window": "10m"}, ret_10m, t),
            Signal("price_return_pct", {"asset": "BTC", "window": "1h"}, -2.0 if c > 0 else 0, t),
            Signal("oi_drawdown_pct", {"asset": "BTC"}, oi_dd, t),
            Signal("oi_change_pct", {"asset": "BTC", "window": "24h"}, -8.0, t),
            Signal("oi_complete", {"asset": "BTC"}, 1.0, t),
            Signal("liq_burst_z", {"asset": "BTC"}, z, t),
            Signal("liq_usd", {"asset": "all", "side": "all", "window": "1h"}, liq_1h, t),
            Signal("liq_usd", {"asset": "all", "side": "all", "window": "24h"}, liq_24h, t),
            Signal("liq_usd", {"asset": "BTC", "side": "all", "window": "1h"}, liq_1h / 2, t),
            Signal("liq_usd", {"asset": "BTC", "side": "all", "window": "5m"}, liq_1h / 4, t),
            Signal("liq_long_share", {"asset": "all", "window": "24h"}, 0.93 if c > 0 else 0.6, t),
            Signal("funding_rate_8h", {"asset": "BTC", "venue": "oi_weighted"}, 0.00005, t),
            Signal("peg_median_deviation_bps", {"coin": "USDT"}, -3.0, t),
            Signal("peg_dislocation_bps", {"coin": "USDT", "venue": "kraken"}, -8.0, t),
            Signal("feed_age_seconds", {"venue": "binance", "channel": "trades"}, 0.2, t),
            Signal("feed_up", {"venue": "binance", "channel": "trades"}, 1.0, t),
        ]
        yield t, sig


def calm_week(hours: int = 48) -> Iterator[tuple[int, list[Signal]]]:
    """An ordinary market: small liquidations, baseline funding, USDT within +-15 bps."""
    for m in range(hours * 60):
        t = T0 + m * MIN
        wobble = ((m * 37) % 11 - 5) / 5  # deterministic noise in [-1, 1]
        spike = 60e6 if m % 600 == 0 else 0.0
        sig = [
            Signal("price_ref", {"asset": "BTC"}, 95_000 + 300 * wobble, t),
            Signal("price_drawdown_pct", {"asset": "BTC"}, -6 + wobble, t),
            Signal("price_return_pct", {"asset": "BTC", "window": "10m"}, 0.4 * wobble, t),
            Signal("oi_drawdown_pct", {"asset": "BTC"}, -4 + wobble, t),
            Signal("oi_complete", {"asset": "BTC"}, 1.0, t),
            Signal("liq_burst_z", {"asset": "BTC"}, 1.0 + 2 * abs(wobble), t),
            Signal("liq_usd", {"asset": "all", "side": "all", "window": "1h"}, 20e6 + spike, t),
            Signal("liq_usd", {"asset": "all", "side": "all", "window": "24h"}, 450e6, t),
            Signal("funding_rate_8h", {"asset": "BTC", "venue": "oi_weighted"}, 0.0001, t),
            Signal("peg_median_deviation_bps", {"coin": "USDT"}, 10 * wobble, t),
            Signal(
                "feed_age_seconds",
                {"venue": "okx", "channel": "trades"},
                45.0 if 1000 <= m < 1001 else 0.5,
                t,
            ),  # one venue glitching briefly
        ]
        yield t, sig


def usde_binance_only(minutes: int = 180) -> Iterator[tuple[int, list[Signal]]]:
    """10 Oct 2025: USDe at $0.65 on Binance for ~2 h, other venues near $1."""
    for m in range(minutes):
        t = T0 + m * MIN
        off = 20 <= m < 140
        sig = [
            Signal(
                "peg_dislocation_bps",
                {"coin": "USDe", "venue": "binance"},
                -3500.0 if off else -5.0,
                t,
            ),
            Signal("peg_dislocation_bps", {"coin": "USDe", "venue": "bybit"}, 10.0, t),
            Signal("peg_median_deviation_bps", {"coin": "USDe"}, -60.0 if off else -2.0, t),
            Signal(
                "peg_venues_deviating", {"coin": "USDe", "threshold": "100"}, 2.0 if off else 0.0, t
            ),  # Binance, and Bybit at 0.92-0.95
            Signal(
                "peg_venues_deviating", {"coin": "USDe", "threshold": "30"}, 2.0 if off else 0.0, t
            ),
        ]
        yield t, sig


def usdc_systemic(minutes: int = 240) -> Iterator[tuple[int, list[Signal]]]:
    """March 2023: USDC ~$0.87 across venues, four venues deviating."""
    for m in range(minutes):
        t = T0 + m * MIN
        dev = -1300.0 if 30 <= m < 200 else -2.0
        sig = [
            Signal("peg_median_deviation_bps", {"coin": "USDC"}, dev, t),
            Signal(
                "peg_venues_deviating",
                {"coin": "USDC", "threshold": "100"},
                4.0 if dev < -100 else 0.0,
                t,
            ),
            Signal(
                "peg_venues_deviating",
                {"coin": "USDC", "threshold": "30"},
                4.0 if dev < -100 else 1.0,
                t,
            ),
            Signal("peg_dislocation_bps", {"coin": "USDC", "venue": "kraken"}, -40.0, t),
        ]
        yield t, sig
