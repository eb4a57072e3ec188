"""Tests for the ``riskmon rules|silence|alerts`` sub-commands."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from alerts.model import AlertNotice
from alerts.rules import fingerprint
from alerts.store import Store
from monitor.cli.alerts import register


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="riskmon")
    sub = parser.add_subparsers(dest="command", required=True)
    register(sub)
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


def test_rules_check_accepts_the_default_pack(capsys: pytest.CaptureFixture[str]) -> None:
    """Checking the shipped pack succeeds and summarises it."""
    assert run("rules", "check", "--pack", "november-2025") == 0
    assert capsys.readouterr().out.startswith("ok: november-2025: 20 rules, 44 alert levels")


def test_rules_check_reports_file_line_field_without_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An invalid file exits 1 with one located line per problem."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n  - name: a\n    level: loud\n    signal: s\n    threshold: 1\n")
    assert run("rules", "check", str(bad)) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith(f"error: {bad}:3:5: rules[0](a).level: Input should be")
    assert "Traceback" not in "".join(err)


def test_rules_check_without_targets_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """No file and no pack exits 2 with a one-line error."""
    assert run("rules", "check") == 2
    assert capsys.readouterr().err == "error: give at least one FILE or --pack NAME\n"


def test_silence_add_list_expire_round_trip(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A silence can be added, listed as active and expired by id prefix."""
    db = str(tmp_path / "r.db")
    Store.open(db).close()  # the daemon's store
    assert (
        run("silence", "add", "asset=BTC", "alertname=~oi_.*", "-d", "2h", "-c", "x", "--db", db)
        == 0
    )
    sid = capsys.readouterr().out.strip()
    assert run("silence", "list", "--json", "--db", db) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed["id"] == sid
    assert listed["matchers"] == ["asset=BTC", "alertname=~oi_.*"]
    assert listed["active"] is True
    assert run("silence", "expire", sid[:6], "--db", db) == 0
    capsys.readouterr()
    assert run("silence", "list", "--db", db) == 0
    assert capsys.readouterr().out == "no silences\n"
    assert run("silence", "expire", sid, "--db", db) == 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("silence", "add", "not a matcher"), "not a matcher"),
        (("silence", "add", "a=~("), "bad regular expression"),
        (("silence", "add", "a=b", "-d", "soon"), "--duration"),
        (("silence", "add", "a=b", "--until", "2001-01-01T00:00"), "in the past"),
    ],
)
def test_silence_add_rejects_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], message: str
) -> None:
    """Bad matchers and times exit 2 with a one-line message."""
    Store.open(tmp_path / "r.db").close()
    assert run(*argv, "--db", str(tmp_path / "r.db")) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1


def test_alerts_list_and_show_read_the_history(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """alerts list shows stored alerts; alerts show prints one with its history (RISKMON_DB)."""
    db = tmp_path / "r.db"
    monkeypatch.setenv("RISKMON_DB", str(db))
    labels = {"asset": "BTC", "severity": "critical"}
    fp = fingerprint("deleveraging_event", labels)
    n = AlertNotice(
        "firing",
        "deleveraging_event",
        "critical",
        labels,
        -30.0,
        5,
        None,
        fp,
        "BTC!",
        annotations={"runbook": "act"},
    )
    store = Store.open(db)
    store.record_notices([n], 100)
    store.close()
    assert run("alerts", "list") == 0
    out = capsys.readouterr().out
    assert fp in out
    assert "deleveraging_event" in out
    assert run("alerts", "show", fp[:8], "--json") == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["annotations"] == {"runbook": "act"}
    assert [h["status"] for h in doc["history"]] == ["firing"]
    assert run("alerts", "show", "zzzz") == 1


def test_alerts_list_without_store_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A missing store is reported in one line, exit 2."""
    assert run("alerts", "list", "--db", str(tmp_path / "none.db")) == 2
    assert "no alert store at" in capsys.readouterr().err
