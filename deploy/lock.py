"""Write or check ``deploy/requirements.lock``: riskmon's runtime dependencies, pinned.

The lock is the closure of ``[project].dependencies`` in pyproject.toml (no extras), each
distribution pinned to the version installed in the environment that runs this script, i.e. the
one the test suite passed in. The image installs it before riskmon itself, so a build is
reproducible and its dependency layer is cached until the lock changes.

    python deploy/lock.py            # rewrite the lock from the current environment
    python deploy/lock.py --check    # exit 1 if the lock misses a dependency or a pin violates
                                     # a requirement of the closure (what the test runs)
"""

from __future__ import annotations

import argparse
import importlib.metadata as md
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "deploy" / "requirements.lock"
HEADER = (
    "# riskmon runtime dependencies, pinned: the closure of pyproject.toml's\n"
    "# [project].dependencies as installed where the tests passed. Regenerate with\n"
    "# `python deploy/lock.py`; the test suite runs `python deploy/lock.py --check`.\n"
)


def _applies(req: Requirement) -> bool:
    return req.marker is None or req.marker.evaluate({"extra": ""})


def closure() -> tuple[dict[NormalizedName, str], list[Requirement]]:
    """Return installed name -> version for the runtime closure, and every requirement edge."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    todo = [Requirement(r) for r in project["dependencies"]]
    pins: dict[NormalizedName, str] = {}
    edges: list[Requirement] = []
    while todo:
        req = todo.pop()
        if not _applies(req):
            continue
        edges.append(req)
        name = canonicalize_name(req.name)
        if name in pins:
            continue
        dist = md.distribution(req.name)
        pins[name] = dist.version
        todo.extend(Requirement(r) for r in dist.requires or [])
    return pins, edges


def read_lock(path: Path = LOCK) -> dict[NormalizedName, str]:
    """Parse ``name==version`` lines (comments and blank lines ignored)."""
    out: dict[NormalizedName, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            out[canonicalize_name(name)] = version
    return out


def problems(lock: dict[NormalizedName, str]) -> list[str]:
    """What is wrong with ``lock`` against the runtime closure (empty when it is usable)."""
    pins, edges = closure()
    out = [f"{n}: missing from the lock" for n in sorted(set(pins) - set(lock))]
    for req in edges:
        pinned = lock.get(canonicalize_name(req.name))
        if pinned is not None and not req.specifier.contains(pinned, prereleases=True):
            out.append(f"{req.name}=={pinned} does not satisfy {req}")
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Write or check deploy/requirements.lock.")
    p.add_argument("--check", action="store_true", help="check the lock instead of writing it")
    args = p.parse_args(argv)
    if args.check:
        found = problems(read_lock())
        for line in found:
            print(f"requirements.lock: {line}", file=sys.stderr)
        return 1 if found else 0
    pins, _ = closure()
    LOCK.write_text(
        HEADER + "".join(f"{n}=={v}\n" for n, v in sorted(pins.items())), encoding="utf-8"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
