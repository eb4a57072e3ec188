"""Offline validation of ``grafana/`` (no Grafana server here): ``python -m grafana.validate``.

Checks, printing one line per problem and exiting 1 if there is any:

- every YAML/JSON file parses; provisioning files have ``apiVersion: 1``;
- dashboards: uid (<= 40 chars, ``[A-Za-z0-9_-]``) unique, titles unique, panel ids unique, every
  panel and target datasource is a provisioned uid, every target has a unique ``refId``, panels
  fit the 24-column grid and do not overlap;
- alert rules: uid format and uniqueness, ``condition`` names a refId, expressions only reference
  existing refIds, queries use a provisioned datasource;
- every PromQL expression (panels, annotations, alert queries) parses: they are written into a
  throw-away recording-rule file (``$__rate_interval``/``$__interval`` -> ``5m``, ``$var`` ->
  ``.*``) and checked by ``promtool check rules``.

:func:`metric_names` lists every ``riskmon_*`` metric the dashboards and rules name (the end-to-end
test checks that each is in a live scrape).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

__all__ = ["GRAFANA", "dashboard_exprs", "metric_names", "problems", "rule_exprs"]

GRAFANA = Path(__file__).parent
_UID = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
_METRIC = re.compile(r"\b(riskmon_[a-zA-Z0-9_]+)")
_VAR = re.compile(r"\$(?:\{)?([A-Za-z_][A-Za-z0-9_]*)(?:\})?")


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _dashboards(root: Path) -> dict[Path, dict[str, Any]]:
    return {
        p: json.loads(p.read_text(encoding="utf-8"))
        for p in sorted((root / "dashboards").glob("*.json"))
    }


def _panels(d: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for p in d.get("panels", []):
        yield p
        yield from p.get("panels", [])


def dashboard_exprs(root: Path = GRAFANA) -> list[tuple[str, str]]:
    """``(where, PromQL)`` of every dashboard target and annotation."""
    out: list[tuple[str, str]] = []
    for path, d in _dashboards(root).items():
        out += [
            (f"{path.name}: panel {p.get('title')!r} {t.get('refId')}", t["expr"])
            for p in _panels(d)
            for t in p.get("targets", [])
            if "expr" in t
        ]
        out += [
            (f"{path.name}: annotation {a.get('name')!r}", a["expr"])
            for a in d.get("annotations", {}).get("list", [])
            if a.get("expr")
        ]
    return out


def _alert_rules(root: Path) -> Iterator[tuple[Path, dict[str, Any]]]:
    for path in sorted((root / "provisioning" / "alerting").glob("*.yaml")):
        doc = _yaml(path) or {}
        for g in doc.get("groups", []):
            for r in g.get("rules", []):
                yield path, r


def rule_exprs(root: Path = GRAFANA) -> list[tuple[str, str]]:
    """``(where, PromQL)`` of every Grafana alert-rule query."""
    return [
        (f"{path.name}: rule {r.get('title')!r} {d.get('refId')}", d["model"]["expr"])
        for path, r in _alert_rules(root)
        for d in r.get("data", [])
        if d.get("datasourceUid") != "__expr__" and "expr" in d.get("model", {})
    ]


def metric_names(exprs: list[tuple[str, str]]) -> set[str]:
    """The ``riskmon_*`` names in the expressions (histogram suffixes kept)."""
    return {m for _, e in exprs for m in _METRIC.findall(e)}


def _datasource_uids(root: Path) -> set[str]:
    uids: set[str] = set()
    for path in sorted((root / "provisioning" / "datasources").glob("*.yaml")):
        uids |= {d["uid"] for d in (_yaml(path) or {}).get("datasources", [])}
    return uids


def _check_dashboards(root: Path, ds: set[str]) -> Iterator[str]:
    uids: dict[str, Path] = {}
    titles: dict[str, Path] = {}
    for path, d in _dashboards(root).items():
        uid = d.get("uid", "")
        if not _UID.match(uid):
            yield f"{path.name}: bad uid {uid!r}"
        if uid in uids:
            yield f"{path.name}: uid {uid} also in {uids[uid].name}"
        uids[uid] = path
        if d.get("title") in titles:
            yield f"{path.name}: title {d.get('title')!r} also in {titles[d['title']].name}"
        titles[d.get("title", "")] = path
        ids: set[int] = set()
        cells: dict[tuple[int, int], str] = {}
        for p in _panels(d):
            name = f"{path.name}: panel {p.get('title')!r}"
            if p.get("id") in ids:
                yield f"{name}: duplicate id {p.get('id')}"
            ids.add(p.get("id", -1))
            if p.get("datasource", {}).get("uid") not in ds:
                yield f"{name}: unknown datasource {p.get('datasource')}"
            refs = [t.get("refId") for t in p.get("targets", [])]
            if not refs or any(not r for r in refs) or len(set(refs)) != len(refs):
                yield f"{name}: targets need unique refIds (got {refs})"
            for t in p.get("targets", []):
                if t.get("datasource", {}).get("uid") not in ds:
                    yield f"{name}: target {t.get('refId')} unknown datasource"
            g = p.get("gridPos", {})
            x, y, w, h = g.get("x", 0), g.get("y", 0), g.get("w", 0), g.get("h", 0)
            if w <= 0 or h <= 0 or x < 0 or x + w > 24:
                yield f"{name}: gridPos {g} outside the 24-column grid"
            for cx in range(x, x + w):
                for cy in range(y, y + h):
                    if (cx, cy) in cells:
                        yield f"{name}: overlaps {cells[(cx, cy)]!r}"
                        break
                    cells[(cx, cy)] = str(p.get("title"))
                else:
                    continue
                break
        for v in d.get("templating", {}).get("list", []):
            if v.get("datasource", {}).get("uid") not in ds:
                yield f"{path.name}: variable {v.get('name')} unknown datasource"


def _check_alerting(root: Path, ds: set[str]) -> Iterator[str]:
    seen: set[str] = set()
    for path, r in _alert_rules(root):
        name = f"{path.name}: rule {r.get('title')!r}"
        uid = r.get("uid", "")
        if not _UID.match(uid):
            yield f"{name}: bad uid {uid!r}"
        if uid in seen:
            yield f"{name}: duplicate uid {uid}"
        seen.add(uid)
        refs = [d.get("refId") for d in r.get("data", [])]
        if r.get("condition") not in refs:
            yield f"{name}: condition {r.get('condition')!r} is not a refId"
        for d in r.get("data", []):
            m = d.get("model", {})
            if m.get("refId") != d.get("refId"):
                yield f"{name}: model refId differs from {d.get('refId')}"
            if d.get("datasourceUid") == "__expr__":
                used = (
                    {m.get("expression")}
                    if m.get("type") in ("reduce", "threshold")
                    else set(_VAR.findall(m.get("expression", "")))
                )
                if not used <= set(refs):
                    yield f"{name}: {d.get('refId')} references {sorted(used - set(refs))}"
            elif d.get("datasourceUid") not in ds:
                yield f"{name}: unknown datasource {d.get('datasourceUid')}"


def _promql(exprs: list[tuple[str, str]], promtool: str) -> Iterator[str]:
    rules = []
    for i, (_, e) in enumerate(exprs):
        e = re.sub(r"\$__(rate_)?interval", "5m", e)
        e = re.sub(r"\$\{?[A-Za-z_][A-Za-z0-9_]*\}?", ".*", e)
        rules.append({"record": f"grafana_expr_{i}", "expr": e})
    with tempfile.TemporaryDirectory() as tmp:
        f = Path(tmp) / "exprs.yml"
        f.write_text(yaml.safe_dump({"groups": [{"name": "grafana", "rules": rules}]}))
        r = subprocess.run(  # noqa: S603 - promtool from PATH or the caller
            [promtool, "check", "rules", str(f)], capture_output=True, text=True, check=False
        )
    if r.returncode != 0:
        for line in (r.stdout + r.stderr).splitlines():
            m = re.search(r"grafana_expr_(\d+)", line)
            where = exprs[int(m.group(1))][0] if m else ""
            if "FAILED" not in line and line.strip() and "Checking" not in line:
                yield f"promtool: {where}: {line.strip()}"


def problems(root: Path = GRAFANA, promtool: str | None = None) -> list[str]:
    """Every problem found under ``root`` (empty when valid)."""
    out: list[str] = []
    for path in sorted(root.rglob("*.yaml")) + sorted(root.rglob("*.json")):
        try:
            doc = _yaml(path) if path.suffix == ".yaml" else json.loads(path.read_text())
        except (yaml.YAMLError, ValueError) as e:
            out.append(f"{path}: does not parse: {e}")
            continue
        if "provisioning" in path.parts and (doc or {}).get("apiVersion") != 1:
            out.append(f"{path}: apiVersion must be 1")
    if out:
        return out
    ds = _datasource_uids(root)
    out += _check_dashboards(root, ds)
    out += _check_alerting(root, ds)
    tool = promtool or shutil.which("promtool")
    if tool is None:
        out.append("promtool not found: PromQL expressions not checked")
    else:
        out += _promql(dashboard_exprs(root) + rule_exprs(root), tool)
    return out


def main() -> int:
    """Print the problems; 1 if any."""
    found = problems()
    for p in found:
        print(p)
    print(f"grafana: {len(found)} problem(s)", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
