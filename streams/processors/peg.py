"""Stablecoin pegs across venues: price in USD, deviation, cross-venue median, dislocations.

Only quotes on SPOT instruments (``COIN-QUOTE-SPOT``) of the watched coins are used.

Signals (see ``docs/signals.md``), ``coin`` is the uppercase asset (USDT, USDC, FDUSD, DAI, USDS,
USDE):

- ``peg_price{coin,venue}``: mid ``(bid + ask) / 2`` in USD. A USD-quoted pair is used as is; a pair
  quoted in another watched stablecoin (``X-USDT-SPOT``) is multiplied by that coin's USD reference,
  the median of its fresh USD-quoted mids across venues (e.g. USDT/USD). When a venue has both, the
  USD-quoted pair wins; among converted pairs the most recent wins.
- ``peg_deviation_bps{coin,venue}``: ``(peg_price - 1) * 10_000``.
- ``peg_median_deviation_bps{coin}``: median of the fresh venues' deviations.
- ``peg_venues_deviating{coin,threshold}``: fresh venues with ``|deviation| >= threshold`` bps.
- ``peg_dislocation_bps{coin,venue}``: the venue's deviation minus the median deviation of the
  *other* fresh venues (needs at least one other venue), and ``peg_max_dislocation_bps{coin}``: the
  largest of those in absolute value (signed).
- ``peg_venues{coin}``: number of fresh venues.
- ``peg_reference_fresh{quote}``: 1 when the USD reference of a quote coin had fresh USD-quoted
  venues, 0 when it fell back to parity (1.0).
- ``peg_via_rate{coin,venue,via}``: when a venue's price is a converted one (``X-USDT-SPOT``), the
  USD price of the quote coin it went through (``via="USDT"``), so a converted price says so; the
  series is emitted only for converted prices.

A quote is fresh for ``stale_ns`` (2 min). Crossed or non-positive quotes are rejected.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from streams.events import Event, Quote
from streams.processors._common import SeriesCache, SeriesValues, keep_latest, median
from streams.signals import Signal
from streams.units import NS_PER_MINUTE

__all__ = ["DEFAULT_PEG_COINS", "PegConfig", "PegProcessor"]

DEFAULT_PEG_COINS = ("USDT", "USDC", "FDUSD", "DAI", "USDS", "USDE", "PYUSD")


@dataclass(frozen=True)
class PegConfig:
    """Settings of :class:`PegProcessor`.

    Attributes:
        coins: the watched stablecoins (asset field, uppercase).
        thresholds_bps: thresholds of ``peg_venues_deviating``.
        stale_ns: a quote older than this is left out.
    """

    coins: tuple[str, ...] = DEFAULT_PEG_COINS
    thresholds_bps: tuple[float, ...] = (30.0, 100.0, 300.0)
    stale_ns: int = 2 * NS_PER_MINUTE


class PegProcessor(SeriesValues):
    """Stablecoin prices per venue and their cross-venue statistics.

    Args:
        config: settings; defaults to :class:`PegConfig`.
    """

    name = "peg"
    event_types = (Quote,)

    def __init__(self, config: PegConfig | None = None) -> None:
        self.config = cfg = config or PegConfig()
        self._coins = frozenset(cfg.coins)
        # (coin, venue, quote currency) -> [mid, ts]
        self._mids: dict[tuple[str, str, str], list[float]] = {}
        self._thresholds = [(f"{t:g}", t) for t in cfg.thresholds_bps]
        self._series = SeriesCache()
        self.rejected_events = 0
        # the figures depend only on the fresh mids: while no quote arrived and none went stale
        # since the last computed tick, a tick would emit nothing
        self._changed = True
        self._computed_at = 0
        self._fresh_until = 0

    def on_event(self, event: Event) -> list[Signal]:
        """Store the latest mid of a watched SPOT pair; signals follow on the next tick."""
        if type(event) is not Quote or event.asset not in self._coins:
            return []
        parts = event.instrument.split("-")
        if len(parts) != 3 or parts[2] != "SPOT":
            return []
        quote = parts[1]
        if quote != "USD" and quote not in self._coins:
            return []
        bid, ask = event.bid, event.ask
        if not (bid > 0.0 and ask >= bid):
            self.rejected_events += 1
            return []
        key = (event.asset, event.venue, quote)
        keep_latest(self._mids, key, (bid + ask) / 2.0, event.ts_event)
        self._changed = True
        return []

    def on_tick(self, now_ns: int) -> list[Signal]:
        """Compute every coin's venue prices and statistics at ``now_ns``; emit the changes."""
        if not self._changed and self._computed_at <= now_ns <= self._fresh_until:
            return []
        stale = now_ns - self.config.stale_ns
        fresh = [(k, m, ts) for k, (m, ts) in self._mids.items() if ts >= stale]
        self._changed = False
        self._computed_at = now_ns
        self._fresh_until = min((int(ts) for _k, _m, ts in fresh), default=now_ns) + (
            self.config.stale_ns
        )
        # USD references of quote coins: median of their fresh USD-quoted mids.
        usd_mids: dict[str, list[float]] = {}
        for (coin, _venue, quote), m, _ts in fresh:
            if quote == "USD":
                usd_mids.setdefault(coin, []).append(m)
        out: list[Signal] = []
        emit = self._series.emit
        quotes_used = sorted({q for (_c, _v, q), _m, _t in fresh if q != "USD"})
        fx: dict[str, float] = {}
        for q in quotes_used:
            got = usd_mids.get(q)
            fx[q] = median(got) if got else 1.0
            emit(out, "peg_reference_fresh", ("quote",), (q,), 1.0 if got else 0.0, now_ns)
        # (coin, venue) -> (priority, ts, price, quote): USD-quoted first, then the most recent.
        best: dict[tuple[str, str], tuple[int, float, float, str]] = {}
        for (coin, venue, quote), m, ts in fresh:
            cand = (1, ts, m, quote) if quote == "USD" else (0, ts, m * fx[quote], quote)
            cur = best.get((coin, venue))
            if cur is None or cand[:2] > cur[:2]:
                best[(coin, venue)] = cand
        per_coin: dict[str, list[tuple[str, float]]] = {}
        cv = ("coin", "venue")
        for (coin, venue), (_p, _t, price, quote) in sorted(best.items()):
            per_coin.setdefault(coin, []).append((venue, price))
            if quote != "USD":
                emit(out, "peg_via_rate", (*cv, "via"), (coin, venue, quote), fx[quote], now_ns)
        for coin, venues in per_coin.items():
            devs: list[float] = []
            for venue, price in venues:
                dev = (price - 1.0) * 10_000.0
                devs.append(dev)
                emit(out, "peg_price", cv, (coin, venue), price, now_ns)
                emit(out, "peg_deviation_bps", cv, (coin, venue), dev, now_ns)
            emit(out, "peg_venues", ("coin",), (coin,), float(len(devs)), now_ns)
            emit(out, "peg_median_deviation_bps", ("coin",), (coin,), median(devs), now_ns)
            for label, thr in self._thresholds:
                n = float(sum(1 for d in devs if abs(d) >= thr))
                emit(out, "peg_venues_deviating", ("coin", "threshold"), (coin, label), n, now_ns)
            if len(devs) < 2:
                continue
            worst = 0.0
            for i, (venue, _price) in enumerate(venues):
                dis = devs[i] - median(devs[:i] + devs[i + 1 :])
                if abs(dis) > abs(worst):
                    worst = dis
                emit(out, "peg_dislocation_bps", cv, (coin, venue), dis, now_ns)
            emit(out, "peg_max_dislocation_bps", ("coin",), (coin,), worst, now_ns)
        return out

    def snapshot(self) -> dict[str, Any]:
        """Return the complete state as JSON-safe data."""
        return {
            "mids": [[c, v, q, *rec] for (c, v, q), rec in self._mids.items()],
            "series": self._series.snapshot(),
            "rejected_events": self.rejected_events,
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Load a state written by :meth:`snapshot`."""
        self._mids = {
            (str(c), str(v), str(q)): [float(m), int(ts)] for c, v, q, m, ts in state["mids"]
        }
        self._series.restore(state["series"])
        self.rejected_events = int(state["rejected_events"])
        self._changed = True
