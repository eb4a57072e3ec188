"""The multi-venue market model behind the episode scenarios.

An episode is described as a :class:`MarketSpec`: paths (:mod:`.paths`: anchors in UTC,
interpolated) for each asset's price, market open interest and funding, the market's liquidation
rate and long share, and each stablecoin's price per venue, over the listings of
:mod:`.listings`. :class:`MarketScenario` turns a spec and a seed into

- a stream of normalized events across every simulated venue, at a coarse cadence outside the
  spec's dense windows (a trade every 15 s, funding and open interest every 30 s, stablecoin
  quotes every 20 s per listing) and a fine one inside (2 s, 10 s, 5 s; liquidations every
  second), so that every data channel stays fresh for the feed-health rules;
- a :class:`~monitor.simulator.scenarios.base.Backfill` of hourly price and open-interest history
  (per minute over the last day) from ``backfill_start`` to ``start``, which the daemon loads on
  start-up instead of weeks of streamed ticks.

Scaling. The simulated derivatives venues stand for the whole market: the market's open interest
and liquidation amounts (CoinGlass aggregates, reference §1) are split over them by the shares in
:data:`~.listings.DEFAULT_PERPS`, so the rule pack's market-wide USD ladder applies unchanged.
Hyperliquid publishes no liquidation feed, so its share of liquidations is carried by the other
venues. BTC and ETH carry the liquidations of every asset (the split is a spec field).

Coverage. With ``coverage`` (venue → factor, :mod:`streams.coverage`) the scenario renders only
what those feeds show of the whole market: each venue's liquidations are the market's times its
factor (split over its listings of an asset by their shares), instead of the whole market split
over the venues. ``riskmon backtest --coverage live`` plays an episode so, with the default live
configuration's factors, and runs the pipeline at the matching ``liq_coverage_share``.

Venue caps. Every listing sends at most one liquidation per second (Binance ``forceOrder`` and
OKX push one per symbol per second; the other venues are held to the same cap so the stream
looks alike everywhere): when the rate needs more, each event carries more USD.

Only symbols present in a venue's packaged instruments (or the spec's ``extra_instruments``) are
published; anything else would be skipped by the parser.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

import structlog

from monitor.instruments import Instrument
from monitor.simulator.scenarios.base import Backfill, ScenarioInfo
from monitor.simulator.scenarios.listings import DEFAULT_PERPS, DEFAULT_SPOTS, Listing, Perp, Spot
from monitor.simulator.scenarios.paths import Noise, Path
from monitor.venues import get_venue, packaged_instruments
from streams.events import Event, Funding, Liquidation, OpenInterest, Quote, TakerSide, Trade
from streams.units import NS_PER_HOUR, NS_PER_MINUTE, NS_PER_SECOND

__all__ = ["MarketScenario", "MarketSpec"]

log = structlog.get_logger(__name__)

DEMO_WALL_S = 120.0
#: relative s.d. of the smooth price noise, unless a spec says otherwise
_PRICE_NOISE = {"BTC": 0.003, "ETH": 0.004}

_DERIV_CHANNELS = ("trades", "liquidations", "funding", "open_interest")
_SPOT_CHANNELS = ("quotes",)


@dataclass
class MarketSpec:
    """One episode, as paths over time.

    Attributes:
        name: scenario id.
        description: one paragraph.
        start: first streamed event (UTC text or ns).
        end: end of the stream.
        backfill_start: beginning of the backfilled history (hourly).
        worst: the episode's worst point (lead times are measured against it).
        price: asset → price path (USD).
        oi: asset → market open interest (USD).
        funding: asset → funding rate per 8 h (fraction: 0.0001 = 0.01%).
        liq_usd_h: market liquidations, USD per hour, all assets and sides.
        long_share: share of liquidated USD that is long positions (0..1).
        liq_split: asset → share of the market's liquidations it carries (sums to 1).
        pegs: coin → market USD price path (default 1.0).
        peg_venue: ``(coin, venue)`` → a venue's own USD price path (overrides ``pegs``).
        peg_noise_bps: coin → s.d. of the smooth per-venue deviation noise, in bps.
        price_noise: asset → relative s.d. of the smooth price noise (default: BTC 0.3%,
            ETH 0.4%, any other asset 0.3%).
        dense: ``(start, end)`` windows streamed at the fine cadence.
        silent: ``(venue, start, end)``: the venue sends nothing (a glitch).
        liq_size_usd: typical size of one liquidation in calm periods.
        calm_periods: outside dense windows, one trade, one funding and open-interest update,
            and one quote per listing every so many 5-second steps (default 15 s, 30 s, 20 s).
        perps: the derivatives listings.
        spots: the stablecoin listings.
        extra_instruments: venue → instruments its packaged snapshot lacks.
        notes: amounts and caveats for the report.
    """

    name: str
    description: str
    start: int
    end: int
    backfill_start: int
    worst: int | None
    price: dict[str, Path]
    oi: dict[str, Path]
    funding: dict[str, Path]
    liq_usd_h: Path
    long_share: Path
    liq_split: dict[str, float]
    pegs: dict[str, Path] = field(default_factory=dict)
    peg_venue: dict[tuple[str, str], Path] = field(default_factory=dict)
    peg_noise_bps: dict[str, float] = field(default_factory=dict)
    price_noise: dict[str, float] = field(default_factory=lambda: dict(_PRICE_NOISE))
    dense: list[tuple[int, int]] = field(default_factory=list)
    silent: list[tuple[str, int, int]] = field(default_factory=list)
    liq_size_usd: float = 25_000.0
    calm_periods: tuple[int, int, int] = (3, 6, 4)
    perps: tuple[Perp, ...] = DEFAULT_PERPS
    spots: tuple[Spot, ...] = DEFAULT_SPOTS
    extra_instruments: dict[str, list[Instrument]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


class _PerpFeed(NamedTuple):
    """A perp listing the scenario publishes, with its normalized shares."""

    perp: Perp
    listing: Listing
    oi_share: float  # of the asset's market open interest
    liq_share: float  # of the asset's market liquidations (0: the venue publishes none)


class MarketScenario:
    """A :class:`MarketSpec` played from a seed: events and backfill, both deterministic.

    Args:
        spec: the episode.
        seed: the random seed (noise, sizes, sides, timing jitter).
        coverage: venue → share of the whole market's liquidations its feed shows; None: the
            venues stand for the whole market.
    """

    def __init__(
        self, spec: MarketSpec, seed: int = 7, coverage: Mapping[str, float] | None = None
    ) -> None:
        self.spec = spec
        self.seed = seed
        self.coverage = None if coverage is None else dict(coverage)
        known: dict[str, dict[str, Instrument]] = {}
        for venue in {p.venue for p in spec.perps} | {s.venue for s in spec.spots}:
            table = {i.symbol: i for i in packaged_instruments(venue)}
            table.update({i.symbol: i for i in spec.extra_instruments.get(venue, [])})
            known[venue] = table

        def listing(venue: str, symbol: str, asset: str) -> Listing | None:
            inst = known[venue].get(symbol)
            if inst is None:
                log.warning("scenario.symbol_unknown", venue=venue, symbol=symbol)
                return None
            return Listing(venue, inst.symbol, inst.instrument, asset)

        oi_tot: dict[str, float] = {}
        liq_tot: dict[str, float] = {}
        venue_liq: dict[tuple[str, str], float] = {}  # (asset, venue) -> liquidation share
        usable_perps = []
        for p in spec.perps:
            lst = listing(p.venue, p.symbol, p.asset)
            if lst is None:
                continue
            has_liq = "liquidations" in get_venue(p.venue).channels
            usable_perps.append((p, lst, has_liq))
            oi_tot[p.asset] = oi_tot.get(p.asset, 0.0) + p.oi_share
            if has_liq:
                liq_tot[p.asset] = liq_tot.get(p.asset, 0.0) + p.liq_share
                key = (p.asset, p.venue)
                venue_liq[key] = venue_liq.get(key, 0.0) + p.liq_share
        self._perps: list[_PerpFeed] = []
        for p, lst, has_liq in usable_perps:
            liq = p.liq_share / liq_tot[p.asset] if has_liq and liq_tot.get(p.asset) else 0.0
            if coverage is not None:
                within = venue_liq.get((p.asset, p.venue), 0.0)
                liq = coverage.get(p.venue, 0.0) * p.liq_share / within if within else 0.0
            self._perps.append(_PerpFeed(p, lst, p.oi_share / oi_tot[p.asset], liq))
        self._spots: list[tuple[Spot, Listing]] = []
        for s in spec.spots:
            lst = listing(s.venue, s.symbol, s.coin)
            if lst is not None:
                self._spots.append((s, lst))
        symbols: dict[str, list[str]] = {}
        channels: dict[str, list[str]] = {}
        for feed in self._perps:
            venue = feed.perp.venue
            symbols.setdefault(venue, []).append(feed.listing.symbol)
            have = get_venue(venue).channels
            channels[venue] = [c for c in _DERIV_CHANNELS if c in have]
        for s, lst in self._spots:
            symbols.setdefault(s.venue, []).append(lst.symbol)
            channels[s.venue] = list(_SPOT_CHANNELS)
        self.info = ScenarioInfo(
            name=spec.name,
            description=spec.description,
            start_ns=spec.start,
            end_ns=spec.end,
            symbols={v: sorted(set(s)) for v, s in symbols.items()},
            worst_ns=spec.worst,
            notes=list(spec.notes) + self._coverage_notes(),
            channels=channels,
            extra_instruments={v: list(i) for v, i in spec.extra_instruments.items()},
            demo_speed=max(1.0, round((spec.end - spec.start) / NS_PER_SECOND / DEMO_WALL_S)),
            backfill_start_ns=spec.backfill_start,
            silent=list(spec.silent),
        )
        lo, hi = spec.backfill_start, spec.end
        self._px_noise = {
            a: (
                Noise(seed, f"px-slow-{a}", lo, hi, 7200),
                Noise(seed, f"px-fast-{a}", lo, hi, 600),
            )
            for a in spec.price
        }
        self._oi_noise = {
            (p.venue, p.asset): Noise(seed, f"oi-{p.venue}-{p.asset}", lo, hi, 3 * 3600)
            for p, *_ in self._perps
        }
        self._fund_noise = {
            (p.venue, p.asset): Noise(seed, f"fr-{p.venue}-{p.asset}", lo, hi, 2 * 3600)
            for p, *_ in self._perps
        }
        self._liq_noise = Noise(seed, "liq", lo, hi, 900)
        self._peg_noise = {
            (s.coin, s.venue): Noise(seed, f"peg-{s.coin}-{s.venue}", lo, hi, 1800)
            for s, _ in self._spots
        }

    # ------------------------------------------------------------------ paths

    def price(self, asset: str, t: int) -> float:
        """The reference price of ``asset`` at ``t`` (path times smooth noise)."""
        amp = self.spec.price_noise.get(asset, 0.003)
        slow, fast = self._px_noise[asset]
        return self.spec.price[asset](t) * (1.0 + amp * (0.8 * slow(t) + 0.35 * fast(t)))

    def _coverage_notes(self) -> list[str]:
        if self.coverage is None:
            return []
        shown = ", ".join(f"{v} {f:.0%}" for v, f in sorted(self.coverage.items()) if f > 0)
        return [
            "Coverage variant: only the liquidations the configured feeds show are rendered "
            f"({shown} of the whole market; {sum(self.coverage.values()):.0%} in all)."
        ]

    def oi_usd(self, asset: str, venue: str, share: float, t: int) -> float:
        """The open interest of one listing at ``t``."""
        return self.spec.oi[asset](t) * share * (1.0 + 0.004 * self._oi_noise[(venue, asset)](t))

    def liq_rate_usd_s(self, t: int) -> float:
        """Market liquidations at ``t``, USD per second (path times noise)."""
        return self.spec.liq_usd_h(t) / 3600.0 * math.exp(0.35 * self._liq_noise(t) - 0.06)

    def peg(self, coin: str, venue: str, t: int) -> float:
        """The USD price of ``coin`` on ``venue`` at ``t``."""
        path = self.spec.peg_venue.get((coin, venue)) or self.spec.pegs.get(coin)
        base = path(t) if path is not None else 1.0
        noise = self._peg_noise.get((coin, venue))
        bps = self.spec.peg_noise_bps.get(coin, 3.0) * (noise(t) if noise is not None else 0.0)
        return base + bps / 10_000.0

    def usdt_usd(self, t: int) -> float:
        """The market USD price of USDT (converts USDT-quoted books)."""
        path = self.spec.pegs.get("USDT")
        return path(t) if path is not None else 1.0

    @property
    def _calm_periods(self) -> tuple[int, int, int]:
        """Trade, funding/OI and quote periods outside dense windows, in 5-s steps."""
        return self.spec.calm_periods

    def _dense(self, t: int) -> bool:
        return any(a <= t < b for a, b in self.spec.dense)

    def _silent(self, venue: str, t: int) -> bool:
        return any(v == venue and a <= t < b for v, a, b in self.spec.silent)

    # ------------------------------------------------------------------ events

    def events(self) -> Iterator[Event]:
        """Yield the scenario's events in event-time order."""
        rng = random.Random(self.seed)
        t = self.spec.start
        while t < self.spec.end:
            step_s = 1 if self._dense(t) else 5
            batch: list[Event] = []
            self._step(rng, t, step_s, batch)
            batch.sort(key=lambda e: e.ts_event)
            yield from batch
            t += step_s * NS_PER_SECOND

    def _step(self, rng: random.Random, t: int, step_s: int, out: list[Event]) -> None:
        dense = step_s == 1
        sec = t // NS_PER_SECOND
        k = sec // step_s
        trade_p, slow_p, quote_p = (2, 10, 5) if dense else self._calm_periods  # in steps
        px_cache: dict[str, float] = {}
        step_ns = step_s * NS_PER_SECOND
        for i, (p, lst, oi_share, liq_share) in enumerate(self._perps):
            if self._silent(p.venue, t):
                continue
            ref = px_cache.get(p.asset)
            if ref is None:
                ref = px_cache[p.asset] = self.price(p.asset, t)
            px = ref * (1.0 + p.basis_bps / 10_000.0)
            if (k + i) % trade_p == 0:
                tt = t + rng.randrange(step_ns // 2)
                tpx = _round_px(px * (1.0 + rng.gauss(0.0, 0.00004)))
                usd = 25_000.0 * math.exp(rng.gauss(0.0, 1.0))
                size = _round_size(usd / tpx)
                side: TakerSide = "sell" if rng.random() < 0.5 else "buy"
                out.append(
                    Trade(
                        **lst.header(tt, tt),
                        price=tpx,
                        size=size,
                        notional_usd=size * tpx,
                        side=side,
                    )
                )
            if (k + i) % slow_p == 0:
                tf = t + step_ns // 2
                r8 = self.spec.funding[p.asset](t) + 0.000004 * self._fund_noise[
                    (p.venue, p.asset)
                ](t)
                iv = p.funding_interval_h
                iv_ns = int(iv * NS_PER_HOUR)
                out.append(
                    Funding(
                        **lst.header(tf, tf),
                        rate=round(r8 * iv / 8.0, 9),
                        interval_h=iv,
                        rate_8h=round(r8, 9),
                        mark_price=_round_px(px),
                        next_funding_ts=(tf // iv_ns + 1) * iv_ns,
                    )
                )
                to = t + step_ns * 3 // 4
                usd = self.oi_usd(p.asset, p.venue, oi_share, t)
                size = round(usd / px, 4)
                out.append(OpenInterest(**lst.header(to, to), size=size, notional_usd=size * px))
            if liq_share > 0.0:
                self._liquidations(rng, t, step_s, px, liq_share, lst, out)
        for j, (s, lst) in enumerate(self._spots):
            if self._silent(s.venue, t) or (k + j) % quote_p != 0:
                continue
            tq = t + rng.randrange(step_ns)
            usd = self.peg(s.coin, s.venue, t) + rng.gauss(0.0, 0.00005)
            mid = usd if s.quote == "USD" else usd / self.usdt_usd(t)
            half = mid * 0.00005
            out.append(
                Quote(
                    **lst.header(tq, tq),
                    bid=round(mid - half, 6),
                    ask=round(mid + half, 6),
                    bid_size=round(rng.uniform(2e5, 3e6)),
                    ask_size=round(rng.uniform(2e5, 3e6)),
                )
            )

    def _liquidations(
        self,
        rng: random.Random,
        t: int,
        step_s: int,
        px: float,
        share: float,
        lst: Listing,
        out: list[Event],
    ) -> None:
        expected = self.liq_rate_usd_s(t) * self.spec.liq_split.get(lst.asset, 0.0) * share * step_s
        if expected <= 0.0:
            return
        m0 = self.spec.liq_size_usd
        lam = expected / m0
        if lam >= step_s:
            seconds = list(range(step_s))
            each = expected / step_s
        else:
            n = min(_poisson(rng, lam), step_s)
            seconds = sorted(rng.sample(range(step_s), n))
            each = m0
        long_share = self.spec.long_share(t)
        for s in seconds:
            usd = each * math.exp(rng.gauss(0.0, 0.8) - 0.32)
            long = rng.random() < long_share
            lpx = _round_px(px * (0.9993 if long else 1.0007))
            size = _round_size(usd / lpx)
            if size <= 0.0:
                continue
            tl = t + s * NS_PER_SECOND + rng.randrange(50_000_000, 950_000_000)
            out.append(
                Liquidation(
                    **lst.header(tl, tl),
                    price=lpx,
                    size=size,
                    notional_usd=size * lpx,
                    side="long" if long else "short",
                )
            )

    # ------------------------------------------------------------------ backfill

    def backfill(self) -> Backfill:
        """Hourly price and open-interest history before ``start`` (per minute over its last day).

        Open interest is per (asset, venue) with the same shares and noise as the stream, so the
        60-day peak is computed over the same venues the stream then reports.
        """
        spec = self.spec
        times = _backfill_times(spec.backfill_start, spec.start)
        price = {a: [(t, round(self.price(a, t), 2)) for t in times] for a in spec.price}
        oi: dict[tuple[str, str], list[tuple[int, float]]] = {}
        for p, _lst, share, _ in self._perps:
            oi[(p.asset, p.venue)] = [
                (t, round(self.oi_usd(p.asset, p.venue, share, t), 0)) for t in times
            ]
        return Backfill(price=price, open_interest=oi)


def _backfill_times(start: int, end: int) -> list[int]:
    """Whole hours from ``start``, then whole minutes over the last day before ``end``."""
    hour, minute = NS_PER_HOUR, NS_PER_MINUTE
    first = -(-start // hour) * hour
    day = end - 24 * hour
    out = list(range(first, min(day, end), hour))
    out.extend(range(max(first, -(-day // minute) * minute), end, minute))
    return out


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0.0:
        return 0
    if lam > 30.0:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit = math.exp(-lam)
    k, prod = 0, rng.random()
    while prod > limit:
        k += 1
        prod *= rng.random()
    return k


def _round_px(x: float) -> float:
    return round(x, 2) if x >= 100.0 else round(x, 5)


def _round_size(x: float) -> float:
    return round(x, 6)
