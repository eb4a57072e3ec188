"""The composite ``deleveraging_score{asset}`` (0-100) built from the other processors' figures.

Each component maps a figure onto 0..1 with a linear ramp ``clip((x - lo) / (hi - lo), 0, 1)``
(anchors from the threshold ladder in ``reference/episodes-and-alerting.md`` section 1.10), and the
score is the weighted sum, weights adding up to 100:

==============  ======  =====================================================================
component       weight  figure (ramp from -> to)
==============  ======  =====================================================================
oi_drop         25      max(-oi_drawdown_pct 0 -> 35, -oi_change_pct{24h} 0 -> 15)
liq_burst       20      liq_burst_z 2 -> 8
liq_long_share  10      liq_long_share{1h} 0.5 -> 0.9 (0 while liq_usd{all,1h} is 0)
price_drop      25      max(-price_drawdown_pct 0 -> 36, -price_return_pct{1h} 0 -> 10)
funding         10      max(-funding_rate_8h{oi_weighted} -0.0001 -> 0.0003,
                        funding_negative_hours 0 -> 24)
peg_stress      10      max over coins of |peg_median_deviation_bps| 10 -> 300 (market-wide)
==============  ======  =====================================================================

A missing figure (no data yet, or a processor left out) contributes 0; the number of components
that had data is published as ``deleveraging_score_inputs{asset}`` (0..6) so a low score over
missing data reads as such. Each component is also published as
``deleveraging_component{asset,component}`` (0..1).

Place this processor last: it reads the values the others emitted on the same tick.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from streams.events import Event
from streams.processors._common import SeriesCache, SeriesValues
from streams.processors.peg import DEFAULT_PEG_COINS
from streams.signals import Signal

__all__ = ["DEFAULT_WEIGHTS", "CompositeConfig", "CompositeProcessor", "ValueSource", "ramp"]

DEFAULT_WEIGHTS: dict[str, float] = {
    "oi_drop": 25.0,
    "liq_burst": 20.0,
    "liq_long_share": 10.0,
    "price_drop": 25.0,
    "funding": 10.0,
    "peg_stress": 10.0,
}


class ValueSource(Protocol):
    """A processor that can report the last value it emitted for a series."""

    def value(self, name: str, *labels: str) -> float | None:
        """Return the last emitted value (labels in catalogue order), if any."""
        ...


def ramp(x: float, lo: float, hi: float) -> float:
    """Map ``x`` linearly from ``lo..hi`` onto ``0..1``, clipped."""
    if hi == lo:
        return 1.0 if x >= hi else 0.0
    return min(1.0, max(0.0, (x - lo) / (hi - lo)))


@dataclass(frozen=True)
class CompositeConfig:
    """Settings of :class:`CompositeProcessor`.

    Attributes:
        weights: component -> weight; must add up to 100.
        peg_coins: coins whose median deviation counts as peg stress.
    """

    weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    peg_coins: tuple[str, ...] = DEFAULT_PEG_COINS


class CompositeProcessor(SeriesValues):
    """Combine OI drop, liquidation burst and long share, drawdown, funding and peg stress.

    The assets scored are those listed by the ``assets`` attribute of the liquidation, open
    interest and price sources (``all`` excluded).

    Args:
        liquidations: source of ``liq_*`` values (e.g. the LiquidationProcessor).
        open_interest: source of ``oi_*`` values.
        price: source of ``price_*`` values.
        funding: source of ``funding_*`` values.
        peg: source of ``peg_*`` values.
        config: settings; defaults to :class:`CompositeConfig`.
    """

    name = "composite"
    event_types: tuple[type, ...] = ()

    def __init__(
        self,
        liquidations: ValueSource | None = None,
        open_interest: ValueSource | None = None,
        price: ValueSource | None = None,
        funding: ValueSource | None = None,
        peg: ValueSource | None = None,
        config: CompositeConfig | None = None,
    ) -> None:
        self.config = config or CompositeConfig()
        total = sum(self.config.weights.values())
        if abs(total - 100.0) > 1e-9 or set(self.config.weights) != set(DEFAULT_WEIGHTS):
            raise ValueError(f"weights must cover {sorted(DEFAULT_WEIGHTS)} and add up to 100")
        self._liq = liquidations
        self._oi = open_interest
        self._px = price
        self._fund = funding
        self._peg = peg
        self._assets: list[str] = []
        self._known: set[str] = set()
        self._series = SeriesCache()
        self._last_reads: dict[str, tuple[tuple[float | None, ...], ...]] = {}

    def on_event(self, event: Event) -> list[Signal]:
        """Ignore events: the score is computed on ticks."""
        return []

    def _discover(self) -> None:
        for src in (self._liq, self._oi, self._px):
            for a in getattr(src, "assets", ()):
                if a != "all" and a not in self._known:
                    self._known.add(a)
                    self._assets.append(a)

    def _reads(self, asset: str) -> tuple[float | None, ...]:
        """The figures of ``asset`` the components are computed from, in a fixed order."""
        oi, liq, px, fund = self._oi, self._liq, self._px, self._fund
        return (
            *(
                (None, None)
                if oi is None
                else (oi.value("oi_drawdown_pct", asset), oi.value("oi_change_pct", asset, "24h"))
            ),
            *(
                (None, None, None)
                if liq is None
                else (
                    liq.value("liq_burst_z", asset),
                    liq.value("liq_long_share", asset, "1h"),
                    liq.value("liq_usd", asset, "all", "1h"),
                )
            ),
            *(
                (None, None)
                if px is None
                else (
                    px.value("price_drawdown_pct", asset),
                    px.value("price_return_pct", asset, "1h"),
                )
            ),
            *(
                (None, None)
                if fund is None
                else (
                    fund.value("funding_rate_8h", asset, "oi_weighted"),
                    fund.value("funding_negative_hours", asset),
                )
            ),
        )

    def _peg_reads(self) -> tuple[float | None, ...]:
        """The market-wide figures (peg median deviations of the configured coins)."""
        peg = self._peg
        if peg is None:
            return tuple(None for _ in self.config.peg_coins)
        return tuple(peg.value("peg_median_deviation_bps", c) for c in self.config.peg_coins)

    @staticmethod
    def _combine(
        reads: tuple[float | None, ...], pegs: tuple[float | None, ...]
    ) -> dict[str, float | None]:
        dd, ch, z, share, usd, pdd, ret, fr, neg = reads
        comp: dict[str, float | None] = {}
        comp["oi_drop"] = _max_of(
            None if dd is None else ramp(-dd, 0.0, 35.0),
            None if ch is None else ramp(-ch, 0.0, 15.0),
        )
        comp["liq_burst"] = None if z is None else ramp(z, 2.0, 8.0)
        comp["liq_long_share"] = (
            None if share is None or usd is None else (ramp(share, 0.5, 0.9) if usd > 0 else 0.0)
        )
        comp["price_drop"] = _max_of(
            None if pdd is None else ramp(-pdd, 0.0, 36.0),
            None if ret is None else ramp(-ret, 0.0, 10.0),
        )
        comp["funding"] = _max_of(
            None if fr is None else ramp(-fr, -0.0001, 0.0003),
            None if neg is None else ramp(neg, 0.0, 24.0),
        )
        seen = [abs(d) for d in pegs if d is not None]
        comp["peg_stress"] = ramp(max(seen), 10.0, 300.0) if seen else None
        return comp

    def components(self, asset: str) -> dict[str, float | None]:
        """Return each component's 0..1 value for ``asset`` (None where no figure exists)."""
        return self._combine(self._reads(asset), self._peg_reads())

    def on_tick(self, now_ns: int) -> list[Signal]:
        """Score every known asset at ``now_ns`` and emit the changes.

        An asset whose figures all equal those of its previous tick has the same components
        and score, which were emitted then: it is skipped.
        """
        self._discover()
        out: list[Signal] = []
        emit = self._series.emit
        weights = self.config.weights
        pegs = self._peg_reads()
        for asset in self._assets:
            reads = self._reads(asset)
            key = (reads, pegs)
            if self._last_reads.get(asset) == key:
                continue
            self._last_reads[asset] = key
            comp = self._combine(reads, pegs)
            score = 0.0
            inputs = 0
            for cname, c in comp.items():
                if c is None:
                    continue
                inputs += 1
                score += weights[cname] * c
                emit(
                    out,
                    "deleveraging_component",
                    ("asset", "component"),
                    (asset, cname),
                    c,
                    now_ns,
                )
            emit(out, "deleveraging_score", ("asset",), (asset,), score, now_ns)
            emit(out, "deleveraging_score_inputs", ("asset",), (asset,), float(inputs), now_ns)
        return out

    def snapshot(self) -> dict[str, Any]:
        """Return the complete state as JSON-safe data."""
        return {"assets": list(self._assets), "series": self._series.snapshot()}

    def restore(self, state: dict[str, Any]) -> None:
        """Load a state written by :meth:`snapshot`."""
        self._assets = [str(a) for a in state["assets"]]
        self._known = set(self._assets)
        self._series.restore(state["series"])
        self._last_reads = {}


def _max_of(a: float | None, b: float | None) -> float | None:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)
