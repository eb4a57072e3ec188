"""``riskmon worker`` subprocesses for the Kafka benchmarks, and CPU accounting from ``/proc``."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

__all__ = ["Workers", "proc_cpu_s"]


def proc_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) process ``pid`` used so far, all its threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Workers:
    """``riskmon worker`` subprocesses on one config."""

    def __init__(self, tmp: Path, bus_cfg: dict[str, Any], n: int) -> None:
        cfg = {"state_dir": str(tmp / "state"), "metrics": {"enabled": False}, "bus": bus_cfg}
        self.config = tmp / "bench.yaml"
        self.config.write_text(yaml.safe_dump(cfg), encoding="utf-8")
        self.logs = [tmp / f"worker{i}.log" for i in range(n)]
        self.procs = [
            subprocess.Popen(
                [sys.executable, "-m", "monitor.cli", "worker", "--config", str(self.config)],
                stdout=log.open("wb"),
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
            for log in self.logs
        ]

    def owned(self) -> list[list[int]]:
        """The partitions each worker last logged as assigned."""
        out = []
        for log in self.logs:
            last: list[int] = []
            for raw in log.read_text(errors="replace").splitlines():
                line = raw[raw.find("{") :]
                if '"kafka.worker_assigned"' in line:
                    last = json.loads(line)["partitions"]
            out.append(last)
        return out

    async def wait_balanced(self, partitions: int, timeout_s: float = 60.0) -> None:
        """Wait until the workers hold ``partitions`` evenly, for a second unchanged."""
        n = len(self.procs)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            owned = self.owned()
            if all(len(o) == partitions // n for o in owned):
                await asyncio.sleep(1.0)
                if self.owned() == owned:
                    return
            await asyncio.sleep(0.2)
        raise RuntimeError(f"workers did not balance: {self.owned()}")

    def cpu_s(self) -> list[float]:
        """CPU seconds (user + system) each worker used so far."""
        return [proc_cpu_s(p.pid) for p in self.procs]

    def stop(self) -> None:
        """SIGTERM each worker; SIGKILL one that has not exited after 15 s."""
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
