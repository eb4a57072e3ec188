"""The signal catalogue: every signal the default processors emit, its unit and its labels.

One source of truth for three readers: ``riskmon rules check`` (an unknown signal, label or label
value in a rule is an error), the alert texts (a signal's unit decides how ``{value_h}`` reads:
``$1.75B``, ``90%``, ``35 bps``) and ``docs/signals.md``, whose tables are generated from here
(:func:`markdown_tables`; ``riskmon rules signals --markdown``). A test replays a scenario and
checks that every emitted signal is listed with allowed label values.

A label's ``values`` is the closed set of values the default processors emit (windows, sides,
thresholds, components, channels); ``None`` means open (assets, venues, coins). The window and
threshold values are read from the processors' default configurations, so they cannot drift.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from streams.processors.composite import DEFAULT_WEIGHTS
from streams.processors.liquidations import LiquidationConfig
from streams.processors.open_interest import OpenInterestConfig
from streams.processors.peg import PegConfig
from streams.processors.price import PriceConfig

__all__ = [
    "CATALOGUE",
    "FAMILIES",
    "Family",
    "LabelSpec",
    "SignalSpec",
    "Unit",
    "check_labels",
    "markdown_tables",
    "render_doc",
    "signal_spec",
]

#: How a value reads (see alerts/format.py): usd ``$1.75B``, ratio ``90%`` (0..1), pct ``-4.5%``
#: (already in percent), rate ``0.0100%`` (a fraction per period, small), bps ``35 bps``,
#: seconds / hours ``9 h``, count ``1,234``, z ``3.5``, score ``72``, flag ``1``/``0``,
#: price ``81,792``.
Unit = Literal[
    "usd", "ratio", "pct", "rate", "bps", "seconds", "hours", "count", "z", "score", "flag", "price"
]

_UNIT_DOC: dict[str, str] = {
    "usd": "USD",
    "ratio": "fraction 0..1",
    "pct": "%",
    "rate": "fraction per 8 h (0.0001 = 0.01%)",
    "bps": "bps",
    "seconds": "s",
    "hours": "hours",
    "count": "count",
    "z": "z",
    "score": "0-100",
    "flag": "1/0",
    "price": "quote ccy",
}


@dataclass(frozen=True, slots=True)
class LabelSpec:
    """A label of a signal; ``values`` is the closed set emitted, ``None`` when open."""

    name: str
    values: tuple[str, ...] | None = None

    def doc(self) -> str:
        """``window (`1m`, `5m`)`` or ``asset``."""
        if self.values is None:
            return self.name
        return f"{self.name} ({', '.join(f'`{v}`' for v in self.values)})"


@dataclass(frozen=True, slots=True)
class SignalSpec:
    """One signal: name, unit, labels (in emission order) and what it means."""

    name: str
    unit: Unit
    labels: tuple[LabelSpec, ...]
    description: str
    unit_doc: str = ""

    def label(self, name: str) -> LabelSpec | None:
        """The label spec called ``name``, if the signal has it."""
        return next((lbl for lbl in self.labels if lbl.name == name), None)


@dataclass(frozen=True, slots=True)
class Family:
    """The signals of one processor (one table in docs/signals.md)."""

    key: str
    title: str
    signals: tuple[SignalSpec, ...]


def _windows(cfg_windows: tuple[tuple[str, int], ...]) -> tuple[str, ...]:
    return tuple(label for label, _ in cfg_windows)


_ASSET = LabelSpec("asset")
_VENUE = LabelSpec("venue")
_COIN = LabelSpec("coin")
_LIQ_WINDOW = LabelSpec("window", _windows(LiquidationConfig().windows))
_SIDE = LabelSpec("side", ("long", "short", "all"))
_OI_WINDOW = LabelSpec("window", _windows(OpenInterestConfig().windows))
_PX_WINDOW = LabelSpec("window", _windows(PriceConfig().windows))
_PEG_THRESHOLD = LabelSpec("threshold", tuple(f"{t:g}" for t in PegConfig().thresholds_bps))
_CHANNELS = ("trades", "liquidations", "funding", "open_interest", "quotes")

FAMILIES: tuple[Family, ...] = (
    Family(
        "liquidations",
        "Liquidations",
        (
            SignalSpec(
                "liq_usd",
                "usd",
                (_ASSET, _SIDE, _LIQ_WINDOW),
                "liquidated notional in the window; asset `all` sums every asset",
            ),
            SignalSpec(
                "liq_count",
                "count",
                (_ASSET, _SIDE, _LIQ_WINDOW),
                "number of liquidation events in the window",
            ),
            SignalSpec(
                "liq_long_share",
                "ratio",
                (_ASSET, _LIQ_WINDOW),
                "long USD / all USD; **0 when the window is empty** (read with `liq_usd`)",
            ),
            SignalSpec(
                "liq_burst_z",
                "z",
                (_ASSET,),
                "robust z of `log1p(liq_usd{side=all,window=1m})` vs median/MAD (scale = "
                "max(1.4826·MAD, 1.0)) of the trailing 240 completed minutes' `log1p` USD. A "
                "completed minute enters the baseline only if its z < 3.5 (bursts never pollute "
                "the baseline). Not emitted until 10 baseline minutes exist (during warm-up every "
                "minute enters)",
            ),
            SignalSpec(
                "liq_saturated_seconds",
                "seconds",
                (_VENUE, _ASSET),
                "over the trailing 1 h: seconds in which a capped venue (binance-usdm, "
                "binance-coinm, okx-swap: ≤ 1 liquidation per symbol per second) delivered "
                "liquidations for one symbol in ≥ 2 consecutive seconds (a run of k seconds counts "
                "k). Above 0 ⇒ that venue's totals are lower bounds",
            ),
            SignalSpec(
                "liq_window_covered",
                "flag",
                (_LIQ_WINDOW,),
                "1 once the processor has seen a whole window of event time",
            ),
            SignalSpec(
                "liq_coverage_share",
                "ratio",
                (),
                "the estimated share of whole-market (CoinGlass) liquidations the monitored feeds "
                "show: the configuration's venue factors ([coverage.md](coverage.md)), 1 against "
                "the simulator. The pack's USD liquidation thresholds are compared with "
                "`liq_usd` / this (`scale_by`)",
            ),
        ),
    ),
    Family(
        "open_interest",
        "Open interest",
        (
            SignalSpec(
                "oi_usd",
                "usd",
                (_ASSET, _VENUE),
                'sum of the venue\'s included instruments; `venue="all"` across included venues',
            ),
            SignalSpec(
                "oi_change_pct",
                "pct",
                (_ASSET, _OI_WINDOW),
                "change of the **same venues** at both ends",
            ),
            SignalSpec(
                "oi_drawdown_pct",
                "pct",
                (_ASSET,),
                "current total vs the peak of hourly totals of the **same venues** over 60 days "
                "(≤ 0, e.g. −35.0)",
            ),
            SignalSpec(
                "oi_drawdown_coverage",
                "ratio",
                (_ASSET,),
                "share of the current total that `oi_drawdown_pct` covers: venues whose hourly "
                "history is ≥ 90% as long as the longest venue's",
            ),
            SignalSpec("oi_complete", "flag", (_ASSET,), "1 when every known instrument is fresh"),
            SignalSpec("oi_venue_included", "flag", (_ASSET, _VENUE), "venue counted in the total"),
        ),
    ),
    Family(
        "price",
        "Price",
        (
            SignalSpec(
                "price_ref",
                "price",
                (_ASSET,),
                "median of fresh venues' latest price (trade price or funding mark), fresh = "
                "≤ 60 s old; no USDT→USD conversion",
            ),
            SignalSpec("price_venues", "count", (_ASSET,), "venues in the median"),
            SignalSpec(
                "price_drawdown_pct",
                "pct",
                (_ASSET,),
                "vs the highest reference price over 90 days (hourly maxima; ≤ 0)",
            ),
            SignalSpec(
                "price_return_pct",
                "pct",
                (_ASSET, _PX_WINDOW),
                "vs the reference price `window` ago (1 s buckets up to 15 min, 1 min to 24 h)",
            ),
        ),
    ),
    Family(
        "funding",
        "Funding",
        (
            SignalSpec(
                "funding_rate_8h",
                "rate",
                (_ASSET, _VENUE),
                "`rate · 8 / interval_h` (1h/4h/8h venues comparable), mean over the venue's "
                'instruments. `venue="oi_weighted"`: Σ rate·OI / Σ OI over fresh instruments with '
                "fresh OI (plain mean of venues if none has OI)",
            ),
            SignalSpec(
                "funding_rate_annual_pct",
                "pct",
                (_ASSET, _VENUE),
                "`rate_8h · 3 · 365 · 100` (simple; per year), venue `oi_weighted` included",
            ),
            SignalSpec(
                "funding_negative_hours",
                "hours",
                (_ASSET,),
                "continuous time the OI-weighted rate has been < 0 (0 otherwise)",
            ),
        ),
    ),
    Family(
        "peg",
        "Pegs",
        (
            SignalSpec(
                "peg_price",
                "price",
                (_COIN, _VENUE),
                "mid in USD; `X-USDT-SPOT` × USDT/USD reference (median of fresh USD-quoted USDT "
                "mids), same for any watched quote coin; a venue's USD pair wins over converted "
                "ones",
                unit_doc="USD",
            ),
            SignalSpec("peg_deviation_bps", "bps", (_COIN, _VENUE), "(price − 1) · 10 000"),
            SignalSpec(
                "peg_median_deviation_bps",
                "bps",
                (_COIN,),
                "median over fresh venues (quotes ≤ 2 min old)",
            ),
            SignalSpec("peg_venues", "count", (_COIN,), "fresh venues"),
            SignalSpec(
                "peg_venues_deviating",
                "count",
                (_COIN, _PEG_THRESHOLD),
                "fresh venues with \\|dev\\| ≥ threshold bps",
            ),
            SignalSpec(
                "peg_dislocation_bps",
                "bps",
                (_COIN, _VENUE),
                "venue's deviation − median of the *other* fresh venues (≥ 2 venues)",
            ),
            SignalSpec(
                "peg_max_dislocation_bps",
                "bps",
                (_COIN,),
                "the largest \\|dislocation\\| (signed)",
            ),
            SignalSpec(
                "peg_reference_fresh",
                "flag",
                (LabelSpec("quote"),),
                "0 when the quote coin's USD reference had no fresh venue and parity (1.0) was "
                "used",
            ),
            SignalSpec(
                "peg_via_rate",
                "price",
                (_COIN, _VENUE, LabelSpec("via")),
                "for a converted price only: the USD price of the coin it went through "
                '(`via="USDT"`), i.e. `peg_price` = mid × this',
                unit_doc="USD",
            ),
        ),
    ),
    Family(
        "feed_health",
        "Feed health",
        (
            SignalSpec(
                "feed_age_seconds",
                "seconds",
                (_VENUE, LabelSpec("channel", _CHANNELS)),
                "event time since the newest event (liquidations are sparse by design)",
            ),
            SignalSpec(
                "feed_up",
                "flag",
                (_VENUE, LabelSpec("channel", ("connection", *_CHANNELS))),
                "last FeedStatus: connected/subscribed/rotating = 1; "
                "connecting/stale/silent/disconnected/error = 0",
            ),
            SignalSpec(
                "feed_gaps_total",
                "count",
                (_VENUE,),
                "up → stale/silent/disconnected/error transitions",
            ),
            SignalSpec(
                "feed_reconnects_total",
                "count",
                (_VENUE,),
                "`connected` on the `connection` channel after the first",
            ),
        ),
    ),
    Family(
        "composite",
        "Composite",
        (
            SignalSpec(
                "deleveraging_score",
                "score",
                (_ASSET,),
                "Σ weight · component (0–100), see the components below",
            ),
            SignalSpec(
                "deleveraging_component",
                "ratio",
                (_ASSET, LabelSpec("component", tuple(DEFAULT_WEIGHTS))),
                "one component's ramp, 0..1",
            ),
            SignalSpec(
                "deleveraging_score_inputs",
                "count",
                (_ASSET,),
                "components that had data, 0..6 (a missing figure contributes 0)",
            ),
        ),
    ),
)

CATALOGUE: Mapping[str, SignalSpec] = {s.name: s for f in FAMILIES for s in f.signals}


def signal_spec(name: str) -> SignalSpec | None:
    """The catalogue entry of a signal, or None when no processor emits it."""
    return CATALOGUE.get(name)


def check_labels(name: str, labels: Mapping[str, str]) -> list[str]:
    """Problems with an emitted series: unknown signal, missing or unknown label, bad value."""
    spec = CATALOGUE.get(name)
    if spec is None:
        return [f"unknown signal {name!r}"]
    problems = []
    names = {lbl.name for lbl in spec.labels}
    if set(labels) != names:
        problems.append(f"{name}: labels {sorted(labels)}, catalogue {sorted(names)}")
    for lbl in spec.labels:
        v = labels.get(lbl.name)
        if v is not None and lbl.values is not None and v not in lbl.values:
            problems.append(f"{name}: {lbl.name}={v!r} not in {list(lbl.values)}")
    return problems


def markdown_tables() -> dict[str, str]:
    """Each family's table for docs/signals.md, keyed by family (``liquidations``, ...)."""
    out: dict[str, str] = {}
    for fam in FAMILIES:
        rows = ["| signal | labels | unit | meaning |", "|---|---|---|---|"]
        for s in fam.signals:
            labels = ", ".join(lbl.doc() for lbl in s.labels) or "(none)"
            unit = s.unit_doc or _UNIT_DOC[s.unit]
            rows.append(f"| `{s.name}` | {labels} | {unit} | {s.description} |")
        out[fam.key] = "\n".join(rows)
    return out


def _markers(key: str) -> tuple[str, str]:
    return f"<!-- signals:{key} (generated: riskmon rules signals --write-doc) -->", (
        f"<!-- /signals:{key} -->"
    )


def render_doc(text: str) -> str:
    """``text`` (docs/signals.md) with every generated table replaced by the catalogue's.

    Raises:
        ValueError: a family's markers are missing from ``text``.
    """
    for key, table in markdown_tables().items():
        begin, end = _markers(key)
        i, j = text.find(begin), text.find(end)
        if i < 0 or j < i:
            raise ValueError(f"docs/signals.md lacks the markers {begin} ... {end}")
        text = text[: i + len(begin)] + "\n" + table + "\n" + text[j:]
    return text
