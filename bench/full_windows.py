"""Fill a stream engine's windows as after weeks of running, for the benchmarks that measure a
full engine (``bench_processors``, ``bench_coverage``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from streams.engine import StreamEngine
from streams.events import Liquidation
from streams.processors import LiquidationProcessor, OpenInterestProcessor, PriceProcessor
from streams.units import NS_PER_HOUR as H
from streams.units import NS_PER_MINUTE as M


def fill_windows(
    engine: StreamEngine, assets: Iterable[str], venues: Sequence[str], t0: int
) -> None:
    """Every asset's windows full up to ``t0``: 24 h of liquidations (one a minute), 60 d of
    open interest on every venue and 90 d of prices."""
    assets = list(assets)
    liq = next(p for p in engine.processors if isinstance(p, LiquidationProcessor))
    oi = next(p for p in engine.processors if isinstance(p, OpenInterestProcessor))
    price = next(p for p in engine.processors if isinstance(p, PriceProcessor))
    start = t0 - 24 * H
    for minute in range(24 * 60):
        ts = start + minute * M
        for a in assets:
            liq.on_event(
                Liquidation(
                    venue="binance-usdm", symbol=a + "USDT", instrument=f"{a}-USDT-PERP",
                    asset=a, ts_event=ts, ts_recv=ts, price=1.0, size=1.0,
                    notional_usd=1000.0, side="long",
                )
            )  # fmt: skip
    hours_60d = [(t0 - h * H, 1e9) for h in range(60 * 24, 0, -1)]
    minutes = [(t0 - m * M, 1e9) for m in range(24 * 60, 0, -1)]
    hours_90d = [(t0 - h * H, 100.0) for h in range(90 * 24, 0, -1)]
    for a in assets:
        for v in venues:
            oi.seed_history(a, v, hours_60d)
            oi.seed_history(a, v, minutes)
        price.seed_history(a, "binance-usdm", hours_90d)
        price.seed_history(a, "binance-usdm", [(t, 100.0) for t, _ in minutes])
