"""The compose stack: compose-spec schema, every mounted file present, Prometheus and
Alertmanager configurations checked by their own tools (promtool, amtool)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests.test_deploy.tools import COMPOSE, ROOT, ok, run, tool

COMPOSE_FILE = COMPOSE / "compose.yaml"


def _compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_compose_spec_schema() -> None:
    out = ok(run(tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", COMPOSE_FILE))
    assert "ok -- validation done" in out


def test_bind_mounts_and_build_context_exist() -> None:
    compose = _compose()
    for name, svc in compose["services"].items():
        for volume in svc.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith((".", "/")):
                assert (COMPOSE / source).resolve().exists(), f"{name}: {source} does not exist"
        build = svc.get("build")
        if build:
            context = (COMPOSE / build["context"]).resolve()
            assert context == ROOT
            assert (context / build["dockerfile"]).is_file()


def test_secrets_are_files_kept_out_of_git() -> None:
    compose = _compose()
    for name, secret in compose["secrets"].items():
        path = (COMPOSE / secret["file"]).resolve()
        assert path.parent == COMPOSE / "secrets", name
    ignore = (COMPOSE / "secrets" / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert "*" in ignore
    # no secret is written inline: secret-looking environment variables name files
    for name, svc in compose["services"].items():
        for key in svc.get("environment", {}):
            if any(w in key for w in ("PASSWORD", "SECRET", "TOKEN", "WEBHOOK", "API_KEY")):
                assert key.endswith("_FILE"), (name, key)
    assert "hooks.slack.com" not in COMPOSE_FILE.read_text(encoding="utf-8")


def test_profiles_single_by_default_and_kafka_roles() -> None:
    compose = _compose()
    services = compose["services"]
    assert services["riskmon"]["profiles"] == ["single"]
    assert (COMPOSE / ".env").read_text(encoding="utf-8").count("COMPOSE_PROFILES=single") == 1
    for name in ("kafka", "feeds", "worker", "alerter"):
        assert services[name]["profiles"] == ["kafka"], name
    assert services["worker"]["deploy"]["replicas"] == 2
    roles = {n: services[n]["command"][0] for n in ("riskmon", "feeds", "worker", "alerter")}
    assert roles == {"riskmon": "run", "feeds": "run", "worker": "worker", "alerter": "alerter"}
    for name in ("prometheus", "alertmanager", "grafana"):
        assert "profiles" not in services[name], name
    # every role serves /healthz on 9464: the image's HEALTHCHECK applies to each
    for name in ("riskmon", "feeds", "worker", "alerter"):
        assert "healthcheck" not in services[name], name
    assert services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft


def test_prometheus_config_and_rules(tmp_path: Path) -> None:
    prom = COMPOSE / "prometheus"
    # `check config` also loads every rule file the config names
    out = ok(run(tool("promtool"), "check", "config", prom / "prometheus.yml"))
    assert "SUCCESS" in out
    rules = sorted((prom / "rules").glob("*.yaml"))
    assert [r.name for r in rules] == ["riskmon-health.rules.yaml", "riskmon.rules.yaml"]
    ok(run(tool("promtool"), "check", "rules", *rules))


def test_health_rules_fire_and_clear(tmp_path: Path) -> None:
    tests = tmp_path / "health_test.yaml"
    tests.write_text(
        yaml.safe_dump(
            {
                "rule_files": [str(COMPOSE / "prometheus" / "rules" / "riskmon-health.rules.yaml")],
                "evaluation_interval": "15s",
                "tests": [
                    {
                        "interval": "15s",
                        "input_series": [
                            {
                                "series": 'up{job="riskmon", instance="riskmon:9464", '
                                'role="riskmon"}',
                                "values": "1 1 0x12 1x8",
                            }
                        ],
                        "alert_rule_test": [
                            {"eval_time": "1m", "alertname": "RiskmonDown", "exp_alerts": []},
                            {
                                "eval_time": "2m45s",
                                "alertname": "RiskmonDown",
                                "exp_alerts": [
                                    {
                                        "exp_labels": {
                                            "severity": "critical",
                                            "category": "riskmon",
                                            "job": "riskmon",
                                            "instance": "riskmon:9464",
                                            "role": "riskmon",
                                        },
                                        "exp_annotations": {
                                            "summary": "riskmon target riskmon:9464 (riskmon) has "
                                            "been down for 2 minutes",
                                            "runbook": "No market alert can fire while riskmon is "
                                            "down: check its logs and /healthz.",
                                        },
                                    }
                                ],
                            },
                            {"eval_time": "4m", "alertname": "RiskmonDown", "exp_alerts": []},
                            {"eval_time": "4m", "alertname": "RiskmonAbsent", "exp_alerts": []},
                        ],
                    }
                ],
            }
        )
    )
    out = ok(run(tool("promtool"), "test", "rules", tests))
    assert "SUCCESS" in out


def test_alertmanager_config_and_routes() -> None:
    config = COMPOSE / "alertmanager" / "alertmanager.yml"
    out = ok(run(tool("amtool"), "check-config", config))
    assert "SUCCESS" in out

    def route(*labels: str) -> str:
        proc = run(tool("amtool"), "config", "routes", "test", f"--config.file={config}", *labels)
        return ok(proc).strip()

    # riskmon's own health goes out from Alertmanager; market alerts are delivered by riskmon
    assert route("alertname=RiskmonDown", "category=riskmon") == "desk-slack,desk-mail"
    assert route("alertname=liquidations_1h", "severity=critical", "asset=all") == "view"
    assert route("alertname=liquidations_1h", "evaluator=prometheus") == "view"


def test_alertmanager_secrets_come_from_files() -> None:
    config = yaml.safe_load((COMPOSE / "alertmanager" / "alertmanager.yml").read_text())
    secrets = set(_compose()["services"]["alertmanager"]["secrets"])
    assert config["global"]["slack_api_url_file"] == "/run/secrets/slack_webhook_url"
    assert config["global"]["smtp_auth_password_file"] == "/run/secrets/smtp_password"
    assert secrets == {"slack_webhook_url", "smtp_password"}


def test_grafana_finds_the_dashboards_and_the_stack_services() -> None:
    compose = _compose()
    grafana = compose["services"]["grafana"]
    mounts = {}
    for volume in grafana["volumes"]:
        source, target = volume.split(":")[:2]
        mounts[target] = source
    provisioning = ROOT / "grafana" / "provisioning"
    providers = [
        p
        for f in sorted((provisioning / "dashboards").glob("*.yaml"))
        for p in yaml.safe_load(f.read_text(encoding="utf-8"))["providers"]
    ]
    assert providers
    for provider in providers:
        assert mounts.get(provider["options"]["path"]) == "../../grafana/dashboards", provider
    datasources = [
        d
        for f in sorted((provisioning / "datasources").glob("*.yaml"))
        for d in yaml.safe_load(f.read_text(encoding="utf-8"))["datasources"]
    ]
    assert {d["uid"] for d in datasources} >= {"prometheus", "alertmanager"}
    for ds in datasources:
        url = ds["url"]  # "${VAR:-http://host:port}" or a plain URL
        url = url.split(":-", 1)[1].rstrip("}") if url.startswith("${") else url
        host, port = url.removeprefix("http://").split("/")[0].split(":")
        assert host in compose["services"], ds["name"]
        published = compose["services"][host]["ports"][0]
        assert published.endswith(f":{port}"), (ds["name"], published)
