"""The image: deploy/Dockerfile passes hadolint, .dockerignore lets in exactly what it copies,
and deploy/requirements.lock pins the whole runtime closure consistently."""

from __future__ import annotations

import fnmatch
import re
import sys
import tomllib
from pathlib import Path

from tests.test_deploy.tools import DEPLOY, ROOT, ok, run, tool

DOCKERFILE = DEPLOY / "Dockerfile"


def test_hadolint_reports_nothing() -> None:
    proc = run(tool("hadolint"), "--no-color", DOCKERFILE)
    assert ok(proc).strip() == ""


def test_hadolint_fails_a_bad_dockerfile(tmp_path: Path) -> None:  # it really validates
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN pip install riskmon\nCMD riskmon run\n")
    proc = run(tool("hadolint"), "--no-color", bad)
    assert proc.returncode == 1
    for rule in ("DL3007", "DL3013", "DL3042", "DL3025"):
        assert rule in proc.stdout


def _dockerignore_admits(path: str) -> bool:
    """Apply .dockerignore (last matching pattern wins, `!` re-includes, as Docker does)."""
    admitted = True
    for raw in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = line.lstrip("!").rstrip("/")
        parts = path.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if pattern == "**" or any(
            fnmatch.fnmatch(p, pattern) or fnmatch.fnmatch(p, pattern.replace("**/", "*/"))
            for p in prefixes
        ):
            admitted = negate
    return admitted


def test_every_copied_path_exists_and_is_in_the_build_context() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    sources = [
        src
        for line in re.findall(r"^COPY (?!--from)(.+)$", text, flags=re.MULTILINE)
        for src in line.split()[:-1]
    ]
    assert "deploy/requirements.lock" in sources
    assert {"monitor/", "streams/", "alerts/", "pyproject.toml"} <= set(sources)
    for src in sources:
        assert (ROOT / src).exists(), src
        probe = f"{src.rstrip('/')}/__init__.py" if src.endswith("/") else src
        assert _dockerignore_admits(probe), f"{src} is excluded by .dockerignore"
    for excluded in ("tests/helpers.py", ".venv/bin/python", "bench/run.py", "state/x.json"):
        assert not _dockerignore_admits(excluded), excluded


def test_image_copies_every_package_riskmon_installs() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    include = project["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = {
        d.name
        for d in ROOT.iterdir()
        if (d / "__init__.py").is_file() and any(fnmatch.fnmatch(d.name, p) for p in include)
    }
    copied = set(re.findall(r"^COPY (\w+)/ \1/$", DOCKERFILE.read_text(), flags=re.MULTILINE))
    assert packages
    assert copied == packages


def test_image_contract() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert len(re.findall(r"^FROM ", text, flags=re.MULTILINE)) == 2  # multi-stage
    assert re.search(r"^USER 10001:10001$", text, flags=re.MULTILINE)  # numeric non-root
    assert 'ENTRYPOINT ["riskmon"]' in text
    assert 'CMD ["run"]' in text
    assert re.search(r"^HEALTHCHECK .*\n.*/healthz", text, flags=re.MULTILINE)
    assert 'VOLUME ["/var/lib/riskmon"]' in text


def test_lock_pins_the_runtime_closure() -> None:
    ok(run(sys.executable, DEPLOY / "lock.py", "--check"))
