"""Issue 10 point 11: one venue's clock cannot move the pipeline's clock.

The cascade scenario is rendered as a Binance capture (real frames through the real parser, as
``riskmon replay`` reads them); one frame is then slipped in whose event time is a year away
from its receive time (or from the stream's time). The replay's alerts must be the alerts of the
capture without that frame, and the watermark must not move.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from alerts.evaluator import AlertEvaluator
from alerts.rules import load_pack
from monitor.capture import CaptureLine, CaptureWriter, open_text, read_frames
from monitor.metrics import SkewCounters
from monitor.pipeline import Pipeline
from monitor.replay.parse import FrameStats, parse_lines
from monitor.replay.run import replay
from monitor.simulator.scenarios import get_scenario
from monitor.simulator.venues.binance_usdm import BinanceUsdmSim
from streams.engine import StreamEngine
from streams.events import Liquidation, Trade
from streams.processors import default_processors
from streams.units import NS_PER_DAY, NS_PER_SECOND

V = "binance-usdm"
YEAR_NS = 365 * NS_PER_DAY
LAG_NS = 5_000_000  # receive stamps 5 ms after event time


def _lines(path: Path) -> list[tuple[int, CaptureLine]]:
    with open_text(path) as fh:
        return list(read_frames(fh))


@pytest.fixture(scope="module", name="frames")
def _frames(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[str], list[int]]:
    """The cascade as Binance frames with their receive stamps."""
    path = tmp_path_factory.mktemp("skew") / "cascade.jsonl"
    sim = BinanceUsdmSim()
    w = CaptureWriter(path)
    for ev in get_scenario("cascade").events():
        for topic, frame in sim.encode(ev):
            if not topic.startswith("!"):
                w.write(V, frame, ev.ts_event + LAG_NS)
        if type(ev).__name__ == "OpenInterest":
            reply = sim.rest("/fapi/v1/openInterest", {"symbol": ev.symbol})
            assert reply is not None
            w.write(V, json.dumps(reply.body), ev.ts_event + LAG_NS)
    w.close()
    lines = _lines(path)
    return [line.frame for _, line in lines], [line.ts_recv for _, line in lines]


def _capture(
    tmp: Path, frames: list[str], recv: list[int], extra: tuple[int, str, int] | None
) -> Path:
    """Write the frames; ``extra`` = (index, frame, ts_recv) is slipped in before ``index``."""
    path = tmp / f"cap-{len(frames)}-{extra[0] if extra else 'x'}.jsonl"
    w = CaptureWriter(path)
    for i, (f, ts) in enumerate(zip(frames, recv, strict=True)):
        if extra is not None and i == extra[0]:
            w.write(V, extra[1], extra[2])
        w.write(V, f, ts)
    w.close()
    return path


def _liquidation_frame(ts_event: int) -> str:
    """A huge BTC liquidation as Binance renders it, stamped ``ts_event``."""
    liq = Liquidation(
        venue=V, symbol="BTCUSDT", instrument="BTC-USDT-PERP", asset="BTC", ts_event=ts_event,
        ts_recv=0, price=10_000.0, size=100_000.0, notional_usd=1e9, side="long",
    )  # fmt: skip
    [(_, frame)] = [
        (t, f)
        for t, f in BinanceUsdmSim().encode(liq)
        if "forceOrder" in t and not t.startswith("!")
    ]
    return frame


def _alerts(path: Path) -> str:
    out = io.StringIO()
    with open_text(path) as fh:
        replay(read_frames(fh), out, load_pack("november-2025"), emit="alerts")
    return out.getvalue()


def _pipeline_over(path: Path) -> Iterator[tuple[int, Pipeline]]:
    """Feed the capture into a pipeline, yielding (events so far, pipeline) after each event."""
    pipeline = Pipeline(
        StreamEngine(default_processors()), AlertEvaluator(load_pack("november-2025"))
    )
    with open_text(path) as fh:
        for i, ev in enumerate(parse_lines(read_frames(fh), FrameStats())):
            pipeline.on_event(ev)
            yield i, pipeline


@pytest.mark.parametrize("direction", ["ahead", "behind"])
def test_one_event_a_year_off_changes_nothing(
    tmp_path: Path, frames: tuple[list[str], list[int]], direction: str
) -> None:
    """A liquidation of $1e9 stamped a year ahead of its receipt (or a year behind the stream)
    in the middle of the cascade: dropped, counted by venue, the watermark does not move, and
    the alerts are byte-identical to the capture without it."""
    texts, recv = frames
    at = len(texts) // 2
    ts_recv = recv[at]
    ts_event = ts_recv + YEAR_NS if direction == "ahead" else ts_recv - YEAR_NS
    clean = _capture(tmp_path, texts, recv, None)
    dirty = _capture(tmp_path, texts, recv, (at, _liquidation_frame(ts_event), ts_recv))

    baseline = _alerts(clean)
    assert baseline  # the cascade fires alerts
    assert _alerts(dirty) == baseline

    registry = CollectorRegistry()
    watermarks: list[int] = []
    last: Pipeline | None = None
    for _, p in _pipeline_over(dirty):
        if last is None:
            SkewCounters(lambda p=p: p.engine.skewed, registry)
        last = p
        watermarks.append(p.engine.watermark_ns)
    assert last is not None
    assert last.engine.skewed == {(V, direction): 1}
    assert (
        registry.get_sample_value(
            "riskmon_pipeline_skewed_events_total", {"venue": V, "direction": direction}
        )
        == 1.0
    )
    assert max(watermarks) <= max(recv) + LAG_NS  # never a year ahead
    assert watermarks == sorted(watermarks)  # never rewound


def test_events_within_the_limits_and_unstamped_events_pass() -> None:
    """An event 4 minutes ahead of its receipt, or 30 minutes behind the stream, is processed;
    so is a synthetic event without a receive stamp; one more than an hour behind is not."""
    engine = StreamEngine(default_processors())
    t0 = 1_763_714_000 * NS_PER_SECOND

    def trade(ts_event: int, ts_recv: int) -> Trade:
        return Trade(
            venue=V, symbol="BTCUSDT", instrument="BTC-USDT-PERP", asset="BTC",
            ts_event=ts_event, ts_recv=ts_recv, price=85_000.0, size=1.0, notional_usd=85_000.0,
            side="buy",
        )  # fmt: skip

    engine.on_event(trade(t0, t0))
    engine.on_event(trade(t0 + 240 * NS_PER_SECOND, t0))
    assert engine.watermark_ns == t0 + 240 * NS_PER_SECOND
    engine.on_event(trade(t0 - 1800 * NS_PER_SECOND, t0))
    engine.on_event(trade(t0 + 3600 * NS_PER_SECOND, 0))  # no receive stamp: not checked
    assert engine.skewed == {}
    assert engine.watermark_ns == t0 + 3600 * NS_PER_SECOND
    engine.on_event(trade(t0 - NS_PER_SECOND, t0 + 3600 * NS_PER_SECOND))  # 1 h 1 s behind
    assert engine.skewed == {(V, "behind"): 1}
    assert engine.watermark_ns == t0 + 3600 * NS_PER_SECOND
