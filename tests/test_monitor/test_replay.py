"""Capture files, ``riskmon parse`` and ``riskmon replay``: determinism and error reporting."""

from __future__ import annotations

import gzip
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from alerts.rules import load_pack
from monitor.capture import CaptureWriter, open_text, read_frames
from monitor.replay.parse import FrameStats, parse_lines
from monitor.replay.run import SignalThinner, replay
from monitor.simulator.scenarios import get_scenario
from monitor.simulator.venues.binance_usdm import BinanceUsdmSim
from streams.signals import Signal

RISKMON = [sys.executable, "-m", "monitor.cli"]


@pytest.fixture(scope="module", name="capture")
def _capture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The cascade scenario as a capture: each event rendered as Binance frames."""
    return write_cascade_capture(tmp_path_factory.mktemp("cap") / "cascade.jsonl.gz")


def write_cascade_capture(path: Path) -> Path:
    """Write the cascade scenario to ``path`` as a capture of Binance frames."""
    sim = BinanceUsdmSim()
    w = CaptureWriter(path)
    seen: set[str] = set()
    for ev in get_scenario("cascade").events():
        for topic, frame in sim.encode(ev):
            if topic.startswith("!") or (topic, frame) in seen:
                continue
            w.write("binance-usdm", frame, ev.ts_event + 5_000_000)
        if type(ev).__name__ == "OpenInterest":
            reply = sim.rest("/fapi/v1/openInterest", {"symbol": ev.symbol})
            assert reply is not None
            w.write("binance-usdm", json.dumps(reply.body), ev.ts_event + 5_000_000)
    w.close()
    return path


def _replay(path: Path, emit: str, every: float = 0.0) -> str:
    out = io.StringIO()
    with open_text(path) as fh:
        replay(
            read_frames(fh),
            out,
            load_pack("november-2025"),
            emit=emit,  # type: ignore[arg-type]
            every_s=every,
        )
    return out.getvalue()


def test_capture_is_gzip_json_lines(capture: Path) -> None:
    """A .gz capture is gzip; each line has exactly ts_recv, venue and frame."""
    with gzip.open(capture, "rt", encoding="utf-8") as fh:
        first = json.loads(fh.readline())
    assert set(first) == {"ts_recv", "venue", "frame"}
    assert isinstance(first["ts_recv"], int)
    assert first["venue"] == "binance-usdm"


@pytest.mark.parametrize("emit", ["events", "signals", "alerts"])
def test_replay_is_deterministic(capture: Path, emit: str) -> None:
    """Replaying the same capture twice prints identical output."""
    a = _replay(capture, emit, every=30.0)
    b = _replay(capture, emit, every=30.0)
    assert a
    assert a == b


def test_replay_alerts_fire_on_the_cascade(capture: Path) -> None:
    """The cascade fires the critical 1 h liquidation alert, as alert JSON lines."""
    lines = [json.loads(x) for x in _replay(capture, "alerts").splitlines()]
    crit = [a for a in lines if a["rule"] == "liquidations_1h" and a["severity"] == "critical"]
    assert crit
    assert crit[0]["status"] == "firing"
    assert set(crit[0]) == {
        "status",
        "rule",
        "severity",
        "labels",
        "value",
        "starts_at",
        "ends_at",
        "fingerprint",
        "summary",
    }
    assert crit[0]["value"] >= 750e6


def test_signals_every_thins_but_keeps_last_sample(capture: Path) -> None:
    """--every keeps one sample per series per interval and always the series' last sample."""
    full = [json.loads(x) for x in _replay(capture, "signals").splitlines()]
    thin = [json.loads(x) for x in _replay(capture, "signals", every=300.0).splitlines()]
    assert 0 < len(thin) < len(full)
    key = lambda s: (s["name"], tuple(sorted(s["labels"].items())))  # noqa: E731
    last_full: dict[object, dict[str, object]] = {}
    for s in full:
        last_full[key(s)] = s
    last_thin: dict[object, dict[str, object]] = {}
    for s in thin:
        last_thin[key(s)] = s
    assert last_thin == last_full
    assert set(full[0]) == {"name", "labels", "value", "ts"}


def test_thinner_interval_in_event_time() -> None:
    """Samples closer than the interval are held back; the held-back last one is flushed."""
    th = SignalThinner(every_ns=10)
    mk = lambda ts, v: Signal("x", {"a": "1"}, v, ts)  # noqa: E731
    assert th.feed([mk(0, 1.0), mk(5, 2.0), mk(10, 3.0), mk(12, 4.0)]) == [mk(0, 1.0), mk(10, 3.0)]
    assert th.finish() == [mk(12, 4.0)]


def test_parse_reports_bad_frames_and_continues() -> None:
    """Bad lines are reported with their line number and reason; good ones still parse."""
    text = (
        '{"e":"aggTrade","E":1,"s":"BTCUSDT","p":"10","q":"2","T":1,"m":false}\n'
        "garbage\n"
        '{"e":"brandNew","E":1}\n'
        '{"ts_recv": 5, "venue": "binance-usdm", "frame": "{\\"result\\":null,\\"id\\":1}"}\n'
    )
    stats = FrameStats()
    errors = io.StringIO()
    events = list(
        parse_lines(
            read_frames(io.StringIO(text), "binance-usdm", 99), stats, errors, venue="binance-usdm"
        )
    )
    assert len(events) == 1
    assert events[0].ts_recv == 99
    assert stats.frames == 4
    assert stats.skipped == {"malformed": 1, "unknown": 1}
    assert errors.getvalue().splitlines() == [
        "line 2: skipped (malformed): invalid JSON: JSON is malformed: invalid character (byte 0)",
        "line 3: skipped (unknown): unknown event type 'brandNew'",
    ]


def test_cli_parse_from_stdin() -> None:
    """`riskmon parse --venue binance-usdm -` prints events and a summary on stderr."""
    frame = (
        '{"e":"forceOrder","E":1,"o":{"s":"ETHUSDT","S":"SELL","o":"LIMIT","f":"IOC",'
        '"q":"2","p":"3000","ap":"3000","X":"FILLED","l":"2","z":"2","T":1000}}\nnope\n'
    )
    r = subprocess.run(
        [*RISKMON, "parse", "--venue", "binance-usdm", "-"],
        input=frame,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert r.returncode == 0
    ev = json.loads(r.stdout)
    assert ev["type"] == "liquidation"
    assert ev["side"] == "long"
    assert ev["notional_usd"] == 6000.0
    assert "line 2: skipped (malformed)" in r.stderr
    assert "2 frames, 1 events, 1 skipped (malformed=1)" in r.stderr


def test_cli_replay_twice_identical(capture: Path) -> None:
    """`riskmon replay FILE --emit alerts` is byte-identical across runs."""
    runs = [
        subprocess.run(
            [*RISKMON, "replay", str(capture), "--emit", "alerts"],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        ).stdout
        for _ in range(2)
    ]
    assert runs[0]
    assert runs[0] == runs[1]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("venues: [\n", "line 2: not valid YAML"),
        ("venues:\n  binance-usdm: {symbols: 3}\n", "venues.binance-usdm.symbols"),
        ("venues:\n  mtgox: {}\n", "unknown venue(s) mtgox"),
        ("no_such_key: 1\n", "no_such_key"),
        ("- a list\n", "the top level must be a mapping"),
        ("bus: {kind: kafka}\n", "bus.brokers: Field required"),
        ("bus: {kind: rabbitmq}\n", "'rabbitmq'"),  # an unknown bus is refused
    ],
)
def test_run_bad_config_is_one_line_error(tmp_path: Path, content: str, expected: str) -> None:
    """`riskmon run --config BAD` exits 2 with one line on stderr and no traceback."""
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(content)
    r = subprocess.run(
        [*RISKMON, "run", "--config", str(cfg)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert r.returncode == 2
    assert expected in r.stderr
    assert "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_run_missing_config(tmp_path: Path) -> None:
    """A config path that does not exist is a clear error."""
    r = subprocess.run(
        [*RISKMON, "run", "--config", str(tmp_path / "nope.yaml")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert r.returncode == 2
    assert "cannot read config" in r.stderr


def test_cascade_fires_the_ladder_in_order(capture: Path) -> None:
    """Replaying the spine's cascade fires burst, then 1 h warning, then 1 h critical, for longs."""
    lines = [json.loads(x) for x in _replay(capture, "alerts").splitlines()]
    firing = [
        (a["rule"], a["severity"], a["labels"].get("asset"))
        for a in lines
        if a["status"] == "firing"
    ]
    first = {key: i for i, key in reversed(list(enumerate(firing)))}
    burst = first[("liquidation_burst", "info", "all")]
    warn = first[("liquidations_1h", "warning", "all")]
    crit = first[("liquidations_1h", "critical", "all")]
    assert burst < warn < crit
    assert ("liquidation_long_share", "critical", "all") in first
    assert {sev for _, sev, _ in firing} <= {"info", "warning", "critical"}
    starts = [a["starts_at"] for a in lines if a["status"] == "firing"]
    assert starts == sorted(starts)


def test_cli_capture_records_live_frames(tmp_path: Path) -> None:
    """`riskmon capture` records the frames a venue sends, as gzip capture lines."""
    import asyncio

    from monitor.simulator.server import ExchangeSimulator
    from streams.events import Trade

    out = tmp_path / "live.jsonl.gz"

    async def run() -> subprocess.CompletedProcess[str]:
        async with ExchangeSimulator([BinanceUsdmSim()]) as sim:
            cfg = tmp_path / "cap.yaml"
            cfg.write_text(
                f"simulator: {sim.url}\nstate_dir: {tmp_path / 'state'}\n"
                "venues:\n  binance-usdm: {symbols: [BTCUSDT], channels: [trades]}\n"
            )
            proc = await asyncio.create_subprocess_exec(
                *RISKMON,
                "capture",
                str(out),
                "--config",
                str(cfg),
                "--duration",
                "3",
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            for _ in range(200):
                if any(s.subscriptions for s in sim.sessions("binance-usdm")):
                    break
                await asyncio.sleep(0.02)
            for i in range(3):
                sim.publish(
                    Trade(
                        venue="binance-usdm",
                        symbol="BTCUSDT",
                        instrument="BTC-USDT-PERP",
                        asset="BTC",
                        ts_event=1_763_714_000_000_000_000 + i,
                        ts_recv=0,
                        price=85_000.0,
                        size=1.0,
                        notional_usd=85_000.0,
                        side="buy",
                    )
                )
            stdout, stderr = await proc.communicate()
            return subprocess.CompletedProcess(
                [], proc.returncode or 0, stdout.decode(), stderr.decode()
            )

    r = asyncio.run(run())
    assert r.returncode == 0, r.stderr
    with gzip.open(out, "rt", encoding="utf-8") as fh:
        lines = [json.loads(x) for x in fh]
    frames = [json.loads(x["frame"]) for x in lines]
    trades = [f for f in frames if f.get("stream") == "btcusdt@aggTrade"]
    assert len(trades) == 3
    assert all(x["venue"] == "binance-usdm" for x in lines)
    assert "wrote" in r.stderr
