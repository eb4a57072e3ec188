"""Restart mid-stream: snapshot -> JSON -> restore gives exactly the signals of an unbroken run."""

from __future__ import annotations

import json
import math
import random
from types import SimpleNamespace

from streams.engine import StreamEngine
from streams.events import Event
from streams.processors import LiquidationConfig, StreamsConfig, default_processors
from streams.signals import encode_signal


def _stream(mk: SimpleNamespace, minutes: int) -> list[Event]:
    """A seeded mixed stream: 3 assets x 3 venues, every event type, a liquidation burst."""
    rng = random.Random(7)
    venues = ["binance-usdm", "okx-swap", "bybit-linear"]
    px = {"BTC": 90000.0, "ETH": 3000.0, "SOL": 140.0}
    out: list[Event] = []
    for s in range(minutes * 60):
        t = mk.T0 + s * mk.S
        for asset in px:
            px[asset] *= math.exp(rng.gauss(0.0, 0.001))
            venue = rng.choice(venues)
            out.append(mk.trade(t + rng.randrange(mk.S), px[asset], asset=asset, venue=venue))
            if s % 15 == 0:
                for v in venues:
                    out.append(mk.oi(t + 1, 1e9 * rng.uniform(0.9, 1.1), asset=asset, venue=v))
                    out.append(mk.funding(t + 2, rng.gauss(0.0, 0.0002), 8.0, asset, v, px[asset]))
            burst = 20 * 60 <= s < 23 * 60
            if rng.random() < (0.9 if burst else 0.05):
                side = "long" if rng.random() < 0.8 else "short"
                usd = rng.lognormvariate(11.0, 1.0) * (30 if burst else 1)
                out.append(mk.liq(t + 3, usd, side=side, asset=asset, venue=venue))
        if s % 5 == 0:
            out.append(mk.quote(t, "USDT-USD-SPOT", 0.9998, 1.0002, venue="kraken"))
            bid = rng.uniform(0.6, 0.7)
            out.append(mk.quote(t, "USDE-USDT-SPOT", bid, bid + 0.01, venue="binance"))
            out.append(mk.quote(t, "USDE-USD-SPOT", 0.999, 1.0, venue="kraken"))
        if s == 600:
            out.append(mk.status(t, "okx-swap", "connection", "disconnected"))
        if s == 610:
            out.append(mk.status(t, "okx-swap", "connection", "connected"))
    out.sort(key=lambda e: e.ts_event)
    # a few late events
    out.insert(5000, mk.liq(out[4990].ts_event - 3 * mk.S, 1234.0, asset="ETH"))
    return out


def _engine() -> StreamEngine:
    cfg = StreamsConfig(liquidations=LiquidationConfig(min_baseline_minutes=10))
    return StreamEngine(default_processors(cfg))


def _lines(signals: list) -> list[bytes]:  # type: ignore[type-arg]
    return [encode_signal(s) for s in signals]


def test_restart_mid_stream_gives_the_same_signals(mk: SimpleNamespace) -> None:
    """Run A straight through; run B stops at the half, is restored from JSON into C, continues."""
    events = _stream(mk, 65)
    half = len(events) // 2
    a = _engine()
    a.on_events(events[:half])
    expected = a.on_events(events[half:]) + a.flush()

    b = _engine()
    b.on_events(events[:half])
    state = json.loads(json.dumps(b.snapshot(), allow_nan=False))
    c = _engine()
    c.restore(state)
    got = c.on_events(events[half:]) + c.flush()

    assert len(expected) > 1000
    assert _lines(got) == _lines(expected)
    names = {s.name for s in expected}
    for name in ("liq_burst_z", "oi_change_pct", "price_return_pct", "peg_dislocation_bps"):
        assert name in names
    assert "deleveraging_score" in names
