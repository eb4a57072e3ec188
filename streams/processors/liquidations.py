"""Liquidations: rolling USD and counts, long share, burst score and feed saturation.

Signals (see ``docs/signals.md``):

- ``liq_usd{asset,side,window}`` and ``liq_count{asset,side,window}``: side ``long``, ``short`` or
  ``all``; window ``1m``, ``5m``, ``1h``, ``24h``; asset ``all`` sums every asset.
- ``liq_long_share{asset,window}``: long USD / all USD in the window, 0..1 (0 when the window is
  empty: read it together with ``liq_usd``).
- ``liq_burst_z{asset}``: robust z of ``log1p`` of the last 60 s of liquidated USD against the
  median/MAD of the trailing per-minute ``log1p`` volumes. A completed minute joins the baseline
  only if its own z was below ``burst_z`` (so a burst never pollutes the baseline); while the
  baseline holds fewer than ``min_baseline_minutes`` minutes every minute joins and nothing is
  emitted.
- ``liq_saturated_seconds{venue,asset}``: over the trailing ``saturation_window_ns`` (1 h), the
  number of seconds in which a capped venue (one liquidation per symbol per second at most)
  delivered liquidations for one symbol in at least two consecutive seconds, i.e. the seconds of
  every such run (a run of k >= 2 consecutive seconds counts k). While this is above 0 the venue's
  totals are lower bounds.
- ``liq_window_covered{window}``: 1 once the processor has seen a whole window of event time.
- ``liq_coverage_share``: the estimated share of whole-market liquidations the monitored feeds
  show (``coverage_share``, from :mod:`streams.coverage`; 1.0 = the whole market), which rules
  with ``scale_by: liq_coverage_share`` multiply their USD thresholds by.

Emission is lazy: events only update the windows; every tick emits the series that changed
(including the decay as events leave the windows), so a liquidation shows within one tick.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from streams.array_packing import FloatArray, pack_array, unpack_array
from streams.events import Event, Liquidation
from streams.processors._common import SeriesCache
from streams.signals import Signal
from streams.units import NS_PER_HOUR, NS_PER_MINUTE, NS_PER_SECOND
from streams.windows import RollingSums

__all__ = ["DEFAULT_CAPPED_VENUES", "LiquidationConfig", "LiquidationProcessor"]

DEFAULT_CAPPED_VENUES = frozenset({"binance-usdm", "binance-coinm", "okx-swap"})

_COLUMNS: tuple[tuple[str, str | None], ...] = (
    ("liq_usd", "long"),
    ("liq_usd", "short"),
    ("liq_usd", "all"),
    ("liq_count", "long"),
    ("liq_count", "short"),
    ("liq_count", "all"),
    ("liq_long_share", None),
)
_ALL = "all"
_NAN_ROW = [math.nan] * len(_COLUMNS)


def _figures(raw: list[float], n: int) -> list[list[float]]:
    """Every asset's figures (the :data:`_COLUMNS`) from its four sums (asset 0: all assets).

    Plain floats, in the order and with the operations numpy would use, so the values are the
    same to the last bit: the "all" row sums the other rows one after another.
    """
    rows = [raw[4 * i : 4 * i + 4] for i in range(n)]
    if n > 1:
        tot = list(rows[1])
        for r in rows[2:]:
            tot = [a + b for a, b in zip(tot, r, strict=True)]
        rows[0] = tot
    else:
        rows[0] = [0.0, 0.0, 0.0, 0.0]
    out: list[list[float]] = []
    for long_usd, short_usd, long_n, short_n in rows:
        all_usd = long_usd + short_usd
        share = long_usd / all_usd if all_usd > 0 else 0.0
        out.append([long_usd, short_usd, all_usd, long_n, short_n, long_n + short_n, share])
    return out


@dataclass(frozen=True)
class LiquidationConfig:
    """Settings of :class:`LiquidationProcessor`.

    Attributes:
        windows: ``(label, length_ns)`` of the rolling windows; one must be 60 s long (the burst
            score reads it).
        capped_venues: venues whose liquidation feed sends at most one order per symbol per second.
        saturation_window_ns: trailing window of ``liq_saturated_seconds``.
        baseline_minutes: length of the burst baseline (completed minutes).
        min_baseline_minutes: minutes needed before ``liq_burst_z`` is emitted.
        burst_z: a minute whose z reaches this stays out of the baseline.
        min_scale: floor of the robust scale (1.4826 * MAD) in log units, so that a baseline of
            identical minutes (often all zero) does not give infinite z.
        coverage_share: the estimated share of whole-market liquidations the events cover
            (``liq_coverage_share``); 1.0 when they stand for the whole market (the simulator's
            scenarios), the configured venues' factors live (:mod:`streams.coverage`).
    """

    windows: tuple[tuple[str, int], ...] = (
        ("1m", NS_PER_MINUTE),
        ("5m", 5 * NS_PER_MINUTE),
        ("1h", NS_PER_HOUR),
        ("24h", 24 * NS_PER_HOUR),
    )
    capped_venues: frozenset[str] = field(default=DEFAULT_CAPPED_VENUES)
    saturation_window_ns: int = NS_PER_HOUR
    baseline_minutes: int = 240
    min_baseline_minutes: int = 10
    burst_z: float = 3.5
    min_scale: float = 1.0
    coverage_share: float = 1.0

    def __post_init__(self) -> None:
        if not 0.0 < self.coverage_share <= 1.0:
            raise ValueError(f"coverage_share must be in (0, 1], got {self.coverage_share!r}")


class LiquidationProcessor:
    """Rolling liquidation figures per asset (and across all assets).

    Args:
        config: settings; defaults to :class:`LiquidationConfig`.
    """

    name = "liquidations"
    event_types = (Liquidation,)

    def __init__(self, config: LiquidationConfig | None = None) -> None:
        self.config = cfg = config or LiquidationConfig()
        self._labels = [w for w, _ in cfg.windows]
        lengths = [w for _, w in cfg.windows]
        if NS_PER_MINUTE not in lengths:
            raise ValueError("one liquidation window must be 60 s long")
        self._w1m = lengths.index(NS_PER_MINUTE)
        self._sums = RollingSums(lengths, capacity=64)
        # asset 0 is "all": its rows never receive events, its figures are the column sums.
        self.assets: list[str] = []
        self._asset_idx: dict[str, int] = {}
        self._last: list[FloatArray] = [np.full((0, len(_COLUMNS)), np.nan) for _ in cfg.windows]
        # the figures of each window as plain rows (the same values as ``_last``), and the
        # window key they were computed at
        self._last_rows: list[list[list[float]]] = [[] for _ in cfg.windows]
        self._window_keys: list[tuple[int, int, int] | None] = [None for _ in cfg.windows]
        # per window, per asset row: the (name, labels) of each column's series, built once
        # (a series' signals share its labels dict; signals are never mutated)
        self._series_ids: list[list[list[tuple[str, dict[str, str]]]]] = [[] for _ in cfg.windows]
        self._burst_key: tuple[Any, ...] | None = None
        self._sat_key: tuple[int, int, int] | None = None
        self._series = SeriesCache()
        self._sat = RollingSums([cfg.saturation_window_ns], capacity=16)
        self._sat_rows: dict[tuple[str, str], int] = {}
        self._sat_keys: list[tuple[str, str]] = []
        self._sat_state: dict[tuple[str, str], list[int]] = {}  # (venue, symbol) -> [sec, run]
        n_base = cfg.baseline_minutes
        self._base = np.full((0, n_base), np.nan)
        self._base_count = np.zeros(0, dtype=np.int64)
        self._med = np.zeros(0)
        self._scale = np.ones(0)
        self._minute_done: int | None = None
        self._base_version = 0  # bumped whenever the burst baseline changes
        self.rejected_events = 0
        self._asset_row(_ALL)

    # -- assets ---------------------------------------------------------------------------------

    def _asset_row(self, asset: str) -> int:
        i = self._asset_idx.get(asset)
        if i is not None:
            return i
        i = len(self.assets)
        self.assets.append(asset)
        self._asset_idx[asset] = i
        for _ in range(4):
            self._sums.add_row()
        for k, last in enumerate(self._last):
            self._last[k] = np.vstack([last, np.full((1, len(_COLUMNS)), np.nan)])
        self._base = np.vstack([self._base, np.full((1, self._base.shape[1]), np.nan)])
        self._base_count = np.append(self._base_count, 0)
        self._med = np.append(self._med, 0.0)
        self._scale = np.append(self._scale, self.config.min_scale)
        return i

    # -- events ---------------------------------------------------------------------------------

    def on_event(self, event: Event) -> list[Signal]:
        """Add a liquidation to the windows; signals follow on the next tick."""
        if type(event) is not Liquidation:
            return []
        usd = event.notional_usd
        if not usd >= 0.0 or event.asset == _ALL:
            self.rejected_events += 1
            return []
        i = self._asset_idx.get(event.asset)
        if i is None:
            i = self._asset_row(event.asset)
        row = 4 * i + (0 if event.side == "long" else 1)
        self._sums.add_pair(row, usd, row + 2, 1.0, event.ts_event)
        if event.venue in self.config.capped_venues:
            self._saturation(event)
        return []

    def _saturation(self, event: Liquidation) -> None:
        sec = event.ts_event // NS_PER_SECOND
        key = (event.venue, event.symbol)
        st = self._sat_state.get(key)
        if st is None:
            self._sat_state[key] = [sec, 1]
            return
        last, run = st
        if sec != last + 1:
            if sec > last:
                st[0], st[1] = sec, 1
            return
        st[0], st[1] = sec, run + 1
        rkey = (event.venue, event.asset)
        row = self._sat_rows.get(rkey)
        if row is None:
            row = self._sat.add_row()
            self._sat_rows[rkey] = row
            self._sat_keys.append(rkey)
        self._sat.add(row, event.ts_event, 2.0 if run == 1 else 1.0)

    # -- ticks ----------------------------------------------------------------------------------

    def on_tick(self, now_ns: int) -> list[Signal]:
        """Expire windows up to ``now_ns`` and emit every changed series.

        A window whose buckets did not change since the previous tick (see
        :meth:`RollingSums.window_key`) has the same figures, so it is not recomputed.
        """
        out: list[Signal] = []
        sums = self._sums
        sums.advance(now_ns)
        n = len(self.assets)
        keys = self._window_keys
        for wi, wlabel in enumerate(self._labels):
            key = sums.window_key(wi, now_ns)
            if keys[wi] != key:
                keys[wi] = key
                raw = sums.sums(wi, now_ns).tolist()
                m = _figures(raw, n)
                before = self._last_rows[wi]
                if m != before:
                    self._emit_window(out, m, before, wi, now_ns)
                    self._last_rows[wi] = m
                    self._last[wi][:] = m
                if not math.isfinite(sum(raw)):
                    # sums are >= 0, so a finite total means no inf or NaN figure; NaN never
                    # equals itself, so such figures are compared again next tick
                    keys[wi] = None
            self._series.emit(
                out,
                "liq_window_covered",
                ("window",),
                (wlabel,),
                1.0 if sums.covered(wi, now_ns) else 0.0,
                now_ns,
            )
        self._series.emit(out, "liq_coverage_share", (), (), self.config.coverage_share, now_ns)
        self._update_baseline(now_ns)
        one_minute = [row[2] for row in self._last_rows[self._w1m]]
        self._emit_burst(out, one_minute, now_ns)
        self._emit_saturation(out, now_ns)
        return out

    def _emit_window(
        self,
        out: list[Signal],
        m: list[list[float]],
        before: list[list[float]],
        wi: int,
        ts: int,
    ) -> None:
        ids = self._window_series(wi)
        n_before = len(before)
        for i, row in enumerate(m):
            old = before[i] if i < n_before else _NAN_ROW
            if row == old:  # no NaN is shared between the two (fresh floats): all equal
                continue
            row_ids = ids[i]
            for c, v in enumerate(row):
                if v != old[c]:
                    name, labels = row_ids[c]
                    out.append(Signal(name, labels, v, ts))

    def _window_series(self, wi: int) -> list[list[tuple[str, dict[str, str]]]]:
        """The (name, labels) of every asset row's columns in window ``wi``."""
        ids = self._series_ids[wi]
        wlabel = self._labels[wi]
        for asset in self.assets[len(ids) :]:
            ids.append(
                [
                    (
                        name,
                        {"asset": asset, "window": wlabel}
                        if side is None
                        else {"asset": asset, "side": side, "window": wlabel},
                    )
                    for name, side in _COLUMNS
                ]
            )
        return ids

    def _update_baseline(self, now_ns: int) -> None:
        cfg = self.config
        cur = now_ns // NS_PER_MINUTE
        if self._minute_done is None:
            self._minute_done = cur - 1
            return
        first = max(self._minute_done + 1, cur - cfg.baseline_minutes)
        if first > cur - 1:
            return
        n = len(self.assets)
        for minute in range(first, cur):
            try:
                raw = self._sums.total(minute * NS_PER_MINUTE, (minute + 1) * NS_PER_MINUTE)
            except ValueError:  # no longer held at 1-minute resolution: nothing recorded
                raw = np.zeros(4 * n)
            raw = raw.reshape(n, 4)
            usd = raw[:, 0] + raw[:, 1]
            usd[0] = usd[1:].sum()
            x = np.log1p(usd)
            warm = self._base_count >= cfg.min_baseline_minutes
            z = (x - self._med) / self._scale
            keep = ~warm | (z < cfg.burst_z)
            slot = minute % cfg.baseline_minutes
            col = self._base[:, slot]
            was = ~np.isnan(col)
            col[:] = np.where(keep, x, np.nan)
            self._base_count += keep.astype(np.int64) - was.astype(np.int64)
            self._refresh_stats()
            self._base_version += 1
        self._minute_done = cur - 1

    def _refresh_stats(self) -> None:
        rows = np.flatnonzero(self._base_count > 0)
        if rows.size == 0:
            return
        b = self._base[rows]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            med = np.nanmedian(b, axis=1)
            mad = np.nanmedian(np.abs(b - med[:, None]), axis=1)
        self._med[rows] = med
        self._scale[rows] = np.maximum(1.4826 * mad, self.config.min_scale)

    def _emit_burst(self, out: list[Signal], one_minute: list[float], ts: int) -> None:
        # z only moves with the last minute's volumes or the baseline: skip the tick otherwise
        key = (self._base_version, *one_minute)
        if key == self._burst_key:
            return
        self._burst_key = key if all(v == v for v in one_minute) else None
        warm = np.flatnonzero(self._base_count >= self.config.min_baseline_minutes)
        if warm.size == 0:
            return
        z = (np.log1p(np.asarray(one_minute)[warm]) - self._med[warm]) / self._scale[warm]
        for i, v in zip(warm.tolist(), z.tolist(), strict=True):
            self._series.emit(out, "liq_burst_z", ("asset",), (self.assets[i],), v, ts)

    def _emit_saturation(self, out: list[Signal], now_ns: int) -> None:
        if not self._sat_keys:
            return
        self._sat.advance(now_ns)
        key = self._sat.window_key(0, now_ns)
        if key == self._sat_key:
            return
        self._sat_key = key
        vals = self._sat.sums(0, now_ns).tolist()
        for (venue, asset), v in zip(self._sat_keys, vals, strict=True):
            self._series.emit(
                out, "liq_saturated_seconds", ("venue", "asset"), (venue, asset), v, now_ns
            )

    @property
    def late_events(self) -> int:
        """Liquidations that arrived for an already closed second (still summed if retained)."""
        return self._sums.late_events

    @property
    def dropped_events(self) -> int:
        """Liquidations older than every retained bucket (not summed)."""
        return self._sums.dropped_events

    # -- reads for other processors -------------------------------------------------------------

    def value(self, name: str, *labels: str) -> float | None:
        """Return the last emitted value of a series (labels in catalogue order), if any."""
        if name in ("liq_usd", "liq_count", "liq_long_share"):
            asset, *rest = labels
            i = self._asset_idx.get(asset)
            if i is None:
                return None
            wlabel = rest[-1]
            side = rest[0] if name != "liq_long_share" else None
            c = _COLUMNS.index((name, side))
            rows = self._last_rows[self._labels.index(wlabel)]
            v = rows[i][c] if i < len(rows) else math.nan  # rows of _last, as plain floats
            return None if v != v else v
        return self._series.get(name, *labels)

    # -- state ----------------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """Return the complete state as JSON-safe data."""
        return {
            "assets": list(self.assets),
            "sums": self._sums.snapshot(),
            "last": [pack_array(a, fill=np.nan) for a in self._last],
            "series": self._series.snapshot(),
            "sat": self._sat.snapshot(),
            "sat_keys": [list(k) for k in self._sat_keys],
            "sat_state": [[v, s, st[0], st[1]] for (v, s), st in self._sat_state.items()],
            "base": pack_array(self._base, fill=np.nan),
            "base_count": self._base_count.tolist(),
            "med": self._med.tolist(),
            "scale": self._scale.tolist(),
            "minute_done": self._minute_done,
            "rejected_events": self.rejected_events,
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Load a state written by :meth:`snapshot`."""
        self.assets = [str(a) for a in state["assets"]]
        self._asset_idx = {a: i for i, a in enumerate(self.assets)}
        self._sums.restore(state["sums"])
        self._last = [unpack_array(p) for p in state["last"]]
        self._series.restore(state["series"])
        self._sat.restore(state["sat"])
        self._sat_keys = [(str(v), str(a)) for v, a in state["sat_keys"]]
        self._sat_rows = {k: i for i, k in enumerate(self._sat_keys)}
        self._sat_state = {(str(v), str(s)): [int(a), int(b)] for v, s, a, b in state["sat_state"]}
        self._base = unpack_array(state["base"])
        self._base_count = np.asarray(state["base_count"], dtype=np.int64)
        self._med = np.asarray(state["med"], dtype=np.float64)
        self._scale = np.asarray(state["scale"], dtype=np.float64)
        md = state["minute_done"]
        self._minute_done = None if md is None else int(md)
        self.rejected_events = int(state["rejected_events"])
        self._last_rows = [a.tolist() for a in self._last]
        self._window_keys = [None for _ in self._labels]
        self._series_ids = [[] for _ in self._labels]
        self._burst_key = None
        self._sat_key = None
