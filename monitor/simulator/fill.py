"""Every stream a daemon subscribes to, served on a live venue's cadence: :class:`KeepAlive`.

A scenario models changes, not a live feed's cadence, and only the listings it is about (e.g. BTC
and ETH perps, the stablecoin books). A daemon with its default configuration subscribes to more:
every venue's default symbols (SOL, XRP, DOGE, BNB and HYPE perps, Bybit's and OKX's inverse
contracts, Deribit's USDC perps...) on every channel the venue publishes (quotes on perps, trades
on stablecoin books). Live, each of those streams delivers; against a simulator that left them
empty, the daemon's watchdogs would rightly report them silent and ``feed_down`` would fire.

:class:`KeepAlive` serves every (venue, symbol, channel) of the venues' default symbols and the
scenario's symbols, at the scenario clock's now, whenever it has not been published for a while:

- a stream the scenario publishes (funding / mark price, open interest, quotes) gets its latest
  event again, re-stamped: live venues push these every second or so (Binance
  ``markPrice@1s``, book tickers), and the daemon's watchdogs expect that cadence;
- a stream the scenario does not publish gets a quiet synthetic one: trades, quotes and mark
  price at the asset's latest price in the scenario (a reference price for assets it does not
  model), the asset's latest funding rate on that venue (else a neutral +0.01 %/8h), a small
  open interest and rare tiny liquidations. These amounts are far below every rule's thresholds
  and, for the assets a scenario models, negligible next to its sums (a listing it does not
  model carries $1M of open interest against billions), so a daemon against the simulator
  raises the same alerts as ``riskmon backtest`` over the scenario alone.

A venue the scenario makes silent (a glitch, ``ScenarioInfo.silent``) gets nothing either.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import msgspec

from monitor.instruments import Instrument
from monitor.simulator.clock import ScenarioClock
from monitor.simulator.scenarios.base import Backfill
from monitor.simulator.scenarios.listings import Listing
from monitor.simulator.server import ExchangeSimulator
from monitor.venues import get_venue
from monitor.venues.base import Channel
from streams.clock import Clock
from streams.events import Event, Funding, Liquidation, OpenInterest, Quote, Trade
from streams.units import NS_PER_HOUR, NS_PER_SECOND

__all__ = ["KeepAlive"]

#: what a listing of an asset no scenario models trades at (USD, late 2025)
REFERENCE_USD: dict[str, float] = {
    "BTC": 85_000.0,
    "ETH": 2_800.0,
    "SOL": 140.0,
    "XRP": 2.1,
    "BNB": 880.0,
    "DOGE": 0.16,
    "HYPE": 38.0,
}
_NEUTRAL_FUNDING_8H = 0.0001  # +0.01 %/8h: most venues' base rate
_OI_OTHER_ASSET_USD = 500e6  # open interest of a listing of an asset the scenario does not model
_OI_EXTRA_LISTING_USD = 1e6  # of another listing of an asset it models (its sums stay as modelled)
_TRADE_USD = 1_000.0
_LIQ_USD = 100.0
_TRADES_EVERY_S = 10.0  # a trade at least this often: the feed_stale rule's bar is 30 s
#: made-up prices move (a live price always does, and the price processor emits changes only):
#: ±5 bps over a 2-minute cycle (a change at every made-up trade and quote)
_WIGGLE = 0.0005
_WIGGLE_PERIOD_S = 120.0
#: live cadence of the channels venues push continuously (scenario seconds)
_PUSHED = frozenset({"funding", "open_interest", "quotes"})
_KIND: dict[type[Event], Channel] = {
    Trade: "trades",
    Liquidation: "liquidations",
    Funding: "funding",
    OpenInterest: "open_interest",
    Quote: "quotes",
}
_RESENT = (Funding, OpenInterest, Quote)


@dataclass
class _Stream:
    venue: str
    inst: Instrument
    channel: Channel
    period_ns: int
    modelled: bool  # the scenario publishes this stream: only re-sent, never made up
    last_ns: int = -1  # last publish time (scenario ns), -1: never
    latest: Event | None = None  # the scenario's latest event of this stream, if any


class KeepAlive:
    """Serve every default and scenario stream of the simulator's venues on a live-like cadence.

    Args:
        sim: where to publish (its venues and their instruments).
        clock: the scenario clock (events are stamped with its now).
        symbols: venue → the scenario's symbols (served besides each venue's defaults).
        channels: venue → the channels the scenario publishes (absent: every channel).
        silent: ``(venue, start_ns, end_ns)`` windows in which a venue sends nothing.
        period_s: scenario seconds without an event before a pushed channel (funding, open
            interest, quotes) is served again; trades and liquidations are served after a
            quarter of the venue's quiet limit (trades at least every 10 s). Never more often
            than every quarter of a wall second, so a fast clock does not flood the clients.
    """

    def __init__(
        self,
        sim: ExchangeSimulator,
        clock: Clock,
        symbols: Mapping[str, Sequence[str]] | None = None,
        channels: Mapping[str, Sequence[str]] | None = None,
        silent: Sequence[tuple[str, int, int]] = (),
        period_s: float = 2.0,
    ) -> None:
        self.sim = sim
        self.clock = clock
        self.silent = list(silent)
        speed = clock.speed if isinstance(clock, ScenarioClock) else 1.0
        floor_s = 0.25 * speed
        symbols = symbols or {}
        self.streams: dict[tuple[str, str, Channel], _Stream] = {}
        for venue, sv in sim.venues.items():
            spec = get_venue(venue)
            ours = symbols.get(venue, [])
            published = (channels or {}).get(venue, spec.channels)
            for sym in dict.fromkeys([*spec.default_symbols, *ours]):
                inst = sv.instruments.get(sym)
                if inst is None:
                    continue
                for ch in spec.channels:
                    quiet = spec.quiet_s.get(ch, 60.0)
                    base = period_s if ch in _PUSHED else min(quiet / 4, _TRADES_EVERY_S)
                    if ch == "liquidations":
                        base = quiet / 4
                    period = int(max(base, floor_s) * NS_PER_SECOND)
                    modelled = sym in ours and ch in published
                    self.streams[(venue, sym, ch)] = _Stream(venue, inst, ch, period, modelled)
        self.modelled = {a for v, syms in symbols.items() for a in self._assets(v, syms)}
        self.price: dict[str, float] = {}  # asset -> latest price in the scenario
        self.funding: dict[tuple[str, str], Funding] = {}  # (venue, asset) -> latest funding
        self.resent = 0
        self.made = 0
        self.next_due_ns = 0  # the earliest time a stream is due (see :meth:`due`)

    def _assets(self, venue: str, symbols: Iterable[str]) -> set[str]:
        sv = self.sim.venues.get(venue)
        if sv is None:
            return set()
        return {sv.instruments[s].base for s in symbols if s in sv.instruments}

    def note(self, ev: Event) -> None:
        """Record an event the scenario published (its stream is then served by re-sending)."""
        ch = _KIND.get(type(ev))
        if ch is None:
            return
        st = self.streams.get((ev.venue, ev.symbol, ch))
        if st is not None:
            st.last_ns = max(st.last_ns, ev.ts_event)
            if isinstance(ev, _RESENT):
                st.latest = ev
        if isinstance(ev, Trade):
            self.price[ev.asset] = ev.price
        elif isinstance(ev, Funding):
            self.price.setdefault(ev.asset, ev.mark_price)
            self.funding[(ev.venue, ev.asset)] = ev
        elif isinstance(ev, Quote):
            sv = self.sim.venues.get(ev.venue)
            inst = sv.instruments.get(ev.symbol) if sv is not None else None
            if inst is not None and inst.quote == "USD":
                self.price[ev.asset] = (ev.bid + ev.ask) / 2

    def serve_history(self, backfill: Backfill) -> int:
        """Give the listings it makes up for a modelled asset their history too (hourly, as
        :func:`~monitor.simulator.playback.serve_history` does the scenario's): the same price,
        and the open interest they carry live, so a venue's history joins its live total.
        Returns the points recorded."""
        n = 0
        for st in self.streams.values():
            sv = self.sim.venues[st.venue]
            inst = st.inst
            if st.channel != "open_interest" or st.modelled or not sv.serves_history:
                continue
            head = Listing(st.venue, inst.symbol, inst.instrument, inst.base)
            for ts, px in backfill.price.get(inst.base, []):
                sv.hourly.record(
                    Trade(**head.header(ts, ts), price=px, size=0.0, notional_usd=0.0, side="buy")
                )
                size = _OI_EXTRA_LISTING_USD / px
                sv.hourly.record(
                    OpenInterest(**head.header(ts, ts), size=size, notional_usd=size * px)
                )
                n += 2
        return n

    def due(self, now_ns: int) -> bool:
        """Whether some stream is due at ``now_ns`` (cheap: called before every event)."""
        return now_ns >= self.next_due_ns

    def serve(self, now_ns: int) -> int:
        """Publish what is due at ``now_ns``; return how many events were published.

        The player calls it in event-time order between the scenario's events (so a wall
        hiccup of the simulator leaves no hole in the made-up streams), and :meth:`run` on the
        clock when the scenario is quiet.
        """
        n = 0
        nxt = None
        for st in self.streams.values():
            if st.last_ns >= 0 and now_ns - st.last_ns < st.period_ns:
                due = st.last_ns + st.period_ns
                nxt = due if nxt is None else min(nxt, due)
                continue
            if any(v == st.venue and a <= now_ns < b for v, a, b in self.silent):
                continue
            ev = self._event(st, now_ns)
            st.last_ns = now_ns
            due = now_ns + st.period_ns
            nxt = due if nxt is None else min(nxt, due)
            if ev is None:
                continue
            self.sim.publish(ev)
            n += 1
        self.next_due_ns = now_ns + NS_PER_SECOND if nxt is None else nxt
        return n

    async def run(self, round_s: float = 1.0) -> None:
        """Serve what is due every ``round_s`` of scenario time (at least every tenth of a wall
        second) until cancelled."""
        speed = self.clock.speed if isinstance(self.clock, ScenarioClock) else 1.0
        while True:
            await self.clock.sleep(max(round_s, 0.1 * speed))
            now = self.clock.now_ns()
            if self.due(now):
                self.serve(now)

    # ---------------------------------------------------------------- making events

    def _event(self, st: _Stream, now: int) -> Event | None:
        if st.latest is not None:
            self.resent += 1
            return msgspec.structs.replace(st.latest, ts_event=now, ts_recv=now)
        if st.modelled:  # the scenario's own cadence (trades, liquidations), or not yet begun
            return None
        inst = st.inst
        px = self._price(inst, now)
        if px <= 0.0:
            return None
        head = Listing(st.venue, inst.symbol, inst.instrument, inst.base).header(now, now)
        self.made += 1
        if st.channel == "quotes":
            half = px * 0.00005
            return Quote(**head, bid=px - half, ask=px + half, bid_size=1e5, ask_size=1e5)
        if st.channel == "trades":
            size = round(_TRADE_USD / px, 6)
            return Trade(**head, price=px, size=size, notional_usd=size * px, side="buy")
        if st.channel == "liquidations":
            size = round(_LIQ_USD / px, 6)
            return Liquidation(**head, price=px, size=size, notional_usd=size * px, side="long")
        if st.channel == "open_interest":
            usd = _OI_EXTRA_LISTING_USD if inst.base in self.modelled else _OI_OTHER_ASSET_USD
            size = round(usd / px, 4)
            return OpenInterest(**head, size=size, notional_usd=size * px)
        if st.channel == "funding":
            iv = inst.funding_interval_h or 8.0
            like = self.funding.get((st.venue, inst.base)) or next(
                (f for (_, a), f in self.funding.items() if a == inst.base), None
            )
            if like is not None:
                r8 = like.rate_8h
            else:  # moving too: a venue sending deltas (Bybit) only sends changed fields
                r8 = round(_NEUTRAL_FUNDING_8H * (1.0 + 0.01 * _cycle(inst.base, now)), 9)
            iv_ns = int(iv * NS_PER_HOUR)
            return Funding(
                **head,
                rate=round(r8 * iv / 8.0, 9),
                interval_h=iv,
                rate_8h=r8,
                mark_price=px,
                next_funding_ts=(now // iv_ns + 1) * iv_ns,
            )
        return None

    def _price(self, inst: Instrument, now: int) -> float:
        """The price of ``inst`` in its quote currency (stablecoins: near 1).

        An asset the scenario prices trades at its latest price; any other at its reference
        price, moving a little (:data:`_WIGGLE`).
        """
        usd = self.price.get(inst.base)
        if usd is None:
            usd = REFERENCE_USD.get(inst.base, 1.0) * (1.0 + _WIGGLE * _cycle(inst.base, now))
        if inst.kind == "spot" and inst.quote not in ("USD",):
            quote_usd = self.price.get(inst.quote) or 1.0
            return round(usd / quote_usd, 6)
        return round(usd, 2) if usd >= 100.0 else round(usd, 6)


def _cycle(asset: str, now: int) -> float:
    """A slow cycle in [-1, 1] of scenario time, with a phase per asset."""
    phase = sum(map(ord, asset))
    return math.sin(2 * math.pi * now / NS_PER_SECOND / _WIGGLE_PERIOD_S + phase)
