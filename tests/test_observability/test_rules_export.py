"""`riskmon rules export`: Prometheus and Grafana rules from the pack, checked by promtool."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
from pathlib import Path

import yaml

from alerts.export import grafana_rules, prometheus_rules
from alerts.export.grafana import DATASOURCE_UID
from alerts.rules import RuleSet, load_pack
from tests.test_observability.promtest import pack_test_files

PACK = "november-2025"
_UID = re.compile(r"^[A-Za-z0-9_-]{1,40}$")


def _promtool(
    promtool: str, *args: str, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [promtool, *args], capture_output=True, text=True, timeout=300, check=False, cwd=cwd
    )


def test_prometheus_export_passes_promtool_check(tmp_path: Path, promtool: str) -> None:
    """Every level of the pack is one valid Prometheus alerting rule."""
    rs = load_pack(PACK)
    f = tmp_path / "riskmon.rules.yml"
    f.write_text(prometheus_rules(rs))
    r = _promtool(promtool, "check", "rules", str(f))
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"SUCCESS: {len(rs.rules)} rules found" in r.stdout
    doc = yaml.safe_load(f.read_text())
    exported = {
        (x["alert"], x["labels"]["severity"], x["labels"].get("tier", ""))
        for x in doc["groups"][0]["rules"]
    }
    assert exported == {(r.name, r.severity, r.labels.get("tier", "")) for r in rs.rules}


def test_every_threshold_crosses_and_clears_in_promtool(tmp_path: Path, promtool: str) -> None:
    """promtool unit tests: each level fires past its threshold, holds to its clear, resolves."""
    files = pack_test_files(load_pack(PACK), tmp_path)
    firing_checks = 0
    for f in files:
        doc = yaml.safe_load(f.read_text())
        firing_checks += sum(
            1 for g in doc["tests"] for t in g["alert_rule_test"] if t["exp_alerts"]
        )
    assert firing_checks >= 40
    r = _promtool(promtool, "test", "rules", *(f.name for f in files), cwd=tmp_path)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    assert r.stdout.count("SUCCESS") == len(files)


def test_promtool_tests_fail_without_the_hysteresis(tmp_path: Path, promtool: str) -> None:
    """The generated tests notice an export that forgets the clear levels."""
    rs = load_pack(PACK)
    files = pack_test_files(rs, tmp_path)
    levels = tuple(
        dataclasses.replace(
            r, conditions=tuple(dataclasses.replace(c, clear=None) for c in r.conditions)
        )
        for r in rs.rules
        if r.name == "liquidations_1h"
    )
    (tmp_path / "liquidations_1h.rules.yml").write_text(
        prometheus_rules(RuleSet(rules=levels, name=PACK))
    )
    test = next(f for f in files if f.name == "liquidations_1h.test.yml")
    r = _promtool(promtool, "test", "rules", test.name, cwd=tmp_path)
    assert r.returncode == 1
    assert "liquidations_1h" in r.stdout


def test_absence_rule_fires_when_a_series_stops_changing(tmp_path: Path, promtool: str) -> None:
    """market_data_silent: a reference price unchanged for 5 min fires, with the window as value."""
    rs = load_pack(PACK)
    levels = tuple(r for r in rs.rules if r.name == "market_data_silent")
    (tmp_path / "silent.rules.yml").write_text(prometheus_rules(RuleSet(rules=levels, name=PACK)))
    summary = "No reference price for BTC for 5m 0s"  # {value_h}: humanizeDuration of 300 s
    ann = {
        "summary": summary,
        "runbook": levels[0].annotations["runbook"],
        "runbook_url": "docs/runbooks.md#feed-health",
        "description": levels[0].description,
    }
    test = {
        "rule_files": ["silent.rules.yml"],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [
                    {"series": 'riskmon_price_ref{asset="BTC"}', "values": "1+1x9 10x10 11x5"},
                ],
                "alert_rule_test": [
                    {"eval_time": "9m", "alertname": "market_data_silent", "exp_alerts": []},
                    {
                        "eval_time": "16m",
                        "alertname": "market_data_silent",
                        "exp_alerts": [
                            {
                                "exp_labels": {
                                    "asset": "BTC",
                                    "severity": "warning",
                                    "category": "feed",
                                },
                                "exp_annotations": ann,
                            }
                        ],
                    },
                    {"eval_time": "21m", "alertname": "market_data_silent", "exp_alerts": []},
                ],
            }
        ],
    }
    (tmp_path / "silent.test.yml").write_text(yaml.safe_dump(test, sort_keys=False))
    r = _promtool(promtool, "test", "rules", "silent.test.yml", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr


def test_what_prometheus_cannot_express_is_listed() -> None:
    """Hysteresis, composites, absence and inhibition are named in the file, not dropped."""
    rs = load_pack(PACK)
    text = prometheus_rules(rs)
    header = "".join(line for line in text.splitlines(keepends=True) if line.startswith("#"))
    for r in rs.rules:
        if any(c.clear is not None for c in r.conditions):
            assert f"# - {r.name}/{r.level}: hysteresis" in header
        if r.absent is not None:
            assert f"# - {r.name}/{r.level}: absence after 5m" in header
    assert "# inhibit_rules:" in header
    inhibit = yaml.safe_load(
        "\n".join(x[2:] for x in header.split("# inhibit_rules:\n", 1)[1].splitlines())
    )
    assert len(inhibit) == len(rs.inhibit)
    assert inhibit[0]["source_matchers"] == ["alertname=deleveraging_event", "severity=critical"]


def _grafana_doc() -> dict[str, object]:
    return yaml.safe_load(grafana_rules(load_pack(PACK)))  # type: ignore[no-any-return]


def test_grafana_export_is_consistent(tmp_path: Path, promtool: str) -> None:
    """uids, refIds, conditions and datasource references hold; every PromQL parses."""
    doc = _grafana_doc()
    assert doc["apiVersion"] == 1
    (group,) = doc["groups"]  # type: ignore[index]
    rules = group["rules"]
    assert len(rules) == len(load_pack(PACK).rules)
    uids = [r["uid"] for r in rules]
    assert len(set(uids)) == len(uids)
    assert all(_UID.match(u) for u in uids)
    assert len({r["title"] for r in rules}) == len(rules)
    exprs: list[str] = []
    for r in rules:
        refs = [d["refId"] for d in r["data"]]
        assert len(set(refs)) == len(refs)
        assert r["condition"] in refs
        for d in r["data"]:
            assert d["model"]["refId"] == d["refId"]
            if d["datasourceUid"] == "__expr__":
                m = d["model"]
                used = set(re.findall(r"\$([A-Za-z0-9_]+)", m.get("expression", "")))
                if m["type"] in ("reduce", "threshold"):
                    used = {m["expression"]}
                assert used <= set(refs), (r["title"], used)
            else:
                assert d["datasourceUid"] == DATASOURCE_UID
                exprs.append(d["model"]["expr"])
        assert r["labels"]["severity"] in ("info", "warning", "critical")
        assert "summary" in r["annotations"]
    rule_file = {
        "groups": [
            {
                "name": "grafana",
                "rules": [{"record": f"g:e{i}", "expr": e} for i, e in enumerate(exprs)],
            }
        ]
    }
    f = tmp_path / "grafana_exprs.yml"
    f.write_text(yaml.safe_dump(rule_file))
    r = _promtool(promtool, "check", "rules", str(f))
    assert r.returncode == 0, r.stdout + r.stderr


def test_grafana_keeps_thresholds_and_hysteresis() -> None:
    """A single-signal level keeps its threshold and its clear as Grafana's recovery threshold."""
    rules = {r["title"]: r for r in _grafana_doc()["groups"][0]["rules"]}  # type: ignore[index]
    crit = rules["liquidations_1h critical"]
    threshold = next(d for d in crit["data"] if d["refId"] == "C")["model"]
    assert threshold["conditions"][0]["evaluator"] == {"type": "gt", "params": [750e6]}
    assert threshold["conditions"][0]["unloadEvaluator"] == {"type": "lt", "params": [400e6]}
    assert crit["keepFiringFor"] == "15m"
    assert crit["labels"] == {"category": "liquidations", "severity": "critical"}
    assert "{{ $values.B.Value | humanize }}" in crit["annotations"]["summary"]
    ev = rules["deleveraging_event critical"]
    assert next(d for d in ev["data"] if d["refId"] == "C")["model"]["expression"] == (
        "$oi_true && $z_true && $px_true && $complete_true"
    )
    assert ev["for"] == "1m"


def test_cli_rules_export_writes_both_formats(tmp_path: Path) -> None:
    """`riskmon rules export` writes the files; a broken rule file is an error, not output."""
    for fmt in ("prometheus", "grafana"):
        out = tmp_path / f"{fmt}.yml"
        r = subprocess.run(
            [
                sys.executable,
                "-m",
                "monitor.cli",
                "rules",
                "export",
                "--format",
                fmt,
                "-o",
                str(out),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert r.returncode == 0, r.stderr
        assert yaml.safe_load(out.read_text())
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n  - name: x\n    signal: liq_usd\n    op: '>>'\n")
    r = subprocess.run(
        [sys.executable, "-m", "alerts.export", str(bad), "--format", "prometheus"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert r.returncode == 1
    assert "error:" in r.stderr
    assert r.stdout == ""
