"""deploy/systemd/riskmon.service: `systemd-analyze verify` says nothing, and `systemd-analyze
security` rates its exposure at most 2.0 (the reference's threshold, "OK")."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from tests.test_deploy.tools import DEPLOY, ok, run, tool

UNIT = DEPLOY / "systemd" / "riskmon.service"
INSTALLED = "/opt/riskmon/bin/riskmon"
THRESHOLD = 20  # systemd-analyze's internal 0-100 scale: 20 is the displayed 2.0


def checkable_unit(tmp_path: Path) -> Path:
    """The unit with ExecStart pointing at this environment's riskmon (verify wants it to exist)."""
    riskmon = Path(sys.executable).parent / "riskmon"
    assert riskmon.exists(), "riskmon is not installed in this environment: pip install -e ."
    text = UNIT.read_text(encoding="utf-8")
    assert f"ExecStart={INSTALLED} run --config /etc/riskmon/riskmon.yaml\n" in text
    unit = tmp_path / UNIT.name
    unit.write_text(text.replace(INSTALLED, str(riskmon)), encoding="utf-8")
    return unit


def test_verify_is_clean(tmp_path: Path) -> None:
    unit = checkable_unit(tmp_path)
    proc = run(tool("systemd-analyze"), "verify", unit, cwd=tmp_path)
    # verify exits 0 on unknown keys and bad values: any output at all is a failure
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")


def test_verify_catches_a_misspelt_key(tmp_path: Path) -> None:
    unit = checkable_unit(tmp_path)
    unit.write_text(unit.read_text().replace("PrivateDevices=", "PrivateDevice="))
    proc = run(tool("systemd-analyze"), "verify", unit, cwd=tmp_path)
    assert "Unknown key 'PrivateDevice'" in proc.stderr


def test_security_exposure_at_most_2(tmp_path: Path) -> None:
    unit = checkable_unit(tmp_path)
    out = ok(
        run(
            tool("systemd-analyze"),
            "security",
            "--offline=yes",
            f"--threshold={THRESHOLD}",
            "--no-pager",
            unit,
            cwd=tmp_path,
        )
    )
    exposure = re.search(r"Overall exposure level for riskmon\.service: (\d+\.\d)", out)
    assert exposure is not None, out[-2000:]
    assert float(exposure.group(1)) <= THRESHOLD / 10


def test_unit_contract() -> None:
    text = UNIT.read_text(encoding="utf-8")
    for line in (
        "DynamicUser=yes",
        "StateDirectory=riskmon",
        "ProtectSystem=strict",
        "NoNewPrivileges=yes",
        "Restart=always",
        "StartLimitBurst=5",
        "LoadCredential=slack_webhook_url:/etc/riskmon/credentials/slack_webhook_url",
        "LoadCredential=smtp_password:/etc/riskmon/credentials/smtp_password",
    ):
        assert f"\n{line}\n" in text, line
    # the credentials are the files deploy/riskmon.yaml reads
    config = (DEPLOY / "riskmon.yaml").read_text(encoding="utf-8")
    for name in ("slack_webhook_url", "smtp_password"):
        assert f"/run/credentials/riskmon.service/{name}" in config
