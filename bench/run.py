"""Run every benchmark in ``bench/`` (each ``bench_*.py``) in sequence and print its output.

Run: ``make bench`` (installs the ``bench`` extra, then this), or ``.venv/bin/python bench/run.py``.
``bench/run.py feeds alerts`` runs only the named ones (``bench_<name>.py``); ``--list`` lists them.
Each benchmark runs in its own process with this interpreter, one after the other, so they do not
disturb each other's timings. ``--timeout S`` (default 1200, 0 for none) stops a benchmark, with
the processes it started, after S seconds. Exits non-zero if any benchmark failed or timed out.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent


def discover() -> dict[str, Path]:
    """Return ``name -> path`` of every ``bench_<name>.py`` present, sorted by name."""
    return {p.stem.removeprefix("bench_"): p for p in sorted(BENCH_DIR.glob("bench_*.py"))}


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def run_one(path: Path, timeout_s: float | None) -> str:
    """Run one benchmark, its output straight to ours; return ``ok`` or why it failed."""
    # its own process group, so a timeout also stops the subprocesses it started
    proc = subprocess.Popen(
        [sys.executable, str(path)], cwd=BENCH_DIR.parent, start_new_session=True
    )
    try:
        rc = proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        return f"TIMEOUT after {timeout_s:.0f} s"
    except BaseException:  # Ctrl-C: stop the benchmark too
        _kill_group(proc)
        raise
    return "ok" if rc == 0 else f"FAILED (exit {rc})"


def main() -> int:
    """Run the selected benchmarks; return 0 if all of them exited 0."""
    ap = argparse.ArgumentParser(description="Run the riskmon benchmarks in sequence.")
    ap.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    ap.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    ap.add_argument(
        "--timeout", type=float, default=1200.0, help="seconds per benchmark (0: no limit)"
    )
    args = ap.parse_args()

    found = discover()
    if args.list:
        for name, path in found.items():
            print(f"{name:<12} {path.relative_to(BENCH_DIR.parent)}")
        return 0
    unknown = [n for n in args.names if n not in found]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(found)}")
        return 2
    selected = {n: found[n] for n in args.names} if args.names else found

    timeout_s = args.timeout if args.timeout > 0 else None
    results: list[tuple[str, str, float]] = []
    for name, path in selected.items():
        print(f"\n=== {path.name} " + "=" * max(0, 72 - len(path.name)), flush=True)
        t = time.monotonic()
        status = run_one(path, timeout_s)
        results.append((name, status, time.monotonic() - t))

    print("\n=== summary " + "=" * 65)
    for name, status, dt in results:
        print(f"{name:<12} {status:<24} {dt:7.1f} s")
    return 0 if all(status == "ok" for _, status, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
