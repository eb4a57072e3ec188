"""Kubernetes: each overlay renders with kustomize (kubectl kustomize, offline), every object
passes strict schema validation (kubernetes-validate for the built-in kinds, the vendored
prometheus-operator schemas for ServiceMonitor and PrometheusRule), promtool accepts the
PrometheusRule's groups, and the pods keep the contract (probes, resources, securityContext,
one writer of the store, secrets from Secrets)."""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.test_deploy.tools import DEPLOY, K8S, OVERLAYS, ok, run, tool

SCHEMAS = DEPLOY / "schemas"
CRD_KINDS = {"ServiceMonitor", "PrometheusRule"}
# Every role serves HTTP (/metrics, /healthz, /readyz): the daemon, and the Kafka roles (riskmon
# run on a kafka bus, worker, alerter).
SERVES_HTTP = {"single": True, "kafka": True}
KUBERNETES_VERSIONS = ("1.30", "1.37")  # oldest supported by a desk's clusters, newest bundled


@functools.cache
def render(overlay: str) -> str:
    """``kubectl kustomize`` of one overlay (once per test session)."""
    return ok(run(tool("kubectl"), "kustomize", K8S / "overlays" / overlay))


def objects(overlay: str) -> list[dict[str, Any]]:
    """The rendered objects (a fresh copy each call: tests may change them)."""
    return copy.deepcopy([d for d in yaml.safe_load_all(render(overlay)) if d])


def pods(overlay: str) -> dict[str, dict[str, Any]]:
    """Workload name -> pod template spec."""
    return {
        o["metadata"]["name"]: o["spec"]["template"]["spec"]
        for o in objects(overlay)
        if o["kind"] in ("StatefulSet", "Deployment")
    }


def test_builtin_kinds_pass_strict_schema_validation(tmp_path: Path) -> None:
    files = []
    expected = set()
    for overlay in OVERLAYS:
        rendered = tmp_path / f"{overlay}.yaml"
        rendered.write_text(render(overlay))
        files.append(rendered)
        expected |= {
            f"{rendered} {o['kind'].lower()}/{o['metadata']['name']}"
            for o in objects(overlay)
            if o["kind"] not in CRD_KINDS
        }
    for version in KUBERNETES_VERSIONS:
        proc = run(tool("kubernetes-validate"), "--strict", "-k", version, *files)
        out = ok(proc)
        assert "ERROR" not in out + proc.stderr
        # "INFO <file> passed for resource <kind>/<name> against version <v>"
        passed = {
            f"{line.split()[1]} {line.split('resource ')[1].split()[0]}"
            for line in out.splitlines()
            if line.startswith("INFO") and " passed for resource " in line
        }
        assert passed == expected, version


def test_prometheus_operator_kinds_pass_their_schemas(tmp_path: Path) -> None:
    docs: dict[str, list[Path]] = {kind: [] for kind in CRD_KINDS}
    for overlay in OVERLAYS:
        for i, obj in enumerate(objects(overlay)):
            if obj["kind"] in CRD_KINDS:
                doc = tmp_path / f"{overlay}-{i}.json"
                doc.write_text(json.dumps(obj))
                docs[obj["kind"]].append(doc)
    for kind, files in docs.items():
        assert len(files) == sum(SERVES_HTTP.values()), kind  # one per overlay with metrics
        schema = SCHEMAS / f"{kind.lower()}-monitoring.coreos.com-v1.json"
        out = ok(run(tool("check-jsonschema"), "--schemafile", schema, *files))
        assert "ok -- validation done" in out


def test_crd_schemas_reject_a_misspelt_field(tmp_path: Path) -> None:
    monitor = next(o for o in objects("single") if o["kind"] == "ServiceMonitor")
    monitor["spec"]["endpoints"][0]["intervall"] = "15s"
    doc = tmp_path / "bad.json"
    doc.write_text(json.dumps(monitor))
    schema = SCHEMAS / "servicemonitor-monitoring.coreos.com-v1.json"
    proc = run(tool("check-jsonschema"), "--schemafile", schema, doc)
    assert proc.returncode == 1
    assert "intervall" in proc.stdout


def test_prometheus_rule_groups_pass_promtool(tmp_path: Path) -> None:
    rule = next(o for o in objects("single") if o["kind"] == "PrometheusRule")
    rules = tmp_path / "rules.yaml"
    rules.write_text(yaml.safe_dump(rule["spec"]))
    out = ok(run(tool("promtool"), "check", "rules", rules))
    assert "SUCCESS" in out


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_pods_are_probed_bounded_and_locked_down(overlay: str) -> None:
    for name, spec in pods(overlay).items():
        assert spec["automountServiceAccountToken"] is False, name
        sc = spec["securityContext"]
        assert sc["runAsNonRoot"] is True, name
        assert sc["runAsUser"] == 10001, name
        assert sc["seccompProfile"] == {"type": "RuntimeDefault"}, name
        (container,) = spec["containers"]
        assert container["image"] == "registry.example.com/riskmon:0.1.0", name
        assert container["args"][1:] == ["--config", "/etc/riskmon/riskmon.yaml"], name
        probes = ("startupProbe", "livenessProbe", "readinessProbe")
        if SERVES_HTTP[overlay]:
            port = {"name": "metrics", "containerPort": 9464, "protocol": "TCP"}
            assert container["ports"] == [port], name
            for probe, path in zip(probes, ("/healthz", "/healthz", "/readyz"), strict=True):
                assert container[probe]["httpGet"] == {"path": path, "port": "metrics"}, name
        else:  # a probe on a port nobody serves would restart the pod forever
            assert not {"ports", *probes} & set(container), name
        assert {"cpu", "memory"} <= set(container["resources"]["requests"]), name
        assert "memory" in container["resources"]["limits"], name
        csc = container["securityContext"]
        assert csc["allowPrivilegeEscalation"] is False, name
        assert csc["readOnlyRootFilesystem"] is True, name
        assert csc["capabilities"] == {"drop": ["ALL"]}, name
        mounts = {m["mountPath"] for m in container["volumeMounts"]}
        needed = {"/var/lib/riskmon", "/etc/riskmon", "/tmp"}  # noqa: S108
        assert needed <= mounts, name


@pytest.mark.parametrize(
    ("overlay", "roles"),
    [
        ("single", {"riskmon": "run"}),
        ("kafka", {"riskmon": "alerter", "riskmon-feeds": "run", "riskmon-worker": "worker"}),
    ],
)
def test_roles_and_the_one_writer_of_the_store(overlay: str, roles: dict[str, str]) -> None:
    objs = objects(overlay)
    assert {n: s["containers"][0]["args"][0] for n, s in pods(overlay).items()} == roles
    (sts,) = [o for o in objs if o["kind"] == "StatefulSet"]
    assert sts["spec"]["replicas"] == 1
    assert [t["metadata"]["name"] for t in sts["spec"]["volumeClaimTemplates"]] == ["data"]
    volumes = {v["name"]: v for v in sts["spec"]["template"]["spec"]["volumes"]}
    assert volumes["receivers"]["secret"]["secretName"] == "riskmon-receivers"
    config = next(o for o in objs if o["kind"] == "ConfigMap")
    assert volumes["config"]["configMap"]["name"] == config["metadata"]["name"]  # hashed name
    settings = yaml.safe_load(config["data"]["riskmon.yaml"])
    assert settings.get("bus", {}).get("kind", "in-process") == (
        "kafka" if overlay == "kafka" else "in-process"
    )
    if overlay == "kafka":
        workers = next(o for o in objs if o["metadata"]["name"] == "riskmon-worker")
        assert workers["spec"]["replicas"] == 2
    assert {o["metadata"]["namespace"] for o in objs if o["kind"] != "Namespace"} == {"riskmon"}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_service_monitor_scrapes_the_named_port_of_every_pod(overlay: str) -> None:
    objs = objects(overlay)
    (service,) = [o for o in objs if o["kind"] == "Service"]
    monitors = [o for o in objs if o["kind"] == "ServiceMonitor"]
    if not SERVES_HTTP[overlay]:
        assert monitors == []
        assert [o for o in objs if o["kind"] == "PrometheusRule"] == []
        return
    (monitor,) = monitors
    assert service["spec"]["ports"][0]["name"] == "metrics"
    assert monitor["spec"]["endpoints"][0]["port"] == "metrics"
    selector = monitor["spec"]["selector"]["matchLabels"]
    assert selector.items() <= service["metadata"]["labels"].items()
    for spec_owner in (o for o in objs if o["kind"] in ("StatefulSet", "Deployment")):
        labels = spec_owner["spec"]["template"]["metadata"]["labels"]
        assert service["spec"]["selector"].items() <= labels.items()
