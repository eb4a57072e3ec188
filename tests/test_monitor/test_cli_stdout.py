"""Verbs that print data keep stdout for data: every log line goes to stderr."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

# OKX needs contract sizes, so a symbol without metadata is skipped and logged; BTC is known
_UNKNOWN = "NEWCOIN-USDT-SWAP"
_FRAMES = [
    {
        "arg": {"channel": "trades", "instId": sym},
        "data": [
            {
                "instId": sym,
                "tradeId": "1",
                "px": "35000",
                "sz": "3",
                "side": "sell",
                "ts": "1700000000000",
            }
        ],
    }
    for sym in (_UNKNOWN, "BTC-USDT-SWAP")
]


def test_parse_prints_only_events_on_stdout_and_the_skip_log_on_stderr(tmp_path: Path) -> None:
    frames = tmp_path / "okx.jsonl"
    frames.write_text("".join(json.dumps(f) + "\n" for f in _FRAMES), encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "monitor.cli", "parse", "--venue", "okx-swap", str(frames)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [(e["type"], e["symbol"]) for e in events] == [("trade", "BTC-USDT-SWAP")]
    assert "instruments.unknown_symbol" in proc.stderr
    assert _UNKNOWN in proc.stderr
