"""Bad input to the offline verbs as a user meets it: one line on stderr, exit 2, no traceback.

Binary files, a ``.gz`` that is not gzip, garbage and empty files, an unwritable report path
(checked before the run), a busy port; and the backtest's progress bar, drawn only on a terminal.
"""

from __future__ import annotations

import os
import pty
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.test_monitor.test_replay import write_cascade_capture

RISKMON = [sys.executable, "-m", "monitor.cli"]


def _riskmon(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*RISKMON, *args], capture_output=True, text=True, timeout=120, check=False
    )


def _one_line_exit_2(p: subprocess.CompletedProcess[str], *words: str) -> None:
    assert p.returncode == 2, p.stderr
    assert "Traceback" not in p.stderr
    lines = p.stderr.splitlines()
    assert len(lines) == 1, p.stderr
    assert lines[0].startswith("riskmon: error: ")
    for w in words:
        assert w in lines[0], lines[0]


@pytest.fixture(name="files")
def _files(tmp_path: Path) -> dict[str, Path]:
    rnd = bytes(range(256)) * 40  # not UTF-8 (0x80 alone is no valid start byte)
    files = {
        "binary": tmp_path / "data.bin",
        "fake_gz": tmp_path / "capture.jsonl.gz",
        "garbage": tmp_path / "notes.txt",
        "empty": tmp_path / "empty.jsonl",
    }
    files["binary"].write_bytes(b"\x89PNG\r\n" + rnd)
    files["fake_gz"].write_bytes(b"this is plain text, not gzip\n" * 20)
    files["garbage"].write_text("hello world\n" * 500 + "not json at all {]\n")
    files["empty"].write_bytes(b"")
    return files


VERBS = [("replay",), ("parse", "--venue", "binance-usdm"), ("backtest",)]


@pytest.mark.parametrize("verb", VERBS, ids=lambda v: v[0])
def test_a_binary_file(verb: tuple[str, ...], files: dict[str, Path]) -> None:
    _one_line_exit_2(_riskmon(*verb, str(files["binary"])), "data.bin", "not UTF-8")


@pytest.mark.parametrize("verb", VERBS, ids=lambda v: v[0])
def test_a_gz_that_is_not_gzip(verb: tuple[str, ...], files: dict[str, Path]) -> None:
    _one_line_exit_2(_riskmon(*verb, str(files["fake_gz"])), "capture.jsonl.gz", "not a gzip")


@pytest.mark.parametrize("verb", ["replay", "backtest"])
def test_garbage_is_an_error_not_an_empty_success(verb: str, files: dict[str, Path]) -> None:
    """501 lines that are no frames of any venue: one error line (not 501 skip reports)."""
    p = _riskmon(verb, str(files["garbage"]))
    _one_line_exit_2(p, "no events in", "notes.txt", "501 frames", "501 skipped")
    assert p.stdout == ""  # no empty alert table, no 1970 time range


@pytest.mark.parametrize("verb", ["replay", "backtest"])
def test_an_empty_file(verb: str, files: dict[str, Path]) -> None:
    p = _riskmon(verb, str(files["empty"]))
    _one_line_exit_2(p, "empty.jsonl", "is empty")
    assert p.stdout == ""


def test_replay_of_empty_stdin() -> None:
    p = subprocess.run(
        [*RISKMON, "replay", "-"], input="", capture_output=True, text=True, timeout=120
    )
    _one_line_exit_2(p, "stdin is empty")


def test_replay_still_reports_skipped_frames_of_a_real_capture(tmp_path: Path) -> None:
    """Skip reports held back until the first event are printed once the input proves real."""
    path = write_cascade_capture(tmp_path / "cascade.jsonl")
    text = path.read_text()
    path.write_text("garbage before the capture\n" + text + "garbage after\n")
    p = _riskmon("replay", str(path))
    assert p.returncode == 0, p.stderr
    lines = p.stderr.splitlines()
    assert lines[0].startswith("line 1: skipped")
    assert any(x.startswith(f"line {len(text.splitlines()) + 2}: skipped") for x in lines)
    assert lines[-1].startswith("riskmon replay: ")
    assert "2 skipped" in lines[-1]


@pytest.mark.parametrize(
    ("report", "words"),
    [
        ("/nonexistent/x.html", ("/nonexistent/x.html", "no such directory")),
        (".", ("is a directory",)),
        ("/proc/x.html", ("/proc/x.html", "No such file")),  # a directory that takes no files
    ],
)
def test_an_unwritable_report_fails_before_the_run(report: str, words: tuple[str, ...]) -> None:
    """The week-long scenario would take minutes: the error must come at once."""
    started = time.monotonic()
    p = _riskmon("backtest", "--scenario", "calm-week", "--report", report)
    _one_line_exit_2(p, *words)
    assert time.monotonic() - started < 30


def test_capture_to_an_unwritable_path() -> None:
    _one_line_exit_2(
        _riskmon("capture", "/proc/riskmon/x.jsonl", "--duration", "1"), "/proc/riskmon/x.jsonl"
    )


def test_simulate_on_a_busy_port() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        p = _riskmon("simulate", "--port", str(port))
    _one_line_exit_2(p, f"127.0.0.1:{port}", "in use")


def _stderr_on_a_terminal(*args: str) -> tuple[int, str]:
    """Run riskmon with stderr on a pseudo-terminal; its exit code and what the terminal got."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [*RISKMON, *args], stdout=subprocess.DEVNULL, stderr=follower, stdin=subprocess.DEVNULL
    )
    os.close(follower)
    chunks: list[bytes] = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the process closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    return proc.wait(timeout=120), b"".join(chunks).decode("utf-8", "replace")


def test_backtest_progress_bar_only_on_a_terminal(tmp_path: Path) -> None:
    path = write_cascade_capture(tmp_path / "cascade.jsonl.gz")
    rc, term = _stderr_on_a_terminal("backtest", str(path))
    assert rc == 0, term
    assert "backtest cascade.jsonl.gz" in term
    assert "100%" in term
    assert "riskmon backtest: cascade.jsonl.gz" in term
    piped = _riskmon("backtest", str(path))
    assert piped.returncode == 0, piped.stderr
    assert "100%" not in piped.stderr
    assert "\x1b" not in piped.stderr
    assert piped.stderr.startswith("riskmon backtest: cascade.jsonl.gz")
