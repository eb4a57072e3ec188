"""``riskmon run`` start-up errors as a user meets them: one line, exit 2, no traceback."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

from tests.test_monitor.test_run_daemon import free_port

RISKMON = [sys.executable, "-m", "monitor.cli"]


def _run(cfg: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*RISKMON, "run", "--config", str(cfg)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _config(tmp_path: Path, store: Path, port: int, rules: str = "november-2025") -> Path:
    cfg = tmp_path / "riskmon.yaml"
    cfg.write_text(
        f"store: {store}\nstate_dir: {tmp_path / 'state'}\nrules: {rules}\n"
        f"metrics: {{host: 127.0.0.1, port: {port}}}\nsimulator: http://127.0.0.1:9\n"
    )
    return cfg


def _one_line_exit_2(p: subprocess.CompletedProcess[str], *words: str) -> None:
    assert p.returncode == 2, p.stderr
    assert "Traceback" not in p.stderr
    lines = [x for x in p.stderr.splitlines() if x.strip() and not x.startswith("{")]
    assert len(lines) == 1, p.stderr  # the error; the JSON lines before it are the daemon's log
    for w in words:
        assert w in lines[0]


def test_a_store_that_is_not_a_database(tmp_path: Path) -> None:
    store = tmp_path / "riskmon.db"
    store.write_text("this is not an SQLite file " * 10)
    _one_line_exit_2(_run(_config(tmp_path, store, free_port())), "riskmon.db", "not a database")


def test_a_metrics_port_in_use(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        p = _run(_config(tmp_path, tmp_path / "riskmon.db", port))
    _one_line_exit_2(p, f"127.0.0.1:{port}", "in use")


def test_a_rule_file_that_cannot_be_read(tmp_path: Path) -> None:
    p = _run(
        _config(tmp_path, tmp_path / "riskmon.db", free_port(), rules=str(tmp_path / "x.yaml"))
    )
    _one_line_exit_2(p, "x.yaml")


def test_version_names_the_installed_release() -> None:
    from importlib.metadata import version

    p = subprocess.run([*RISKMON, "--version"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0
    assert p.stdout.strip() == f"riskmon {version('riskmon')}"
