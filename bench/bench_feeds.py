"""Benchmark: raw frames per second through decode + normalize, per venue.

Run: ``.venv/bin/python bench/bench_feeds.py`` (about 20 s). Not a test: it prints figures.

For every venue whose parser imports and parses cleanly, a deterministic recorded-style stream
of the venue's native frames is built offline (``bench/venue_frames.py``: a seeded generator emits
normalized events in live-like proportions (trades dominate; then quotes, funding/mark,
liquidations, open interest; spot venues carry trades and quotes only) and the venue's simulator
(``monitor.simulator``) renders them as the frames the daemon receives; for Binance USD-M, open
interest as the ``/fapi/v1/openInterest`` REST bodies the daemon polls and hands to the same
parser). Then, on the very same ``str`` frames, best of ``--repeat`` runs with the garbage
collector off:

- riskmon: ``parser.parse(frame, ts_recv)`` (decode + normalize into ``streams.events``);
- the floor: bare ``orjson.loads(frame)``;
- Binance USD-M only: cryptofeed's ``BinanceFutures.message_handler(frame, conn, ts)`` with
  counting callbacks, its symbol table set offline from riskmon's packaged instrument snapshot
  (through its own ``_parse_symbol_data``, so its mapping is what a live start would build).
  Its callback counts are checked against riskmon's events per type, so it is known to have
  normalized every frame (Decimal conversion, Trade/Liquidation/Funding/Ticker/OpenInterest
  objects). It is called directly, without its connection handler, which favours cryptofeed.

Goals (issue 3): riskmon >= 3x cryptofeed's rate on Binance USD-M, and >= 30% of the bare
``orjson.loads`` rate (checked per venue). Exit status is 0 whatever the figures.

Options: ``--frames N`` (Binance USD-M, default 200,000), ``--frames-other N`` (other venues,
default 50,000), ``--repeat K`` (default 5), ``--cf-repeat K`` (default 3), ``--venues a,b``,
``--seed S``, ``--no-cryptofeed``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import math
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import version

import orjson
from venue_frames import BINANCE, T0, S, build_frames  # bench/ is on the path of its scripts

from monitor.instruments import InstrumentRegistry
from monitor.venues import VENUE_MODULES, get_venue, load_registry
from monitor.venues.base import FrameParser, VenueSpec

TS_RECV = T0
GOAL_VS_CRYPTOFEED = 3.0
GOAL_VS_ORJSON = 0.30

# ----------------------------------------------------------------------------- timing


def _timed(fn: Callable[[], int]) -> tuple[float, int]:
    gc.collect()
    gc.disable()
    try:
        t = time.perf_counter()
        out = fn()
        return time.perf_counter() - t, out
    finally:
        gc.enable()


def run_riskmon(make: Callable[[], FrameParser], frames: Sequence[str]) -> tuple[float, int]:
    """Seconds to parse every frame with a fresh parser, and the number of events."""
    parse = make().parse

    def loop() -> int:
        n = 0
        for f in frames:
            n += len(parse(f, TS_RECV))
        return n

    return _timed(loop)


def run_orjson(frames: Sequence[str]) -> tuple[float, int]:
    """Seconds for bare ``orjson.loads`` on every frame."""
    loads = orjson.loads

    def loop() -> int:
        for f in frames:
            loads(f)
        return len(frames)

    return _timed(loop)


def validate_riskmon(make: Callable[[], FrameParser], frames: Sequence[str]) -> Counter[str]:
    """Parse every frame once; return events per type. Raises on the first frame it rejects."""
    parser = make()
    kinds: Counter[str] = Counter()
    for i, f in enumerate(frames):
        try:
            evs = parser.parse(f, TS_RECV)
        except Exception as e:
            raise RuntimeError(f"frame {i} rejected: {type(e).__name__}: {e}: {f[:160]}") from e
        kinds.update(type(e).__name__ for e in evs)
    return kinds


@dataclass
class CryptofeedBench:
    """cryptofeed's ``BinanceFutures`` fed offline, with callbacks that only count."""

    registry: InstrumentRegistry
    counts: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        from cryptofeed.defines import FUNDING, LIQUIDATIONS, OPEN_INTEREST, TICKER, TRADES
        from cryptofeed.exchanges import BinanceFutures
        from cryptofeed.symbols import Symbols

        # What ``symbol_mapping()`` would build from GET /fapi/v1/exchangeInfo, without network.
        info = {
            "symbols": [
                {
                    "symbol": i.symbol,
                    "baseAsset": i.base,
                    "quoteAsset": i.quote,
                    "contractType": "PERPETUAL",
                    "status": "TRADING",
                    "filters": [{"tickSize": "0.01"}],
                }
                for i in self.registry.all()
                if i.kind == "perp"
            ]
        }
        syms, meta = BinanceFutures._parse_symbol_data(info)
        Symbols.set(BinanceFutures.id, syms, meta)
        counts = self.counts

        def counter(kind: str) -> Callable[[object, float], object]:
            async def cb(obj: object, receipt_timestamp: float) -> None:
                counts[kind] += 1

            return cb

        chans = [TRADES, LIQUIDATIONS, FUNDING, TICKER, OPEN_INTEREST]
        self.feed = BinanceFutures(
            symbols=[s for s in syms if s.endswith("-PERP")],
            channels=chans,
            callbacks={c: counter(c) for c in chans},
        )
        #: cryptofeed channel -> riskmon event type
        self.as_riskmon = {
            TRADES: "Trade",
            LIQUIDATIONS: "Liquidation",
            FUNDING: "Funding",
            TICKER: "Quote",
            OPEN_INTEREST: "OpenInterest",
        }

    def run(self, frames: Sequence[str]) -> tuple[float, int]:
        """Seconds to hand every frame to the message handler, and the callbacks fired."""
        self.counts.clear()
        self.feed._open_interest_cache = {}  # as on a fresh REST poll connection
        handler = self.feed.message_handler
        ts = TS_RECV / S

        async def loop() -> tuple[float, int]:
            gc.collect()
            gc.disable()
            try:
                t = time.perf_counter()
                for f in frames:
                    await handler(f, None, ts)
                dt = time.perf_counter() - t
            finally:
                gc.enable()
            return dt, sum(self.counts.values())

        return asyncio.run(loop())

    def check(self, riskmon_kinds: Counter[str]) -> str | None:
        """Return why the last run's callbacks do not match riskmon's events, or None."""
        got = Counter({self.as_riskmon[k]: v for k, v in self.counts.items()})
        if got != riskmon_kinds:
            return f"cryptofeed callbacks {dict(got)} != riskmon events {dict(riskmon_kinds)}"
        return None


# ----------------------------------------------------------------------------- report


@dataclass
class Row:
    venue: str
    frames: int
    riskmon: float
    orjson: float
    cryptofeed: float | None = None
    events: Counter[str] = field(default_factory=Counter)


def _fmt_rate(x: float | None) -> str:
    return "-" if x is None else f"{x:,.0f}"


def print_table(rows: list[Row]) -> None:
    """Print the figures and the goals."""
    head = (
        f"{'venue':<13} {'frames':>8} {'riskmon f/s':>12} {'orjson f/s':>12} {'rm/orjson':>9} "
        f"{'cryptofeed f/s':>14} {'rm/cf':>6}  goals (>={GOAL_VS_ORJSON:.0%} orjson, "
        f">={GOAL_VS_CRYPTOFEED:.0f}x cryptofeed)"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        share = r.riskmon / r.orjson
        goals = [f"orjson {'PASS' if share >= GOAL_VS_ORJSON else 'FAIL'}"]
        ratio = "-"
        if r.cryptofeed is not None:
            x = r.riskmon / r.cryptofeed
            ratio = f"{x:.1f}x"
            goals.append(f"cryptofeed {'PASS' if x >= GOAL_VS_CRYPTOFEED else 'FAIL'}")
        print(
            f"{r.venue:<13} {r.frames:>8,} {_fmt_rate(r.riskmon):>12} {_fmt_rate(r.orjson):>12} "
            f"{share:>9.0%} {_fmt_rate(r.cryptofeed):>14} {ratio:>6}  {', '.join(goals)}"
        )
    print()
    print("stream mix (riskmon events of each type per 100 frames):")
    for r in rows:
        mix = ", ".join(f"{k} {100 * v / r.frames:.1f}" for k, v in r.events.most_common())
        print(f"  {r.venue:<13} {mix}")


def main() -> None:
    """Build the streams, time the three decoders and print the table."""
    ap = argparse.ArgumentParser(
        description="Frames/s per venue: riskmon parse vs orjson.loads vs cryptofeed."
    )
    ap.add_argument("--frames", type=int, default=200_000, help="Binance USD-M frames")
    ap.add_argument("--frames-other", type=int, default=50_000, help="frames of other venues")
    ap.add_argument("--repeat", type=int, default=5, help="best of K runs (riskmon, orjson)")
    ap.add_argument("--cf-repeat", type=int, default=3, help="best of K runs (cryptofeed)")
    ap.add_argument("--venues", default="", help="comma-separated venue ids (default: all)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--no-cryptofeed", action="store_true")
    args = ap.parse_args()

    venues = [v for v in args.venues.split(",") if v] or list(VENUE_MODULES)
    rows: list[Row] = []
    notes: list[str] = []
    for vid in venues:
        n = args.frames if vid == BINANCE else args.frames_other
        try:
            spec = get_venue(vid)

            def make(spec: VenueSpec = spec, vid: str = vid) -> FrameParser:
                return spec.make_parser(load_registry(vid))

            frames = build_frames(spec, load_registry(vid), n, args.seed)
            kinds = validate_riskmon(make, frames)
        except Exception as e:
            notes.append(f"skipped {vid}: {type(e).__name__}: {e}")
            print(f"[bench_feeds] skipped {vid}: {type(e).__name__}: {e}", flush=True)
            continue

        cf: CryptofeedBench | None = None
        if vid == BINANCE and not args.no_cryptofeed:
            try:
                cf = CryptofeedBench(load_registry(vid))
            except ImportError as e:
                notes.append(f"cryptofeed not installed ({e}): pip install -e '.[bench]'")
        best_rm = best_oj = best_cf = math.inf
        for rep in range(max(args.repeat, args.cf_repeat if cf else 0)):
            if rep < args.repeat:
                dt, n_ev = run_riskmon(make, frames)
                assert n_ev == sum(kinds.values())
                best_rm = min(best_rm, dt)
                dt, _ = run_orjson(frames)
                best_oj = min(best_oj, dt)
            if cf is not None and rep < args.cf_repeat:
                dt, _ = cf.run(frames)
                problem = cf.check(kinds)
                if problem is not None:
                    notes.append(f"{vid}: cryptofeed result discarded: {problem}")
                    cf = None
                    best_cf = math.inf
                    continue
                best_cf = min(best_cf, dt)
        row = Row(vid, len(frames), len(frames) / best_rm, len(frames) / best_oj, events=kinds)
        if cf is not None and best_cf < math.inf:
            row.cryptofeed = len(frames) / best_cf
            notes.append(
                f"{vid}: cryptofeed {version('cryptofeed')} fired {sum(cf.counts.values()):,} "
                f"callbacks, matching riskmon's {sum(kinds.values()):,} events type by type"
            )
        rows.append(row)
        print(f"[bench_feeds] {vid}: {len(frames):,} frames done", flush=True)

    print()
    print_table(rows)
    if notes:
        print()
        for note in notes:
            print(f"note: {note}")
    print(
        f"\nbest of {args.repeat} runs (cryptofeed: {args.cf_repeat}), gc disabled while timing, "
        "the same str frames for all three; cryptofeed's message_handler is called directly."
    )


if __name__ == "__main__":
    main()
