"""The stream ``bench_feeds.py`` times: each venue's native frames, rendered offline.

A seeded generator (:class:`StreamGen`) emits normalized events in live-like proportions (trades
dominate; then quotes, funding/mark, liquidations, open interest; spot venues carry trades and
quotes only) and the venue's simulator (``monitor.simulator``) renders them as the frames the
daemon receives (:func:`build_frames`; for Binance USD-M, open interest as the
``/fapi/v1/openInterest`` REST bodies the daemon polls and hands to the same parser).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import orjson

from monitor.instruments import Instrument, InstrumentRegistry
from monitor.venues.base import Channel, VenueSpec
from streams.events import Event, Funding, Liquidation, OpenInterest, Quote, Trade
from streams.units import NS_PER_HOUR as H
from streams.units import NS_PER_SECOND as S

T0 = 1_763_713_800 * S  # 2025-11-21 08:30 UTC, the cascade morning
BINANCE = "binance-usdm"

#: live-like share of each channel in a derivatives / spot stream (renormalized per venue)
MIX_DERIVATIVES: dict[Channel, float] = {
    "trades": 0.80,
    "quotes": 0.08,
    "funding": 0.07,
    "liquidations": 0.03,
    "open_interest": 0.02,
}
MIX_SPOT: dict[Channel, float] = {"trades": 0.65, "quotes": 0.35}

#: reference prices (late Nov 2025); stablecoins and unknown bases hover around 1.0
PRICES = {
    "BTC": 85_000.0,
    "ETH": 2_950.0,
    "SOL": 130.0,
    "XRP": 2.05,
    "BNB": 850.0,
    "DOGE": 0.15,
    "HYPE": 35.0,
    "ADA": 0.42,
}
MEAN_GAP_NS = 2_000_000  # ~500 frames/s of event time per venue


def _keep_all(topic: str) -> bool:
    return True


#: which of a simulator's (topic, frame) pairs the daemon's default subscriptions receive
TOPIC_FILTERS: dict[str, Callable[[str], bool]] = {
    # per-symbol streams only (cryptofeed cannot read the ``!markPrice@arr`` array frames)
    BINANCE: lambda t: not t.startswith("!"),
    "deribit": lambda t: t.endswith(".100ms"),  # riskmon subscribes at 100ms, not agg2
    "bitmex": lambda t: ":" in t,  # per-symbol topics (the same frame as the table topic)
}


@dataclass
class _SymState:
    inst: Instrument
    price: float
    oi: float  # base units
    weight: float


def _price_decimals(price: float) -> int:
    return min(8, max(1, 6 - math.ceil(math.log10(price))))


def _size_decimals(price: float) -> int:
    return min(8, max(0, math.ceil(math.log10(price)) - 2))


class StreamGen:
    """Seeded normalized events for one venue, in event-time order, live-like proportions."""

    def __init__(
        self, spec: VenueSpec, registry: InstrumentRegistry, seed: int, mix: dict[Channel, float]
    ) -> None:
        self.venue = spec.venue
        self.rng = random.Random(f"{seed}:{spec.venue}")
        syms = [s for s in spec.default_symbols if s in registry] or [
            i.symbol for i in registry.all()
        ]
        self.state: list[_SymState] = []
        for rank, sym in enumerate(syms):
            inst = registry.get(sym)
            assert inst is not None
            price = PRICES.get(inst.base, 1.0)
            weight = 1.0 / (rank + 1)  # BTC first and busiest
            oi = 4e9 * weight / price
            self.state.append(_SymState(inst, price, oi, weight))
        self.weights = [s.weight for s in self.state]
        chans = [c for c in mix if c in spec.channels]
        self.channels: list[Channel] = chans
        self.mix = [mix[c] for c in chans]

    def events(self) -> Iterator[Event]:
        """Yield events forever: a warm-up snapshot per symbol, then the live-like mix."""
        t = T0
        for st in self.state:  # what a fresh connection sees first: book, mark/funding, OI
            for ch in ("quotes", "funding", "open_interest"):
                if ch in self.channels:
                    t += 1_000_000
                    yield self._event(ch, st, t)
        rng = self.rng
        while True:
            t += int(rng.expovariate(1.0 / MEAN_GAP_NS)) + 1
            ch = rng.choices(self.channels, self.mix)[0]
            st = rng.choices(self.state, self.weights)[0]
            yield self._event(ch, st, t)

    def _base(self, st: _SymState, t: int) -> dict[str, object]:
        inst = st.inst
        return {
            "venue": self.venue,
            "symbol": inst.symbol,
            "instrument": inst.instrument,
            "asset": inst.base,
            "ts_event": t,
            "ts_recv": 0,
        }

    def _size(self, st: _SymState, notional: float) -> tuple[float, float]:
        """A (base size, USD notional) pair in whole lots of the instrument."""
        inst, price = st.inst, st.price
        if inst.inverse:
            n = max(1, round(notional / inst.contract_size))
            return n * inst.contract_size / price, n * inst.contract_size
        lot = inst.contract_size if inst.contract_size != 1.0 else 10.0 ** -_size_decimals(price)
        size = round(max(1, round(notional / price / lot)) * lot, 10)
        return size, size * price

    def _event(self, ch: Channel, st: _SymState, t: int) -> Event:
        rng = self.rng
        if st.inst.kind == "spot" and PRICES.get(st.inst.base) is None:
            st.price = 1.0 + 0.98 * (st.price - 1.0) + rng.gauss(0.0, 2e-5)  # a peg
        else:
            st.price *= 1.0 + rng.gauss(0.0, 2e-5)
        dec = _price_decimals(st.price)
        px = round(st.price, dec)
        base = self._base(st, t)
        if ch == "trades":
            size, notional = self._size(st, math.exp(rng.uniform(math.log(50), math.log(50_000))))
            side = "sell" if rng.random() < 0.52 else "buy"
            return Trade(**base, price=px, size=size, notional_usd=size * px, side=side)  # type: ignore[arg-type]
        if ch == "quotes":
            tick = 10.0**-dec
            bid_size, _ = self._size(st, rng.uniform(1e3, 5e5))
            ask_size, _ = self._size(st, rng.uniform(1e3, 5e5))
            return Quote(
                **base,  # type: ignore[arg-type]
                bid=round(px - tick, dec),
                ask=round(px + tick, dec),
                bid_size=bid_size,
                ask_size=ask_size,
            )
        if ch == "liquidations":
            size, notional = self._size(st, math.exp(rng.uniform(math.log(2e3), math.log(3e5))))
            side = "long" if rng.random() < 0.7 else "short"
            return Liquidation(**base, price=px, size=size, notional_usd=size * px, side=side)  # type: ignore[arg-type]
        if ch == "funding":
            interval_h = st.inst.funding_interval_h or 8.0
            rate = round(rng.gauss(1e-4, 5e-5), 8)
            step = int(interval_h * H)
            return Funding(
                **base,  # type: ignore[arg-type]
                rate=rate,
                interval_h=interval_h,
                rate_8h=rate * 8.0 / interval_h,
                mark_price=px,
                next_funding_ts=(t // step + 1) * step,
            )
        st.oi *= 1.0 + rng.gauss(0.0, 2e-4)
        size, notional = self._size(st, st.oi * st.price)
        return OpenInterest(**base, size=size, notional_usd=notional)  # type: ignore[arg-type]


def build_frames(spec: VenueSpec, registry: InstrumentRegistry, n: int, seed: int) -> list[str]:
    """Render ``n`` native frames of ``spec.venue`` through its simulator."""
    from monitor.simulator.venues import sim_venue

    sim = sim_venue(spec.venue)
    keep = TOPIC_FILTERS.get(spec.venue, _keep_all)
    mix = MIX_SPOT if spec.kind == "spot" else MIX_DERIVATIVES
    frames: list[str] = []
    for ev in StreamGen(spec, registry, seed, mix).events():
        if spec.venue == BINANCE and isinstance(ev, OpenInterest):
            sim.encode(ev)  # remembered, then served by the REST endpoint the daemon polls
            reply = sim.rest("/fapi/v1/openInterest", {"symbol": ev.symbol})
            assert reply is not None
            assert reply.status == 200
            out = [("rest", orjson.dumps(reply.body).decode())]
        else:
            out = sim.encode(ev)
        seen: set[str] = set()
        for topic, frame in out:
            if keep(topic) and frame not in seen:
                seen.add(frame)
                frames.append(frame)
        if len(frames) >= n:
            return frames[:n]
    raise AssertionError("unreachable")
