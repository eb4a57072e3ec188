"""Paths of the deploy files and the validators that check them, for tests/test_deploy.

The validators are real programs. Python ones come from pyproject.toml's ``test`` extra and live
next to the interpreter running the tests (check-jsonschema, yamllint, kubernetes-validate,
hadolint, kubectl for kustomize); Debian ones are installed by ``deploy/test-tools.sh``
(promtool, amtool, systemd-analyze, chromium). A missing tool fails the test with the command
that installs it: these checks never skip.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "compose"
K8S = DEPLOY / "k8s"
OVERLAYS = ("single", "kafka")

_PIP_TOOLS = {"check-jsonschema", "yamllint", "kubernetes-validate", "hadolint", "kubectl"}
_DEBIAN_TOOLS = {"promtool", "amtool", "systemd-analyze", "chromium"}


def tool(name: str) -> str:
    """The path of validator ``name``; fails the test (never skips) when it is not installed."""
    if name in _PIP_TOOLS:
        # the test extra's console scripts, not whatever else is on PATH (e.g. another kubectl)
        path = Path(sys.executable).parent / name
        if path.exists():
            return str(path)
        pytest.fail(f"{name} is missing: pip install -e '.[test]' (pyproject.toml test extra)")
    assert name in _DEBIAN_TOOLS, name
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is missing: run deploy/test-tools.sh as root")
    return found


def run(
    *args: str | Path, cwd: Path = ROOT, timeout_s: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run a validator; return the completed process (output captured as text)."""
    return subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )


def ok(proc: subprocess.CompletedProcess[str]) -> str:
    """Assert exit 0 and return stdout; the message shows the command and everything it said."""
    assert proc.returncode == 0, (
        f"{' '.join(proc.args)} exited {proc.returncode}\n"
        f"stdout:\n{proc.stdout[-4000:]}\nstderr:\n{proc.stderr[-4000:]}"
    )
    return proc.stdout
