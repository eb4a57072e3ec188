"""Every YAML file under deploy/ passes yamllint, and the generated Prometheus rule files (the
compose stack's and the Kubernetes PrometheusRule) are what the generator produces from the pack
today."""

from __future__ import annotations

import sys

import yaml

from tests.test_deploy.tools import COMPOSE, DEPLOY, K8S, ROOT, ok, run, tool


def test_yamllint() -> None:
    # relative paths, run from the root: the config's `ignore:` (generated files) matches them
    config = DEPLOY / ".yamllint.yaml"
    proc = run(tool("yamllint"), "-c", config, "-f", "parsable", "--strict", "deploy", cwd=ROOT)
    assert (proc.returncode, proc.stdout) == (0, ""), proc.stdout


def test_test_tools_script_finds_everything_installed() -> None:
    # the Makefile's test target runs it first: here every tool is present, so it installs nothing
    out = ok(run("bash", DEPLOY / "test-tools.sh"))
    assert out.startswith("test-tools: all present")


def test_generated_rule_files_match_the_pack() -> None:
    # runs `riskmon rules export --format prometheus` and compares byte for byte
    ok(run(sys.executable, DEPLOY / "sync_rules.py", "--check"))


def test_prometheus_rule_carries_the_exported_and_the_health_groups() -> None:
    exported = yaml.safe_load((COMPOSE / "prometheus" / "rules" / "riskmon.rules.yaml").read_text())
    health = yaml.safe_load(
        (COMPOSE / "prometheus" / "rules" / "riskmon-health.rules.yaml").read_text()
    )
    rule = yaml.safe_load((K8S / "base" / "prometheusrule.yaml").read_text())
    assert rule["spec"]["groups"] == exported["groups"] + health["groups"]
    assert exported["groups"], "the export has no rule group"
