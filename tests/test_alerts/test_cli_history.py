"""Issue 10 point 10 and issue 15 point 8: the alert CLIs find the daemon's store, and the
history is listed with UTC times, filters and human-readable detail. Real SQLite files."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from alerts.model import AlertNotice
from alerts.rules import fingerprint
from alerts.store import Store
from monitor.cli.alerts import register

H = 3600 * 10**9
T0 = int(datetime(2025, 11, 21, 12, 0, tzinfo=UTC).timestamp()) * 10**9


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="riskmon")
    sub = parser.add_subparsers(dest="command", required=True)
    register(sub)
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


def notice(
    rule: str, status: str, severity: str, labels: dict[str, str], starts: int, ends: int | None
) -> AlertNotice:
    full = {**labels, "severity": severity}
    return AlertNotice(
        status,  # type: ignore[arg-type]
        rule,
        severity,  # type: ignore[arg-type]
        full,
        1.0,
        starts,
        ends,
        fingerprint(rule, full),
        f"{rule} {labels}",
    )


@pytest.fixture(name="db")
def _db(tmp_path: Path) -> Path:
    """A store with a history: depeg fired, resolved, fired again; a feed alert; an info alert."""
    db = tmp_path / "riskmon.db"
    s = Store.open(db)
    depeg = {"coin": "USDC"}
    s.record_notices([notice("stablecoin_depeg", "firing", "critical", depeg, T0, None)], 1)
    s.record_notices([notice("stablecoin_depeg", "resolved", "critical", depeg, T0, T0 + H)], 2)
    s.record_notices([notice("stablecoin_depeg", "firing", "critical", depeg, T0 + 5 * H, None)], 3)
    feed = {"venue": "bybit-linear"}
    s.record_notices([notice("feed_stale", "firing", "warning", feed, T0 + 2 * H, None)], 4)
    s.record_notices([notice("feed_stale", "resolved", "warning", feed, T0 + 2 * H, T0 + 3 * H)], 5)
    s.record_notices(
        [notice("price_drawdown", "firing", "info", {"asset": "BTC"}, T0 + 4 * H, None)], 6
    )
    s.close()
    return db


def listed(capsys: pytest.CaptureFixture[str], *argv: str) -> list[dict[str, object]]:
    assert run("alerts", "list", "--json", *argv) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_list_shows_first_fired_and_last_changed_in_utc(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("alerts", "list", "--db", str(db)) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "FIRST FIRED (UTC)" in lines[0]
    assert "LAST CHANGED (UTC)" in lines[0]
    depeg = next(line for line in lines if "stablecoin_depeg" in line)
    assert "2025-11-21 12:00:00  2025-11-21 17:00:00" in depeg  # first firing, the re-fire
    feed = next(line for line in lines if "feed_stale" in line)
    assert "2025-11-21 14:00:00  2025-11-21 15:00:00" in feed  # fired, resolved
    assert [line.split()[0] for line in lines[1:]] == [
        fingerprint("stablecoin_depeg", {"coin": "USDC", "severity": "critical"}),
        fingerprint("price_drawdown", {"asset": "BTC", "severity": "info"}),
        fingerprint("feed_stale", {"venue": "bybit-linear", "severity": "warning"}),
    ]  # most recent change first
    rows = listed(capsys, "--db", str(db))
    assert rows[0]["first_fired_at"] == T0
    assert rows[0]["last_changed_at"] == T0 + 5 * H


def test_list_filters_by_rule_severity_label_and_time(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d = ("--db", str(db))

    def rules(*argv: str) -> list[object]:
        return [r["rule"] for r in listed(capsys, *d, *argv)]

    assert rules("--rule", "feed_stale") == ["feed_stale"]
    assert rules("--rule", "feed_stale", "--rule", "price_drawdown") == [
        "price_drawdown",
        "feed_stale",
    ]
    assert rules("--severity", "critical") == ["stablecoin_depeg"]
    assert rules("--severity", "info", "--severity", "warning") == ["price_drawdown", "feed_stale"]
    assert rules("--label", "venue=bybit-linear") == ["feed_stale"]
    assert rules("--label", "asset=BTC", "--label", "severity=info") == ["price_drawdown"]
    assert rules("--label", "asset=ETH") == []
    assert rules("--since", "2025-11-21T15:30", "--until", "2025-11-21T16:30") == ["price_drawdown"]
    assert rules("--until", "2025-11-21T15:00:00+00:00") == ["feed_stale"]
    assert rules("--since", "2025-11-21T15:00+01:00", "--until", "2025-11-21T15:00Z") == [
        "feed_stale"
    ]  # 14:00 .. 15:00 UTC
    assert rules("--since", "2025-11-21T16:00:01+01:00", "--until", "2025-11-21T15:59Z") == []
    assert rules("--since", "1h") == []  # all of it happened in 2025
    assert rules("--since", "1000d") == ["stablecoin_depeg", "price_drawdown", "feed_stale"]
    assert rules("--status", "firing", "--severity", "critical") == ["stablecoin_depeg"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--since", "yesterday"), "--since: not an ISO time or a duration like 2h"),
        (("--until", "2h30"), "--until: not an ISO time"),
        (("--label", "venue"), "--label: expected KEY=VALUE"),
        (("-n", "0"), "--limit"),
    ],
)
def test_list_rejects_bad_filters_in_one_line(
    db: Path, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], message: str
) -> None:
    assert run("alerts", "list", "--db", str(db), *argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {message}")
    assert err.count("\n") == 1


def test_show_prints_human_times(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fp = fingerprint("feed_stale", {"venue": "bybit-linear", "severity": "warning"})
    assert run("alerts", "show", fp[:6], "--db", str(db)) == 0
    out = capsys.readouterr().out
    assert out.startswith("feed_stale  RESOLVED  warning\n")
    assert "fired        2025-11-21 14:00:00 UTC (" in out
    assert "resolved     2025-11-21 15:00:00 UTC (" in out
    assert " ago)" in out
    assert "  2025-11-21 14:00:00  firing  " in out
    assert "  2025-11-21 15:00:00  resolved" in out
    assert "notifications: none" in out
    assert str(T0) not in out  # no raw nanoseconds


# --- which store ------------------------------------------------------------------------------


def config(tmp_path: Path, store: Path) -> Path:
    cfg = tmp_path / "riskmon.yaml"
    cfg.write_text(f"store: {store}\nvenues: {{}}\n")
    return cfg


def test_config_names_the_store_and_env_wins_as_for_run(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_path / "other.db"
    Store.open(other).close()
    cfg = config(tmp_path, db)
    assert len(listed(capsys, "--config", str(cfg))) == 3
    monkeypatch.setenv("RISKMON_STORE", str(other))  # RISKMON_* wins over the file
    assert listed(capsys, "--config", str(cfg)) == []
    assert len(listed(capsys, "--config", str(cfg), "--db", str(db))) == 3  # --db wins
    monkeypatch.delenv("RISKMON_STORE")
    cfg.write_text(f"store: {other}\nalerting: {{db_path: {db}}}\nvenues: {{}}\n")
    assert len(listed(capsys, "--config", str(cfg))) == 3  # the daemon's alerting.db_path


def test_without_config_the_env_names_the_store(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path / "..")
    monkeypatch.setenv("RISKMON_STORE", str(db))
    assert len(listed(capsys)) == 3


@pytest.mark.parametrize(
    "argv",
    [
        ("silence", "add", "asset=BTC"),
        ("silence", "list"),
        ("silence", "expire", "abc"),
        ("alerts", "list"),
        ("alerts", "show", "abc"),
    ],
)
def test_a_missing_store_is_refused_not_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...]
) -> None:
    missing = tmp_path / "var" / "riskmon.db"
    cfg = config(tmp_path, missing)
    assert run(*argv, "--config", str(cfg)) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: no alert store at {missing} (from {cfg})")
    assert err.count("\n") == 1
    assert not missing.exists()
    assert not missing.parent.exists()


def test_a_bad_config_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "riskmon.yaml"
    cfg.write_text("store: [1, 2\n")
    assert run("alerts", "list", "--config", str(cfg)) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ")
    assert err.count("\n") == 1
    assert run("alerts", "list", "--config", str(tmp_path / "nope.yaml")) == 2
    assert "cannot read config" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s ago"),
        (65, "1m 5s ago"),
        (3 * 3600 + 14, "3h 0m ago"),
        (3 * 86400 + 4 * 3600 + 5, "3d 4h ago"),
    ],
)
def test_relative_times_read_naturally(seconds: int, text: str) -> None:
    from monitor.cli.alert_store import fmt_ago

    assert fmt_ago(0, seconds * 10**9) == text
    if seconds:
        assert fmt_ago(seconds * 10**9, 0) == "in " + text.removesuffix(" ago")
