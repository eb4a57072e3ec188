"""grafana/: dashboards rebuilt from code, provisioning, offline validation with promtool."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from alerts.export import grafana_rules
from alerts.rules import load_pack
from grafana import dashboards, validate


def test_committed_dashboards_are_what_the_code_builds() -> None:
    """Rebuilding every dashboard gives the committed JSON, byte for byte."""
    built = dashboards.build_all()
    committed = {p.stem: p.read_text() for p in (validate.GRAFANA / "dashboards").glob("*.json")}
    assert (
        set(built)
        == set(committed)
        == {
            "riskmon-overview",
            "riskmon-pegs",
            "riskmon-feeds",
            "riskmon-delivery",
        }
    )
    for uid, text in built.items():
        assert text == committed[uid], f"{uid}: run python -m grafana.dashboards"


def test_committed_alert_rules_are_the_export_of_the_pack() -> None:
    """provisioning/alerting/riskmon-rules.yaml is `riskmon rules export --format grafana`."""
    f = validate.GRAFANA / "provisioning" / "alerting" / "riskmon-rules.yaml"
    assert f.read_text() == grafana_rules(load_pack("november-2025"))


def test_grafana_folder_validates_offline(promtool: str) -> None:
    """uids, datasource references, refIds, layout and every PromQL expression are valid."""
    assert validate.problems(promtool=promtool) == []
    assert len(validate.dashboard_exprs()) >= 30
    assert len(validate.rule_exprs()) >= 44


def test_validation_catches_broken_files(tmp_path: Path, promtool: str) -> None:
    """A wrong datasource uid, a missing refId and bad PromQL are reported."""
    root = tmp_path / "grafana"
    shutil.copytree(validate.GRAFANA, root, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    f = root / "dashboards" / "riskmon-feeds.json"
    d = json.loads(f.read_text())
    d["panels"][1]["datasource"]["uid"] = "prom-typo"
    d["panels"][2]["targets"][0]["refId"] = ""
    d["panels"][3]["targets"][0]["expr"] = "sum(rate(riskmon_feed_frames_total[5m])"
    f.write_text(json.dumps(d))
    found = validate.problems(root, promtool)
    assert any("unknown datasource" in p and "Frames per second" in p for p in found)
    assert any("refIds" in p and "Parse errors" in p for p in found)
    assert any(p.startswith("promtool:") and "Reconnects" in p for p in found)


def test_panels_draw_the_pack_thresholds() -> None:
    """The OI drawdown panel's steps are the pack's -30/-20/-10 % levels, in the panel's unit."""
    d = json.loads((validate.GRAFANA / "dashboards" / "riskmon-overview.json").read_text())
    panel = next(p for p in d["panels"] if p["title"] == "Open interest vs 60-day peak")
    steps = panel["fieldConfig"]["defaults"]["thresholds"]["steps"]
    assert [(s["value"], s["color"]) for s in steps] == [
        (None, "red"),
        (-0.3, "orange"),
        (-0.2, "yellow"),
        (-0.1, "green"),
    ]
    assert panel["fieldConfig"]["defaults"]["unit"] == "percentunit"
    assert {v["name"] for v in d["templating"]["list"]} == {"asset", "venue"}


def test_layout_png_is_drawn_from_the_dashboard_json(tmp_path: Path) -> None:
    """grafana.layout writes a PNG of the committed Overview dashboard."""
    from grafana import layout

    out = tmp_path / "overview.png"
    assert (
        layout.main([str(validate.GRAFANA / "dashboards" / "riskmon-overview.json"), str(out)]) == 0
    )
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert out.stat().st_size > 20_000
