"""Reference price per asset, drawdown from the rolling high, and returns.

Signals (see ``docs/signals.md``):

- ``price_ref{asset}``: median across fresh venues of each venue's latest price (last trade of any
  of the asset's instruments, or mark price from funding updates). Prices are in the instruments'
  quote currencies (USD, USDT, USDC) without conversion: a stablecoin's few bps do not matter here.
  A venue is fresh while its latest price is at most ``stale_ns`` (60 s) old.
- ``price_drawdown_pct{asset}``: reference price against the highest reference price of the rolling
  90 days (hourly maxima of the per-tick reference price), <= 0.
- ``price_return_pct{asset,window}`` (10m, 1h, 24h): against the reference price at the end of the
  second (10m) or minute (1h, 24h) bucket ``window`` ago; not emitted while history is missing.
- ``price_venues{asset}``: number of fresh venues in the median.

Stablecoins listed in ``exclude_assets`` are left to the peg processor.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from streams.events import Event, Funding, Trade
from streams.processors._common import SeriesCache, SeriesValues, median
from streams.sampled_history import SampledHistory
from streams.signals import Signal
from streams.units import NS_PER_DAY, NS_PER_HOUR, NS_PER_MINUTE, NS_PER_SECOND

__all__ = ["DEFAULT_STABLECOINS", "PriceConfig", "PriceProcessor"]

DEFAULT_STABLECOINS = frozenset({"USDT", "USDC", "FDUSD", "DAI", "USDS", "USDE"})


@dataclass(frozen=True)
class PriceConfig:
    """Settings of :class:`PriceProcessor`.

    Attributes:
        stale_ns: a venue's price older than this is left out of the median.
        windows: ``(label, length_ns)`` of ``price_return_pct`` (at most 24 h).
        high_window_ns: the window of the rolling high for ``price_drawdown_pct``.
        exclude_assets: assets not priced here (stablecoins).
    """

    stale_ns: int = 60 * NS_PER_SECOND
    windows: tuple[tuple[str, int], ...] = (
        ("10m", 10 * NS_PER_MINUTE),
        ("1h", NS_PER_HOUR),
        ("24h", NS_PER_DAY),
    )
    high_window_ns: int = 90 * NS_PER_DAY
    exclude_assets: frozenset[str] = DEFAULT_STABLECOINS


class PriceProcessor(SeriesValues):
    """Cross-venue reference prices and their drawdowns and returns.

    Args:
        config: settings; defaults to :class:`PriceConfig`.
    """

    name = "price"
    event_types = (Trade, Funding)

    def __init__(self, config: PriceConfig | None = None) -> None:
        self.config = cfg = config or PriceConfig()
        self._px: dict[str, dict[str, list[float]]] = {}  # asset -> venue -> [price, ts]
        self.assets: list[str] = []
        self._asset_idx: dict[str, int] = {}
        self._hist = SampledHistory(
            [(NS_PER_SECOND, 15 * 60 + 2), (NS_PER_MINUTE, 24 * 60 + 2)], mode="last", capacity=16
        )
        self._high = SampledHistory(
            [(NS_PER_HOUR, cfg.high_window_ns // NS_PER_HOUR + 2)], mode="max", capacity=16
        )
        self._skip = cfg.exclude_assets
        self._series = SeriesCache()

    def _row(self, asset: str) -> int:
        i = self._asset_idx.get(asset)
        if i is None:
            i = len(self.assets)
            self.assets.append(asset)
            self._asset_idx[asset] = i
            self._hist.add_row()
            self._high.add_row()
            self._px.setdefault(asset, {})
        return i

    def on_event(self, event: Event) -> list[Signal]:
        """Store the venue's latest price; signals follow on the next tick."""
        cls = type(event)
        if cls is Trade:
            price = event.price  # type: ignore[union-attr]
        elif cls is Funding:
            price = event.mark_price  # type: ignore[union-attr]
        else:
            return []
        asset = event.asset
        venues = self._px.get(asset)
        if venues is None:
            if asset in self._skip:
                return []
            self._row(asset)
            venues = self._px[asset]
        if not price > 0.0:
            return []
        rec = venues.get(event.venue)
        ts = event.ts_event
        if rec is None:
            venues[event.venue] = [price, ts]
        elif ts >= rec[1]:
            rec[0] = price
            rec[1] = ts
        return []

    def seed_history(self, asset: str, venue: str, points: Iterable[tuple[int, float]]) -> None:
        """Backfill the reference price history of ``asset`` from one venue's klines.

        ``points`` are ``(ts_ns, price)`` (e.g. kline highs or closes). They feed the rolling high
        (max per hour) and the return history (last per minute / second). ``venue`` is accepted
        for symmetry with the open-interest backfill; seeded points are not per venue.
        """
        del venue
        i = self._row(asset)
        for ts, price in sorted(points):
            self._hist.record_row(i, int(ts), float(price))
            self._high.record_row(i, int(ts), float(price))

    def on_tick(self, now_ns: int) -> list[Signal]:
        """Compute the reference prices at ``now_ns`` and emit the changed figures."""
        out: list[Signal] = []
        n = len(self.assets)
        if n == 0:
            return out
        stale = now_ns - self.config.stale_ns
        ref = np.full(n, np.nan)
        counts = [0] * n
        for i, asset in enumerate(self.assets):
            fresh = [p for p, ts in self._px[asset].values() if ts >= stale]
            if fresh:
                ref[i] = median(fresh)
                counts[i] = len(fresh)
        self._hist.record(now_ns - 1, ref)
        self._high.record(now_ns - 1, ref)
        high = self._high.window_max(0, now_ns, self.config.high_window_ns)
        then = [
            (label, self._hist.at(now_ns - window - 1)) for label, window in self.config.windows
        ]
        emit = self._series.emit
        for i, asset in enumerate(self.assets):
            emit(out, "price_venues", ("asset",), (asset,), float(counts[i]), now_ns)
            r = float(ref[i])
            if r != r:
                continue
            emit(out, "price_ref", ("asset",), (asset,), r, now_ns)
            h = float(high[i])
            if h == h and h > 0.0:
                emit(out, "price_drawdown_pct", ("asset",), (asset,), (r / h - 1.0) * 100.0, now_ns)
            for label, past in then:
                p = float(past[i])
                if p == p and p > 0.0:
                    pct = (r / p - 1.0) * 100.0
                    emit(out, "price_return_pct", ("asset", "window"), (asset, label), pct, now_ns)
        return out

    def snapshot(self) -> dict[str, Any]:
        """Return the complete state as JSON-safe data."""
        return {
            "assets": list(self.assets),
            "px": {a: {v: list(rec) for v, rec in d.items()} for a, d in self._px.items()},
            "hist": self._hist.snapshot(),
            "high": self._high.snapshot(),
            "series": self._series.snapshot(),
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Load a state written by :meth:`snapshot`."""
        self.assets = [str(a) for a in state["assets"]]
        self._asset_idx = {a: i for i, a in enumerate(self.assets)}
        self._px = {
            str(a): {str(v): [float(rec[0]), int(rec[1])] for v, rec in d.items()}
            for a, d in state["px"].items()
        }
        self._hist.restore(state["hist"])
        self._high.restore(state["high"])
        self._series.restore(state["series"])
