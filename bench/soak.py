"""Soak: the daemon against the simulator for a while, with faults on a schedule (issue 10).

Three real processes and two receivers on 127.0.0.1:

- ``riskmon simulate --scenario S --speed X --loop`` plays a scenario forever (each lap shifted
  forward, so the clock never goes back); faults go through its ``POST /_control/fault``;
- ``riskmon run`` (the daemon) follows the simulator's clock and delivers every alert to two
  webhook receivers served by this script (``hook-a``, ``hook-b``);
- this script injects faults on a one-minute schedule (connection drops, a stall, refused
  connections, garbage / truncated / unknown frames, REST 429 and 503, REST bodies that are not
  UTF-8, not JSON, truncated or 50 MB), puts ``hook-a`` in an outage (503) and rate-limits
  ``hook-b`` (429 with ``Retry-After``) for a while, and samples the daemon every 30 s: RSS, open
  file descriptors, events processed, task restarts.

At the end the faults stop, the receivers are healthy for ``--grace`` seconds so the outbox can
drain, the daemon is stopped with SIGTERM, and its store's outbox is compared with what each
receiver accepted. It exits 1 when

- memory grows without bound: the largest RSS of the last third of the samples is more than
  ``--rss-growth`` (default 20%) and 50 MB above the largest of the middle third;
- open file descriptors grow: more than 20 above the first sample;
- an alert is lost: an outbox row still pending (or dead) after the grace period, or marked
  delivered without the receiver having accepted its idempotency key;
- an alert is duplicated: a receiver accepted the same idempotency key twice. The documented
  at-least-once window (docs/alerting.md, delivery guarantees) allows that only after the daemon
  died or a request timed out after the receiver processed it; neither is a planned fault here,
  so every duplicate is reported and fails the run. The direct task-failing meta-alerts (which
  bypass the outbox, with keys ``task-meta-...``) are counted apart.

Run: ``.venv/bin/python bench/soak.py`` (10 minutes), ``--minutes 1`` for a quick look.
Not run by ``bench/run.py`` (it is named ``soak.py``, not ``bench_*.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from monitor.simulator.scenarios import get_scenario  # noqa: E402

RISKMON = [sys.executable, "-m", "monitor.cli"]


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Hook:
    """A webhook receiver that can be put in an outage (503) or rate-limited (429)."""

    name: str
    mode: str = "ok"  # ok | outage | limited
    keys: dict[str, int] = field(default_factory=dict)  # idempotency key -> times accepted
    meta: int = 0  # task-failing meta-alerts (sent directly, not through the outbox)
    refused: int = 0
    requests: int = 0

    async def handle(self, request: web.Request) -> web.Response:
        await request.read()
        self.requests += 1
        if self.mode == "outage":
            self.refused += 1
            return web.Response(status=503, text="<html>down</html>", content_type="text/html")
        if self.mode == "limited":
            self.refused += 1
            return web.Response(status=429, headers={"Retry-After": "2"}, text="slow down")
        key = request.headers.get("Idempotency-Key", "")
        if key.startswith("task-meta-"):
            self.meta += 1
        else:
            self.keys[key] = self.keys.get(key, 0) + 1
        return web.Response(text="ok")

    @property
    def duplicates(self) -> int:
        return sum(n - 1 for n in self.keys.values() if n > 1)


def proc_figures(pid: int) -> tuple[float, int]:
    """RSS (MB) and open file descriptors of a process, from /proc."""
    rss_kb = 0
    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                rss_kb = int(line.split()[1])
    return rss_kb / 1024, len(os.listdir(f"/proc/{pid}/fd"))


def parse_metrics(text: str) -> dict[str, float]:
    """Sum of each family's samples we report (by name, labels folded where asked)."""
    out: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        name_labels, _, value = line.rpartition(" ")
        name = name_labels.split("{", 1)[0]
        try:
            v = float(value)
        except ValueError:
            continue
        out[name] = out.get(name, 0.0) + v
        if name in ("riskmon_feed_rest_requests_total", "riskmon_task_restarts_total"):
            out[name_labels] = v
    return out


async def scrape(http: aiohttp.ClientSession, port: int) -> dict[str, float]:
    try:
        async with http.get(
            f"http://127.0.0.1:{port}/metrics", timeout=aiohttp.ClientTimeout(total=10)
        ) as r:
            return parse_metrics(await r.text())
    except (aiohttp.ClientError, TimeoutError):
        return {}


async def fault(http: aiohttp.ClientSession, sim_url: str, venue: str, **body: Any) -> None:
    try:
        async with http.post(
            f"{sim_url}/_control/fault",
            json={"venue": venue, **body},
            timeout=aiohttp.ClientTimeout(total=10),
        ) as r:
            await r.read()
    except (aiohttp.ClientError, TimeoutError) as e:
        print(f"  fault {body.get('fault')} not injected: {type(e).__name__}", flush=True)


async def fault_schedule(
    http: aiohttp.ClientSession,
    sim_url: str,
    venues: list[str],
    hooks: dict[str, Hook],
    minutes: float,
    counts: dict[str, int],
) -> None:
    """One round of faults per minute, on every venue in turn; receiver trouble in between."""
    start = time.monotonic()
    total = minutes * 60
    minute = 0
    while time.monotonic() - start < total:
        v = venues[minute % len(venues)]
        plan: list[tuple[float, dict[str, Any]]] = [
            (5, {"fault": "drop"}),
            (12, {"fault": "garbage", "count": 50}),
            (14, {"fault": "truncated", "count": 20}),
            (16, {"fault": "unknown", "count": 20}),
            (20, {"fault": "rest_error", "status": 429, "count": 3, "retry_after_s": 1}),
            (22, {"fault": "rest_error", "status": 503, "count": 3}),
            (26, {"fault": "rest_body", "kind": "html_503"}),
            (27, {"fault": "rest_body", "kind": "not_utf8"}),
            (28, {"fault": "rest_body", "kind": "not_json"}),
            (29, {"fault": "rest_body", "kind": "truncated"}),
            (30, {"fault": "rest_body", "kind": "huge"}),
            (35, {"fault": "stall", "seconds": 5}),
            (48, {"fault": "refuse", "seconds": 3}),
            (48.5, {"fault": "drop"}),
        ]
        base = start + minute * 60
        for at, body in plan:
            delay = base + at - time.monotonic()
            if base + at - start >= total:
                return
            if delay > 0:
                await asyncio.sleep(delay)
            await fault(http, sim_url, v, **body)
            counts[body["fault"]] = counts.get(body["fault"], 0) + 1
        # receivers: hook-a down in minute 3 (60 s), hook-b rate-limited in minute 6 (30 s)
        if minute % 10 == 2:
            asyncio.get_running_loop().call_later(
                max(0.0, base + 60 - time.monotonic()), _set, hooks["hook-a"], "outage", counts
            )
            asyncio.get_running_loop().call_later(
                max(0.0, base + 120 - time.monotonic()), _set, hooks["hook-a"], "ok", counts
            )
        if minute % 10 == 5:
            asyncio.get_running_loop().call_later(
                max(0.0, base + 60 - time.monotonic()), _set, hooks["hook-b"], "limited", counts
            )
            asyncio.get_running_loop().call_later(
                max(0.0, base + 90 - time.monotonic()), _set, hooks["hook-b"], "ok", counts
            )
        minute += 1
        await asyncio.sleep(max(0.0, start + minute * 60 - time.monotonic()))


def _set(hook: Hook, mode: str, counts: dict[str, int]) -> None:
    hook.mode = mode
    counts[f"{hook.name}:{mode}"] = counts.get(f"{hook.name}:{mode}", 0) + 1
    print(f"  receiver {hook.name}: {mode}", flush=True)


def _log_file(path: Path) -> IO[bytes]:
    return path.open("wb")


def outbox(db: Path) -> dict[str, dict[str, list[str]]]:
    """receiver -> state -> idempotency keys, read from the daemon's store."""
    out: dict[str, dict[str, list[str]]] = {}
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        for receiver, state, key in con.execute(
            "SELECT receiver, state, idempotency_key FROM outbox"
        ):
            out.setdefault(receiver, {}).setdefault(state, []).append(key)
        return out
    finally:
        con.close()


def alert_transitions(db: Path) -> dict[str, int]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return dict(con.execute("SELECT status, COUNT(*) FROM alert_events GROUP BY status"))
    finally:
        con.close()


async def soak(args: argparse.Namespace) -> int:
    work = Path(tempfile.mkdtemp(prefix="riskmon-soak-"))
    sc = get_scenario(args.scenario, args.seed)
    info = sc.info
    speed = args.speed or info.demo_speed
    sim_port, metrics_port = free_port(), free_port()
    sim_url = f"http://127.0.0.1:{sim_port}"
    hooks = {n: Hook(n) for n in ("hook-a", "hook-b")}
    app = web.Application()
    for h in hooks.values():
        app.router.add_post(f"/{h.name}", h.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    hook_port = free_port()
    await web.TCPSite(runner, "127.0.0.1", hook_port).start()
    venues = sorted(info.symbols)
    config = {
        "venues": {
            v: {"symbols": syms, **({"channels": info.channels[v]} if v in info.channels else {})}
            for v, syms in info.symbols.items()
        },
        "simulator": sim_url,
        "state_dir": str(work / "state"),
        "store": str(work / "riskmon.db"),
        "metrics": {"host": "127.0.0.1", "port": metrics_port},
        "alerting": {
            "receivers": [
                {"type": "webhook", "name": n, "url": f"http://127.0.0.1:{hook_port}/{n}"}
                for n in hooks
            ]
        },
    }
    cfg = work / "riskmon.yaml"
    cfg.write_text(json.dumps(config, indent=1))
    print(
        f"soak: scenario {args.scenario} at {speed:g}x (looped), {len(venues)} venue(s), "
        f"{args.minutes:g} min, work dir {work}",
        flush=True,
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    sim_log = _log_file(work / "simulate.log")
    daemon_log = _log_file(work / "daemon.log")
    sim = await asyncio.create_subprocess_exec(
        *RISKMON, "simulate", "--port", str(sim_port), "--scenario", args.scenario,
        "--speed", str(speed), "--seed", str(args.seed), "--loop",
        stdout=sim_log, stderr=sim_log, env=env, cwd=ROOT,
    )  # fmt: skip
    await asyncio.sleep(2.0)
    daemon = await asyncio.create_subprocess_exec(
        *RISKMON, "run", "--config", str(cfg),
        stdout=daemon_log, stderr=daemon_log, env=env, cwd=ROOT,
    )  # fmt: skip
    samples: list[tuple[float, float, int, dict[str, float]]] = []
    counts: dict[str, int] = {}
    failures: list[str] = []
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(120):
                if await scrape(http, metrics_port):
                    break
                await asyncio.sleep(0.5)
            t0 = time.monotonic()
            faults = asyncio.create_task(
                fault_schedule(http, sim_url, venues, hooks, args.minutes, counts)
            )
            print(
                f"{'t_s':>6} {'rss_mb':>8} {'fds':>5} {'events':>10} {'ev/s':>8} "
                f"{'restarts':>8} {'skipped':>8} {'rest_bad':>8} {'notices':>8}",
                flush=True,
            )
            last_events, last_t = 0.0, t0
            while True:
                now = time.monotonic()
                m = await scrape(http, metrics_port)
                if daemon.returncode is not None:
                    failures.append(f"the daemon exited ({daemon.returncode})")
                    break
                rss, fds = proc_figures(daemon.pid)
                samples.append((now - t0, rss, fds, m))
                events = m.get("riskmon_feed_events_total", 0.0)
                rest_bad = sum(
                    v
                    for k, v in m.items()
                    if k.startswith("riskmon_feed_rest_requests_total{") and 'outcome="ok"' not in k
                )
                print(
                    f"{now - t0:6.0f} {rss:8.1f} {fds:5d} {events:10.0f} "
                    f"{(events - last_events) / max(1e-9, now - last_t):8.0f} "
                    f"{m.get('riskmon_task_restarts_total', 0):8.0f} "
                    f"{m.get('riskmon_feed_frames_skipped_total', 0):8.0f} {rest_bad:8.0f} "
                    f"{m.get('riskmon_pipeline_alert_notices_total', 0):8.0f}",
                    flush=True,
                )
                last_events, last_t = events, now
                if now - t0 >= args.minutes * 60:
                    break
                await asyncio.sleep(min(args.sample, max(0.5, t0 + args.minutes * 60 - now)))
            faults.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await faults
            for h in hooks.values():
                h.mode = "ok"
            print(f"faults injected: {json.dumps(counts, sort_keys=True)}", flush=True)
            print(f"grace: {args.grace:g} s with healthy receivers", flush=True)
            await asyncio.sleep(args.grace)
            final = await scrape(http, metrics_port)
    finally:
        for p in (daemon, sim):
            if p.returncode is None:
                p.send_signal(signal.SIGTERM)
        for p in (daemon, sim):
            try:
                await asyncio.wait_for(p.wait(), 60)
            except TimeoutError:
                p.kill()
                await p.wait()
        sim_log.close()
        daemon_log.close()
        await runner.cleanup()
    if daemon.returncode not in (0, None):
        failures.append(f"the daemon exited {daemon.returncode} on SIGTERM")
    return report(work, samples, final, hooks, failures, args)


def report(
    work: Path,
    samples: list[tuple[float, float, int, dict[str, float]]],
    final: dict[str, float],
    hooks: dict[str, Hook],
    failures: list[str],
    args: argparse.Namespace,
) -> int:
    """Print the figures and the verdict; return the exit code."""
    if len(samples) >= 3:
        third = max(1, len(samples) // 3)
        mid = max(s[1] for s in samples[third : 2 * third]) if 2 * third > third else 0.0
        late = max(s[1] for s in samples[2 * third :])
        print(
            f"RSS MB: start {samples[0][1]:.1f}, middle-third max {mid:.1f}, last-third max "
            f"{late:.1f}, end {samples[-1][1]:.1f}"
        )
        if late > mid * (1 + args.rss_growth) and late - mid > 50:
            failures.append(f"RSS grew from {mid:.1f} to {late:.1f} MB in the last third")
        print(f"open fds: start {samples[0][2]}, end {samples[-1][2]}, max "
              f"{max(s[2] for s in samples)}")  # fmt: skip
        if samples[-1][2] > samples[0][2] + 20:
            failures.append(f"open fds grew from {samples[0][2]} to {samples[-1][2]}")
    restarts = {
        k: v for k, v in final.items() if k.startswith("riskmon_task_restarts_total{") and v
    }
    print(f"task restarts: {int(final.get('riskmon_task_restarts_total', 0))} {restarts or ''}")
    rest = {
        k.split("{", 1)[1].rstrip("}"): v
        for k, v in final.items()
        if k.startswith("riskmon_feed_rest_requests_total{")
    }
    print(f"REST outcomes: {json.dumps(rest, sort_keys=True)}")
    print(
        f"events: {final.get('riskmon_feed_events_total', 0):.0f}, frames skipped: "
        f"{final.get('riskmon_feed_frames_skipped_total', 0):.0f}, reconnects: "
        f"{final.get('riskmon_feed_reconnects_total', 0):.0f}, skewed events dropped: "
        f"{final.get('riskmon_pipeline_skewed_events_total', 0):.0f}"
    )
    db = work / "riskmon.db"
    transitions = alert_transitions(db)
    print(
        f"alert notices (pipeline): {final.get('riskmon_pipeline_alert_notices_total', 0):.0f}, "
        f"transitions stored: {json.dumps(transitions, sort_keys=True)}"
    )
    rows = outbox(db)
    print(
        f"{'receiver':<8} {'fired':>6} {'deliv.':>6} {'supers.':>7} {'pending':>7} {'dead':>5} "
        f"{'accepted':>8} {'dups':>5} {'refused':>7} {'meta':>5}"
    )
    for name, hook in hooks.items():
        by_state = rows.get(name, {})
        delivered = set(by_state.get("delivered", []))
        fired = sum(len(v) for v in by_state.values())
        pending = len(by_state.get("pending", []))
        dead = len(by_state.get("dead", []))
        print(
            f"{name:<8} {fired:6d} {len(delivered):6d} {len(by_state.get('superseded', [])):7d} "
            f"{pending:7d} {dead:5d} {len(hook.keys):8d} {hook.duplicates:5d} "
            f"{hook.refused:7d} {hook.meta:5d}"
        )
        if pending or dead:
            failures.append(f"{name}: {pending} pending and {dead} dead rows after the grace")
        missing = delivered - set(hook.keys)
        if missing:
            failures.append(f"{name}: {len(missing)} rows marked delivered never reached it")
        unknown = set(hook.keys) - delivered
        if unknown:
            failures.append(f"{name}: accepted {len(unknown)} keys not marked delivered")
        if hook.duplicates:
            failures.append(f"{name}: {hook.duplicates} duplicate deliveries")
    print(f"work dir (logs, store): {work}")
    if failures:
        print("FAIL: " + "; ".join(failures))
        return 1
    print("PASS")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description="Soak the daemon against the simulator with faults.")
    ap.add_argument("--minutes", type=float, default=10.0, help="how long (default 10)")
    ap.add_argument("--scenario", default="cascade", help="scenario to loop (default cascade)")
    ap.add_argument("--speed", type=float, default=240.0, help="scenario speed (default 240)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--sample", type=float, default=30.0, help="seconds between samples")
    ap.add_argument("--grace", type=float, default=45.0, help="drain time at the end (s)")
    ap.add_argument(
        "--rss-growth", type=float, default=0.2, help="allowed RSS growth, last vs middle third"
    )
    return asyncio.run(soak(ap.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
