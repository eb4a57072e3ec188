"""History without holes (issue 14 point 7): after downtime the daemon backfills the gap, and a
replay of its captures seeds the same history.

The daemon runs in-process against the simulator over HTTP, on a manual clock: a first run
without state backfills the whole history and snapshots; the simulator's history then grows by
six hours while the daemon is down; the restarted daemon asks for exactly the gap (the
simulator records the requests) and its 60-day OI peak and 90-day high come from inside the
gap. Replaying both runs' capture files gives the same drawdowns as the live run.
"""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from prometheus_client import CollectorRegistry
from structlog.testing import capture_logs

from alerts.rules import RuleSet
from monitor.backfill import Answer, Seedable, seed_answers
from monitor.backtest.recorder import series_key
from monitor.backtest.run import backtest_capture
from monitor.capture import BackfillTag, CaptureWriter, read_frames
from monitor.daemon import Daemon
from monitor.replay.run import replay
from monitor.settings import MetricsSettings, Settings, VenueSettings
from monitor.simulator.server import ExchangeSimulator
from monitor.simulator.venues.binance_usdm import BinanceUsdmSim
from monitor.venues.base import VenueEndpoints
from monitor.venues.binance_usdm import plan_backfill as binance_plan
from monitor.venues.bybit_linear import plan_backfill as bybit_plan
from monitor.venues.okx_swap import plan_backfill as okx_plan
from streams.clock import ManualClock
from streams.processors import default_processors
from streams.signals import Signal
from streams.units import NS_PER_MS
from tests.helpers import SeedRecorder, btc_funding, btc_open_interest, run_clock_until

V = "binance-usdm"
H = 3_600_000_000_000
T0 = 1_760_000_400_000_000_000 // H * H  # an hour boundary in Oct 2025
BASE_OI, PEAK_OI = 10e9, 20e9
BASE_PX, HIGH_PX, LIVE_PX = 100_000.0, 150_000.0, 120_000.0
#: the polled open interest (BASE_OI / BASE_PX coins) at the live mark, under the gap's peak
LIVE_OI_DD = round((BASE_OI / BASE_PX * LIVE_PX / PEAK_OI - 1) * 100, 6)


def _hours(sim: BinanceUsdmSim, hours: range, peak_oi_at: int = -1, high_at: int = -1) -> None:
    """Hourly marks and open interest (the simulator's REST history) for ``hours``."""
    for h in hours:
        px = HIGH_PX if h == high_at else BASE_PX
        sim.encode(btc_funding(T0 + h * H, px))
        sim.encode(btc_open_interest(T0 + h * H, PEAK_OI if h == peak_oi_at else BASE_OI, px))


def _settings(tmp: Path, url: str, capture: Path) -> Settings:
    return Settings(
        venues={V: VenueSettings(symbols=["BTCUSDT"], channels=["funding", "open_interest"])},
        simulator=url,
        state_dir=tmp / "state",
        store=tmp / "riskmon.db",
        metrics=MetricsSettings(enabled=False),
        capture=capture,
    )


def _history(requests: list[str]) -> list[str]:
    """The klines and open-interest history requests among ``requests``."""
    return [r for r in requests if r.startswith(("/fapi/v1/klines", "/futures/data/openInterest"))]


def _last(signals: Sequence[Signal], name: str) -> float | None:
    values = [s.value for s in signals if s.name == name and s.labels.get("asset") == "BTC"]
    return values[-1] if values else None


async def test_restart_backfills_the_gap_and_a_replay_of_the_captures_agrees(
    tmp_path: Path,
) -> None:
    sim = BinanceUsdmSim()
    _hours(sim, range(24))
    live: list[Signal] = []
    async with ExchangeSimulator([sim]) as server:
        # run 1: no state, the whole history; stopped once open interest has been polled
        clock = ManualClock(T0 + 24 * H)
        daemon = Daemon(
            _settings(tmp_path, server.url, tmp_path / "run1.jsonl"),
            registry=CollectorRegistry(),
            clock=clock,
        )
        with capture_logs() as logs:
            task = asyncio.create_task(daemon.run())
            # a live mark (it values the polled open interest), sent once a subscriber takes it
            mark = btc_funding(T0 + 24 * H, BASE_PX)
            await run_clock_until(
                clock, lambda: server.publish(mark) > 0, step_s=0.5, timeout_s=30, what="a mark"
            )
            await run_clock_until(
                clock,
                lambda: (
                    any(e["event"] == "backfill.done" for e in logs)
                    and daemon.pipeline.engine.watermark_ns > 0
                ),
                step_s=0.5,
                timeout_s=30,
                what="the first run's backfill and a polled open interest",
            )
            daemon.stop()
            await task
        first = next(e for e in logs if e["event"] == "backfill.done")
        assert first["since_ns"] is None
        stopped_at = json.loads((tmp_path / "state" / "pipeline.json").read_text())
        assert stopped_at["snapshot_version"] == 1
        watermark = daemon.pipeline.engine.watermark_ns

        # down for six hours, in which the venue's history has its OI peak and its price high
        _hours(sim, range(24, 30), peak_oi_at=26, high_at=27)
        seen = len(server.stats[V].rest_requests)
        clock = ManualClock(T0 + 30 * H)
        daemon = Daemon(
            _settings(tmp_path, server.url, tmp_path / "run2.jsonl"),
            registry=CollectorRegistry(),
            clock=clock,
            on_signals=live.extend,
        )
        with capture_logs() as logs:
            task = asyncio.create_task(daemon.run())
            await run_clock_until(
                clock,
                lambda: len(_history(server.stats[V].rest_requests[seen:])) == 2,
                step_s=0.5,
                timeout_s=30,
                what="the gap's history requests",
            )
            # the gap is seeded once live event time has passed it: here with a live mark
            mark = btc_funding(T0 + 30 * H, LIVE_PX)
            await run_clock_until(
                clock, lambda: server.publish(mark) > 0, step_s=0.5, timeout_s=30, what="a mark"
            )
            await run_clock_until(
                clock,
                lambda: any(e["event"] == "backfill.done" for e in logs),
                step_s=0.5,
                timeout_s=30,
                what="the gap's backfill",
            )
            await run_clock_until(
                clock,
                lambda: (
                    _last(live, "price_ref") == LIVE_PX
                    and round(_last(live, "oi_drawdown_pct") or 0.0, 6) == LIVE_OI_DD
                ),
                step_s=0.5,
                timeout_s=30,
                what="live drawdowns",
            )
            daemon.stop()
            await task
            ended = clock.now_ns()
        gap = next(e for e in logs if e["event"] == "backfill.gap")
        done = next(e for e in logs if e["event"] == "backfill.done")
        history = _history(server.stats[V].rest_requests[seen:])

    # the restored watermark is where the gap starts; only the gap is asked for and seeded
    assert gap["since_ns"] == watermark
    assert done["since_ns"] == watermark
    assert len(history) == 2  # klines and open-interest history, one page each
    for r in history:
        q = parse_qs(urlsplit(r).query)
        assert q["startTime"] == [str(watermark // NS_PER_MS)]
        # the run's clock when the backfill started
        assert (T0 + 30 * H) // NS_PER_MS <= int(q["endTime"][0]) <= ended // NS_PER_MS
    # the six klines that close after the watermark and the five open-interest hours after it
    # (the value at the watermark itself is held already): no more
    assert done["points"] == 11

    # the peak and the high inside the gap are what the live drawdowns are measured from
    live_oi_dd, live_px_dd = _last(live, "oi_drawdown_pct"), _last(live, "price_drawdown_pct")
    assert live_oi_dd is not None
    assert round(live_oi_dd, 6) == LIVE_OI_DD
    assert live_px_dd is not None
    assert round(live_px_dd, 6) == round((LIVE_PX / HIGH_PX - 1) * 100, 6)

    # the captures hold the backfill answers; replayed together they give the same drawdowns
    text = "".join((tmp_path / n).read_text() for n in ("run1.jsonl", "run2.jsonl"))
    tagged = [json.loads(line) for line in text.splitlines() if '"backfill"' in line]
    assert {t["backfill"]["since_ns"] for t in tagged} == {0, watermark}
    out = io.StringIO()
    stats = replay(read_frames(io.StringIO(text)), out, RuleSet(rules=()), emit="signals")
    assert not stats.skipped
    replayed = [json.loads(line) for line in out.getvalue().splitlines()]

    def last(name: str) -> float:
        values = [
            s["value"] for s in replayed if s["name"] == name and s["labels"]["asset"] == "BTC"
        ]
        return float(values[-1])

    assert last("oi_drawdown_pct") == live_oi_dd
    assert last("price_drawdown_pct") == live_px_dd

    # and so does a backtest of the same capture file
    both = tmp_path / "both.jsonl"
    both.write_text(text)
    result = backtest_capture(both, rules="november-2025")
    assert not result.stats.skipped
    for name, value in (("oi_drawdown_pct", live_oi_dd), ("price_drawdown_pct", live_px_dd)):
        _, values = result.recorder.series(series_key(name, asset="BTC"))
        assert values[-1] == value


GAP_NOW_MS = (T0 + 30 * H) // NS_PER_MS
GAP_SINCE_MS = (T0 + 24 * H) // NS_PER_MS + 123_456
ENDPOINTS = VenueEndpoints(ws="wss://example.invalid", rest="https://example.invalid/")


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def test_binance_asks_for_the_gap_by_start_and_end_time() -> None:
    full = binance_plan(ENDPOINTS, ["BTCUSDT"], now_ms=GAP_NOW_MS)
    gap = binance_plan(ENDPOINTS, ["BTCUSDT"], now_ms=GAP_NOW_MS, since_ms=GAP_SINCE_MS)
    assert [r.kind for r in gap] == [r.kind for r in full]
    assert all("startTime" not in _query(r.url) for r in full)
    for r in gap:
        q = _query(r.url)
        assert (int(q["startTime"]), int(q["endTime"])) == (GAP_SINCE_MS, GAP_NOW_MS)


def test_bybit_windows_tile_exactly_the_gap() -> None:
    full = bybit_plan(ENDPOINTS, ["BTCUSDT"], now_ms=GAP_NOW_MS)
    gap = bybit_plan(ENDPOINTS, ["BTCUSDT"], now_ms=GAP_NOW_MS, since_ms=GAP_SINCE_MS)
    assert len(gap) == 2 < len(full)  # six hours: one page of klines, one of open interest
    for r in gap:
        q = _query(r.url)
        start, end = (q["start"], q["end"]) if r.kind == "price" else (q["startTime"], q["endTime"])
        assert (int(start), int(end)) == (GAP_SINCE_MS, GAP_NOW_MS)


def test_okx_windows_cover_the_bars_of_the_gap_only() -> None:
    full = okx_plan(ENDPOINTS, ["BTC-USDT-SWAP"], now_ms=GAP_NOW_MS)
    gap = okx_plan(ENDPOINTS, ["BTC-USDT-SWAP"], now_ms=GAP_NOW_MS, since_ms=GAP_SINCE_MS)
    assert len(gap) == 2 < len(full)
    bar = 4 * H // NS_PER_MS
    for r in gap:
        q = _query(r.url)
        lower, upper = (q["before"], q["after"]) if r.kind == "price" else (q["begin"], q["end"])
        assert int(upper) == GAP_NOW_MS
        # from the bar open at the gap's start, or the one before (bounds fall mid-bar)
        assert GAP_SINCE_MS - 2 * bar < int(lower) <= GAP_SINCE_MS


def test_seeding_keeps_only_points_after_the_gap_start_and_is_idempotent() -> None:
    """``seed_answers`` drops points at or before ``since_ns``; seeding the same answers twice
    leaves the processors' state exactly as seeding once (the histories are keyed by time)."""
    answers = [
        Answer("price", "BTCUSDT", "BTC", "usd", [(T0 + h * H, 100.0 + h) for h in range(6)]),
        Answer("open_interest", "BTCUSDT", "BTC", "usd", [(T0 + h * H, 1e9 * h) for h in range(6)]),
    ]
    procs = {p.name: p for p in default_processors() if p.name in ("price", "open_interest")}
    targets: dict[str, Seedable] = {n: p for n, p in procs.items() if isinstance(p, Seedable)}
    recorder = SeedRecorder()
    assert seed_answers(V, answers, {"price": recorder}, since_ns=T0 + 2 * H) == 3
    assert recorder.seeds == [("BTC", V, [(T0 + h * H, 100.0 + h) for h in (3, 4, 5)])]
    seed_answers(V, answers, targets, since_ns=T0 + 2 * H)
    once = {n: _state(p.snapshot()) for n, p in procs.items()}
    seed_answers(V, answers, targets, since_ns=T0 + 2 * H)
    assert {n: _state(p.snapshot()) for n, p in procs.items()} == once


def _state(snapshot: object) -> object:
    """A processor's snapshot without the histories' ``version`` (a cache-invalidation count)."""
    if isinstance(snapshot, dict):
        return {k: _state(v) for k, v in snapshot.items() if k != "version"}
    if isinstance(snapshot, list):
        return [_state(v) for v in snapshot]
    return snapshot


def test_capture_lines_without_a_tag_keep_the_three_key_format(tmp_path: Path) -> None:
    """A plain frame is still exactly ``{"ts_recv", "venue", "frame"}``; a tagged backfill
    answer adds ``backfill``, and both read back."""
    path = tmp_path / "c.jsonl"
    w = CaptureWriter(path)
    tag = BackfillTag("price", "BTCUSDT", "BTC", "usd", "/fapi/v1/klines?x=1", 5, 2)
    w.write(V, "{}", 1)
    w.write(V, "[]", 2, backfill=tag)
    w.close()
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert set(rows[0]) == {"ts_recv", "venue", "frame"}
    assert rows[1]["backfill"]["path"] == "/fapi/v1/klines?x=1"
    with path.open() as fh:
        lines = [line for _, line in read_frames(fh)]
    assert [line.backfill for line in lines] == [None, tag]
