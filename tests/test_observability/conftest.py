"""Fixtures: the Prometheus tool binaries. They must exist (CI installs them with
``deploy/test-tools.sh``); a missing one fails the test instead of skipping it."""

from __future__ import annotations

import shutil

import pytest


def _binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(
            f"{name} is not installed: run deploy/test-tools.sh "
            "(apt-get install prometheus prometheus-alertmanager)"
        )
    return path


@pytest.fixture(scope="session")
def promtool() -> str:
    """Path of ``promtool``."""
    return _binary("promtool")


@pytest.fixture(scope="session")
def prometheus_bin() -> str:
    """Path of ``prometheus``."""
    return _binary("prometheus")


@pytest.fixture(scope="session")
def alertmanager_bin() -> str:
    """Path of ``prometheus-alertmanager`` (Debian's name) or ``alertmanager``."""
    return shutil.which("prometheus-alertmanager") or _binary("alertmanager")
