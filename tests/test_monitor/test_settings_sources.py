"""Where a setting comes from: the config file, then ``RISKMON_*`` variables, which win."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.settings import ConfigError, load_settings


def test_environment_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "riskmon.yaml"
    cfg.write_text("store: from-file.db\nmetrics: {host: 127.0.0.1, port: 9464}\nrules: x.yaml\n")
    monkeypatch.setenv("RISKMON_STORE", "/data/from-env.db")
    monkeypatch.setenv("RISKMON_METRICS__PORT", "9500")
    s = load_settings(cfg)
    assert s.store == Path("/data/from-env.db")
    assert s.metrics.port == 9500
    assert s.metrics.host == "127.0.0.1"  # the file's value where no variable is set
    assert s.rules == "x.yaml"


def test_file_value_stands_without_a_variable(tmp_path: Path) -> None:
    cfg = tmp_path / "riskmon.yaml"
    cfg.write_text("store: from-file.db\n")
    assert load_settings(cfg).store == Path("from-file.db")


def test_bad_variable_is_a_config_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RISKMON_METRICS__PORT", "not-a-port")
    with pytest.raises(ConfigError, match=r"metrics\.port"):
        load_settings(None)
