"""Funding rates: 8-hour equivalents per venue, OI-weighted across venues, annualised.

Signals (see ``docs/signals.md``):

- ``funding_rate_8h{asset,venue}``: the venue's rate normalised to 8 hours, as a fraction
  (0.0001 = 0.01% per 8 h): ``rate * 8 / interval_h`` recomputed from each update, so 1 h, 4 h and
  8 h venues compare directly. A venue with several instruments of the asset gets their mean.
- ``funding_rate_8h{asset,venue="oi_weighted"}``: sum(rate_8h * OI USD) / sum(OI USD) over fresh
  instruments that also have a fresh open interest (from ``OpenInterest`` events); if none has,
  the plain mean of the venues' rates.
- ``funding_rate_annual_pct{asset,venue}`` (also ``oi_weighted``): ``rate_8h * 3 * 365 * 100``,
  simple (not compounded) annualisation in percent.
- ``funding_negative_hours{asset}``: hours the OI-weighted rate has been negative without
  interruption (0 when it is not negative), measured on ticks.

An update is fresh for ``stale_ns`` (15 min); open interest for ``oi_stale_ns`` (15 min).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from streams.events import Event, Funding, OpenInterest
from streams.processors._common import SeriesCache, SeriesValues, keep_latest
from streams.signals import Signal
from streams.units import NS_PER_HOUR, NS_PER_MINUTE

__all__ = ["FundingConfig", "FundingProcessor", "annualise_pct"]

_ANNUAL = 3.0 * 365.0 * 100.0


def annualise_pct(rate_8h: float) -> float:
    """Return the simple annual percentage of an 8-hour funding rate."""
    return rate_8h * _ANNUAL


@dataclass(frozen=True)
class FundingConfig:
    """Settings of :class:`FundingProcessor`.

    Attributes:
        stale_ns: a funding update older than this is left out.
        oi_stale_ns: an open-interest weight older than this is left out.
    """

    stale_ns: int = 15 * NS_PER_MINUTE
    oi_stale_ns: int = 15 * NS_PER_MINUTE


class FundingProcessor(SeriesValues):
    """Funding rates normalised to 8 hours and weighted by open interest.

    Args:
        config: settings; defaults to :class:`FundingConfig`.
    """

    name = "funding"
    event_types = (Funding, OpenInterest)

    def __init__(self, config: FundingConfig | None = None) -> None:
        self.config = config or FundingConfig()
        # (venue, instrument) -> [asset, rate_8h, ts]
        self._rates: dict[tuple[str, str], list[Any]] = {}
        # (venue, instrument) -> [usd, ts]
        self._oi: dict[tuple[str, str], list[float]] = {}
        self._neg_since: dict[str, int] = {}
        self._series = SeriesCache()
        # The figures depend on the fresh rates and weights, and on event time only through
        # ``funding_negative_hours`` while a rate is negative: with no new event, nothing gone
        # stale and no negative rate since the last computed tick, a tick would emit nothing.
        self._changed = True
        self._computed_at = 0
        self._fresh_until = 0

    def on_event(self, event: Event) -> list[Signal]:
        """Store the latest rate or open-interest weight; signals follow on the next tick."""
        cls = type(event)
        key = (event.venue, event.instrument)
        ts = event.ts_event
        if cls is Funding:
            ev: Funding = event  # type: ignore[assignment]
            r8 = ev.rate * 8.0 / ev.interval_h if ev.interval_h > 0 else ev.rate_8h
            if r8 != r8:
                return []
            rec = self._rates.get(key)
            if rec is None:
                self._rates[key] = [ev.asset, r8, ts]
            elif ts >= rec[2]:
                rec[1] = r8
                rec[2] = ts
        elif cls is OpenInterest:
            keep_latest(self._oi, key, event.notional_usd, ts)  # type: ignore[union-attr]
        else:
            return []
        self._changed = True
        return []

    def on_tick(self, now_ns: int) -> list[Signal]:
        """Compute per-venue and weighted rates at ``now_ns`` and emit the changed figures."""
        cfg = self.config
        if (
            not self._changed
            and not self._neg_since
            and self._computed_at <= now_ns <= self._fresh_until
        ):
            return []
        self._changed = False
        self._computed_at = now_ns
        stale = now_ns - cfg.stale_ns
        oi_stale = now_ns - cfg.oi_stale_ns
        fresh_until = now_ns + min(cfg.stale_ns, cfg.oi_stale_ns)
        # asset -> venue -> [sum of rates, n]; asset -> [sum rate*oi, sum oi]
        per_venue: dict[str, dict[str, list[float]]] = {}
        weighted: dict[str, list[float]] = {}
        for key, (asset, r8, ts) in self._rates.items():
            if ts < stale:
                continue
            fresh_until = min(fresh_until, ts + cfg.stale_ns)
            acc = per_venue.setdefault(asset, {}).setdefault(key[0], [0.0, 0.0])
            acc[0] += r8
            acc[1] += 1.0
            o = self._oi.get(key)
            if o is not None and o[1] >= oi_stale:
                fresh_until = min(fresh_until, int(o[1]) + cfg.oi_stale_ns)
            if o is not None and o[1] >= oi_stale and o[0] > 0.0:
                w = weighted.setdefault(asset, [0.0, 0.0])
                w[0] += r8 * o[0]
                w[1] += o[0]
        self._fresh_until = fresh_until
        out: list[Signal] = []
        emit = self._series.emit
        keys = ("asset", "venue")
        for asset, venues in per_venue.items():
            rates: list[float] = []
            for venue, (total, n) in venues.items():
                r = total / n
                rates.append(r)
                emit(out, "funding_rate_8h", keys, (asset, venue), r, now_ns)
                emit(out, "funding_rate_annual_pct", keys, (asset, venue), annualise_pct(r), now_ns)
            ws = weighted.get(asset)
            wr = ws[0] / ws[1] if ws is not None and ws[1] > 0.0 else sum(rates) / len(rates)
            emit(out, "funding_rate_8h", keys, (asset, "oi_weighted"), wr, now_ns)
            emit(
                out,
                "funding_rate_annual_pct",
                keys,
                (asset, "oi_weighted"),
                annualise_pct(wr),
                now_ns,
            )
            if wr < 0.0:
                since = self._neg_since.setdefault(asset, now_ns)
                hours = (now_ns - since) / NS_PER_HOUR
            else:
                self._neg_since.pop(asset, None)
                hours = 0.0
            emit(out, "funding_negative_hours", ("asset",), (asset,), hours, now_ns)
        return out

    def snapshot(self) -> dict[str, Any]:
        """Return the complete state as JSON-safe data."""
        return {
            "rates": [[v, i, *rec] for (v, i), rec in self._rates.items()],
            "oi": [[v, i, *rec] for (v, i), rec in self._oi.items()],
            "neg_since": dict(self._neg_since),
            "series": self._series.snapshot(),
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Load a state written by :meth:`snapshot`."""
        self._rates = {
            (str(v), str(i)): [str(a), float(r), int(ts)] for v, i, a, r, ts in state["rates"]
        }
        self._oi = {(str(v), str(i)): [float(u), int(ts)] for v, i, u, ts in state["oi"]}
        self._neg_since = {str(a): int(t) for a, t in state["neg_since"].items()}
        self._series.restore(state["series"])
        self._changed = True
