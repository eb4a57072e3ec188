"""Open interest per asset and venue: totals, changes, drawdown from the rolling peak.

Signals (see ``docs/signals.md``):

- ``oi_usd{asset,venue}``: sum of the venue's instruments of the asset that are included (below),
  and ``oi_usd{asset,venue="all"}`` across included venues.
- ``oi_change_pct{asset,window}`` (1h, 24h) and ``oi_drawdown_pct{asset}`` (from the rolling 60-day
  peak, <= 0, e.g. -35.0).
- ``oi_drawdown_coverage{asset}``: the share of the current total that ``oi_drawdown_pct``
  covers (see "Uneven history").
- ``oi_complete{asset}``: 1 when every known instrument of the asset is fresh, else 0.
- ``oi_venue_included{asset,venue}``: 1 while the venue counts in the total, else 0.

Gaps. An instrument whose last update is older than ``hold_ns`` (5 min) is excluded; until then its
last value is held. A venue is included while at least one of its instruments is. An instrument
silent for ``forget_ns`` (24 h) is forgotten, so a delisting does not leave the asset incomplete.

A total that lost a venue must not read as a crash, so changes and drawdowns are computed over the
*same* venues at both ends: ``oi_change_pct`` compares the current sum of the included venues with
the sum of those same venues ``window`` ago (venues with no value then are left out of both ends),
and ``oi_drawdown_pct`` compares the current sum with the peak of the hourly sums of the included
venues (hours in which one of them had no value are skipped). When no venue has a value at both
ends the change is not emitted (the last value holds) rather than guessed.

Uneven history. Venues do not all publish open-interest history (Bybit and OKX 60 days, Binance
about three weeks, Hyperliquid, Deribit and BitMEX none), so right after a first start one venue
may have weeks of backfill and another minutes. ``oi_drawdown_pct`` then covers only the venues
whose history is nearly as long as the longest one (90%), rather than a peak of the few hours all
venues share, and ``oi_drawdown_coverage{asset}`` says which share of the current total it covers
(1.0 once every venue has the history).

History: the per-venue value at the end of each minute (kept 24 h) and of each hour (kept 60 days),
seeded on start-up from REST history with :meth:`OpenInterestProcessor.seed_history`. A venue's
seeded history must join its live values: when the first live total of the venue differs from
the last seeded point (at most ``backfill_check_ns`` older) by more than ``backfill_max_ratio``
either way, the history measures something else (two-sided against one-sided open interest,
another unit) and is dropped, counted in ``rejected_backfills``, rather than faking a crash or a
peak.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from streams.events import Event, OpenInterest
from streams.processors._common import SeriesCache, SeriesValues
from streams.sampled_history import SampledHistory
from streams.signals import Signal
from streams.units import NS_PER_DAY, NS_PER_HOUR, NS_PER_MINUTE

__all__ = ["OpenInterestConfig", "OpenInterestProcessor"]

BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class OpenInterestConfig:
    """Settings of :class:`OpenInterestProcessor`.

    Attributes:
        hold_ns: how long a silent instrument keeps its last value before it is excluded.
        forget_ns: how long before a silent instrument is forgotten entirely.
        windows: ``(label, length_ns)`` of ``oi_change_pct`` (at most 24 h).
        peak_window_ns: the window of the rolling peak for ``oi_drawdown_pct``.
        lookback_ns: how far before ``now - window`` a venue's value may be taken from when the
            history has no value exactly then (sparse backfills, e.g. hourly REST history).
        min_history_share: a venue counts in ``oi_drawdown_pct`` when its history in the peak
            window spans at least this share of the longest venue's.
        backfill_check_ns: how recent the last seeded point must be to be checked against the
            venue's first live value.
        backfill_max_ratio: the largest ratio (either way) between the two that keeps the
            seeded history.
    """

    hold_ns: int = 5 * NS_PER_MINUTE
    forget_ns: int = NS_PER_DAY
    windows: tuple[tuple[str, int], ...] = (("1h", NS_PER_HOUR), ("24h", NS_PER_DAY))
    peak_window_ns: int = 60 * NS_PER_DAY
    lookback_ns: int = NS_PER_HOUR
    min_history_share: float = 0.9
    backfill_check_ns: int = 6 * NS_PER_HOUR
    backfill_max_ratio: float = 1.5


class _Asset:
    __slots__ = ("hist", "peak_cache", "venue_idx", "venues")

    def __init__(self, peak_window_ns: int) -> None:
        self.venues: list[str] = []
        self.venue_idx: dict[str, int] = {}
        self.hist = SampledHistory(
            [(NS_PER_MINUTE, 24 * 60 + 2), (NS_PER_HOUR, peak_window_ns // NS_PER_HOUR + 2)],
            mode="last",
            capacity=8,
        )
        self.peak_cache: tuple[tuple[Any, ...], tuple[float, BoolArray]] | None = None

    def venue_row(self, venue: str) -> int:
        i = self.venue_idx.get(venue)
        if i is None:
            i = self.hist.add_row()
            self.venues.append(venue)
            self.venue_idx[venue] = i
        return i


class OpenInterestProcessor(SeriesValues):
    """Open interest totals and their changes, robust to venues dropping out.

    Args:
        config: settings; defaults to :class:`OpenInterestConfig`.
    """

    name = "open_interest"
    event_types = (OpenInterest,)

    def __init__(self, config: OpenInterestConfig | None = None) -> None:
        self.config = config or OpenInterestConfig()
        # (venue, instrument) -> [asset, usd, ts]
        self._inst: dict[tuple[str, str], list[Any]] = {}
        self._assets: dict[str, _Asset] = {}
        self._series = SeriesCache()
        # (asset, venue) -> (ts, usd) of the last seeded point, until the first live value
        self._unchecked: dict[tuple[str, str], tuple[int, float]] = {}
        self.late_events = 0
        self.rejected_events = 0
        self.rejected_backfills: list[tuple[str, str, float]] = []  # asset, venue, live/seeded
        # A tick's figures depend on the instruments' values and which of them are held or
        # forgotten, and on event time only through minute (and hour) buckets: while no event
        # arrived, no instrument crossed ``hold_ns``/``forget_ns`` and the minute is the same
        # as at the last computed tick, a tick would record the same values and emit nothing.
        self._changed = True
        self._tick_key: tuple[int, int] | None = None
        self._next_expiry = 0

    @property
    def assets(self) -> list[str]:
        """The assets seen so far."""
        return list(self._assets)

    def _asset(self, asset: str) -> _Asset:
        a = self._assets.get(asset)
        if a is None:
            a = self._assets[asset] = _Asset(self.config.peak_window_ns)
        return a

    def on_event(self, event: Event) -> list[Signal]:
        """Store the instrument's latest open interest; signals follow on the next tick."""
        if type(event) is not OpenInterest:
            return []
        usd = event.notional_usd
        if not usd >= 0.0:
            self.rejected_events += 1
            return []
        key = (event.venue, event.instrument)
        rec = self._inst.get(key)
        if rec is None:
            self._inst[key] = [event.asset, usd, event.ts_event]
            self._asset(event.asset).venue_row(event.venue)
        elif event.ts_event >= rec[2]:
            rec[1] = usd
            rec[2] = event.ts_event
        else:
            self.late_events += 1
        self._changed = True
        return []

    def seed_history(self, asset: str, venue: str, points: Iterable[tuple[int, float]]) -> None:
        """Backfill one venue's open interest (USD) history for ``asset``.

        ``points`` are ``(ts_ns, usd)`` in any order, e.g. from a REST open-interest history. Each
        point is the value at the end of its minute and hour; the daemon calls this on start-up
        before replaying live events.
        """
        a = self._asset(asset)
        row = a.venue_row(venue)
        ordered = sorted(points)
        for ts, usd in ordered:
            a.hist.record_row(row, int(ts), float(usd))
        if ordered:
            last = self._unchecked.get((asset, venue))
            if last is None or ordered[-1][0] >= last[0]:
                self._unchecked[(asset, venue)] = (int(ordered[-1][0]), float(ordered[-1][1]))
        a.peak_cache = None
        self._changed = True

    def on_tick(self, now_ns: int) -> list[Signal]:
        """Apply staleness at ``now_ns``, record history and emit the changed figures."""
        cfg = self.config
        tick_key = ((now_ns - 1) // NS_PER_MINUTE, now_ns // NS_PER_MINUTE)
        if not self._changed and tick_key == self._tick_key and now_ns < self._next_expiry:
            return []
        self._changed = False
        self._tick_key = tick_key
        out: list[Signal] = []
        per_asset: dict[str, dict[str, float]] = {}
        incomplete: set[str] = set()
        forget: list[tuple[str, str]] = []
        expiry = now_ns + cfg.forget_ns + 1  # the next time an instrument is held or forgotten
        for key, (asset, usd, ts) in self._inst.items():
            age = now_ns - ts
            if age > cfg.forget_ns:
                forget.append(key)
                continue
            if age > cfg.hold_ns:
                incomplete.add(asset)
                expiry = min(expiry, ts + cfg.forget_ns + 1)
                continue
            expiry = min(expiry, ts + cfg.hold_ns + 1)
            venues = per_asset.setdefault(asset, {})
            venues[key[0]] = venues.get(key[0], 0.0) + usd
        for key in forget:
            del self._inst[key]
        self._next_expiry = expiry
        for name, a in self._assets.items():
            self._tick_asset(out, name, a, per_asset.get(name, {}), name not in incomplete, now_ns)
        return out

    def _tick_asset(
        self,
        out: list[Signal],
        asset: str,
        a: _Asset,
        venues: dict[str, float],
        complete: bool,
        now: int,
    ) -> None:
        emit = self._series.emit
        cur = np.full(a.hist.n_rows, np.nan)
        for v, usd in venues.items():
            cur[a.venue_idx[v]] = usd
            if self._unchecked:
                self._check_backfill(asset, a, v, usd, now)
        a.hist.record(now - 1, cur)
        included = ~np.isnan(cur)
        for i, v in enumerate(a.venues):
            inc = bool(included[i])
            emit(out, "oi_venue_included", ("asset", "venue"), (asset, v), float(inc), now)
            if inc:
                emit(out, "oi_usd", ("asset", "venue"), (asset, v), float(cur[i]), now)
        emit(out, "oi_complete", ("asset",), (asset,), 1.0 if complete else 0.0, now)
        if not included.any():
            return
        total = float(cur[included].sum())
        emit(out, "oi_usd", ("asset", "venue"), (asset, "all"), total, now)
        for label, window in self.config.windows:
            then = a.hist.at(now - window - 1)
            if np.isnan(then[included]).any():  # sparse (backfilled) history: look further back
                then = a.hist.at_or_before(now - window - 1, self.config.lookback_ns)
            both = included & ~np.isnan(then)
            base = float(then[both].sum()) if both.any() else 0.0
            if base > 0.0:
                pct = (float(cur[both].sum()) / base - 1.0) * 100.0
                emit(out, "oi_change_pct", ("asset", "window"), (asset, label), pct, now)
        peak, covered = self._peak(a, included, now)
        dd_total = float(cur[covered].sum())
        peak = max(peak, dd_total)
        if peak > 0.0:
            dd = (dd_total / peak - 1.0) * 100.0
            emit(out, "oi_drawdown_pct", ("asset",), (asset,), dd, now)
            share = dd_total / total if total > 0.0 else 0.0
            emit(out, "oi_drawdown_coverage", ("asset",), (asset,), share, now)

    def _check_backfill(self, asset: str, a: _Asset, venue: str, usd: float, now: int) -> None:
        """Drop a venue's seeded history if its first live value does not continue it."""
        seeded = self._unchecked.pop((asset, venue), None)
        if seeded is None or now - seeded[0] > self.config.backfill_check_ns or seeded[1] <= 0:
            return
        ratio = usd / seeded[1]
        limit = self.config.backfill_max_ratio
        if not 1.0 / limit <= ratio <= limit:
            a.hist.clear_row(a.venue_idx[venue])
            a.peak_cache = None
            self.rejected_backfills.append((asset, venue, ratio))

    def _peak(self, a: _Asset, included: BoolArray, now: int) -> tuple[float, BoolArray]:
        """Peak of the hourly sums over completed hours in the window, and the venues it covers.

        The covered venues are the included ones whose history in the window starts nearly as
        early as the longest one's (``min_history_share`` of its span): a venue with hours of
        history next to one with weeks of backfill would otherwise shrink the peak to the few
        hours both have values.
        """
        last = (now - 1) // NS_PER_HOUR
        first = (now - self.config.peak_window_ns) // NS_PER_HOUR
        key = (first, last, a.hist.version, tuple(included.tolist()))
        if a.peak_cache is not None and a.peak_cache[0] == key:
            return a.peak_cache[1]
        cols, _ = a.hist.columns(1, first, last - 1)
        covered = included
        if cols.shape[1]:
            valid = ~np.isnan(cols)
            # hours from each venue's first value in the window to its end (0: none)
            span = np.where(valid.any(axis=1), cols.shape[1] - valid.argmax(axis=1), 0)
            longest = span[included].max()
            if longest > 0:
                covered = included & (span >= self.config.min_history_share * longest)
            sums = cols[covered].sum(axis=0)
        else:
            sums = np.zeros(0)
        sums = sums[~np.isnan(sums)]
        peak = float(sums.max()) if sums.size else 0.0
        a.peak_cache = (key, (peak, covered))
        return peak, covered

    def snapshot(self) -> dict[str, Any]:
        """Return the complete state as JSON-safe data."""
        return {
            "inst": [[v, i, rec[0], rec[1], rec[2]] for (v, i), rec in self._inst.items()],
            "assets": {
                name: {"venues": a.venues, "hist": a.hist.snapshot()}
                for name, a in self._assets.items()
            },
            "series": self._series.snapshot(),
            "unchecked": [[a, v, ts, usd] for (a, v), (ts, usd) in self._unchecked.items()],
            "late_events": self.late_events,
            "rejected_events": self.rejected_events,
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Load a state written by :meth:`snapshot`."""
        self._inst = {
            (str(v), str(i)): [str(asset), float(usd), int(ts)]
            for v, i, asset, usd, ts in state["inst"]
        }
        self._assets = {}
        for name, s in state["assets"].items():
            a = _Asset(self.config.peak_window_ns)
            a.venues = [str(v) for v in s["venues"]]
            a.venue_idx = {v: i for i, v in enumerate(a.venues)}
            a.hist.restore(s["hist"])
            self._assets[str(name)] = a
        self._series.restore(state["series"])
        self._unchecked = {
            (str(a), str(v)): (int(ts), float(usd)) for a, v, ts, usd in state.get("unchecked", [])
        }
        self.late_events = int(state["late_events"])
        self.rejected_events = int(state["rejected_events"])
        self._changed = True
