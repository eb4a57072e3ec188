"""`riskmon run` and the alert CLIs as real processes, for the restart and silence tests.

:class:`DaemonProc` starts ``riskmon run --config FILE`` with its JSON log in a file, so a test
can wait for a log event; :func:`cli` runs one ``riskmon`` command to completion.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

from alerts.evaluator import AlertEvaluator
from alerts.rules import load_ruleset
from alerts.store import Store
from monitor.simulator.server import ExchangeSimulator
from streams.events import Liquidation, Trade

ROOT = Path(__file__).resolve().parents[2]
V = "binance-usdm"
T = 1_763_714_000_000_000_000


def env() -> dict[str, str]:
    """The environment of a child process: this checkout first on the path, no RISKMON_*."""
    out = {k: v for k, v in os.environ.items() if not k.startswith("RISKMON_")}
    out["PYTHONPATH"] = str(ROOT)
    return out


class DaemonProc:
    """One ``riskmon run`` process; its stderr (JSON log lines) goes to ``log_path``."""

    def __init__(self, cfg: Path, log_path: Path) -> None:
        self.cfg = cfg
        self.log_path = log_path
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> DaemonProc:
        with self.log_path.open("wb") as err:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "monitor.cli", "run", "--config", str(self.cfg),
                stdout=asyncio.subprocess.DEVNULL, stderr=err, env=env(),
            )  # fmt: skip
        return self

    def logs(self) -> list[dict[str, Any]]:
        out = []
        for line in self.log_path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                out.append({"event": "?", "text": line})
        return out

    def logged(self, event: str) -> bool:
        return any(e.get("event") == event for e in self.logs())

    async def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        await self.proc.wait()

    async def stop(self) -> int:
        """SIGTERM and wait; return the exit code."""
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.proc.wait(), 30)


async def cli(*args: str) -> tuple[int, str, str]:
    """Run ``riskmon ARGS`` to completion; return (exit code, stdout, stderr)."""
    p = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "monitor.cli", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env(),
    )  # fmt: skip
    out, err = await asyncio.wait_for(p.communicate(), 60)
    assert p.returncode is not None
    return p.returncode, out.decode(), err.decode()


def subscribed(sim: ExchangeSimulator) -> bool:
    return any(s.subscriptions for s in sim.sessions(V))


def publish_long_liquidations(
    sim: ExchangeSimulator, usd: float, at_ns: int = T, asset: str = "BTC"
) -> None:
    """Long liquidations worth ``usd`` on ``asset``USDT, then a trade that moves event time on."""
    symbol, instrument = f"{asset}USDT", f"{asset}-USDT-PERP"
    sim.publish(
        Liquidation(
            venue=V, symbol=symbol, instrument=instrument, asset=asset, ts_event=at_ns,
            ts_recv=0, price=80_000.0, size=usd / 80_000.0, notional_usd=usd, side="long",
        )
    )  # fmt: skip
    sim.publish(
        Trade(
            venue=V, symbol=symbol, instrument=instrument, asset=asset,
            ts_event=at_ns + 2_000_000_000, ts_recv=0, price=80_000.0, size=1.0,
            notional_usd=80_000.0, side="sell",
        )
    )  # fmt: skip


def store_firing(db: Path) -> set[str]:
    """Fingerprints of the alerts firing in the store."""
    store = Store.open(db)
    try:
        return {a.fingerprint for a in store.alerts(status="firing", limit=-1)}
    finally:
        store.close()


def evaluator_firing(state_path: Path, rules: str) -> set[str]:
    """Fingerprints of the alerts the daemon's saved evaluator holds as firing."""
    ev = AlertEvaluator(load_ruleset(rules))
    state = json.loads(state_path.read_text(encoding="utf-8"))
    if state.get("rules") is not None:
        ev.restore(state["rules"])
    return {a.fingerprint for a in ev.active()}
