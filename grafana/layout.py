"""Draw a dashboard's layout (panel titles and grid positions) from its JSON, as a PNG.

``python -m grafana.layout grafana/dashboards/riskmon-overview.json docs/grafana-overview.png``
draws the 24-column grid Grafana lays panels on (one row unit = 30 px), each panel a box with its
title, type and first query; no Grafana server is needed.
"""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.patches import FancyBboxPatch

__all__ = ["draw_layout", "main"]

_FILL = {
    "timeseries": "#e8f1fb",
    "table": "#fdf2e3",
    "stat": "#e9f7ec",
    "state-timeline": "#f3eafa",
}


def draw_layout(dashboard: dict[str, Any], out: Path) -> None:
    """Write a PNG of the dashboard's panels at their grid positions."""
    panels = dashboard.get("panels", [])
    rows = max((p["gridPos"]["y"] + p["gridPos"]["h"] for p in panels), default=1)
    fig, ax = plt.subplots(figsize=(14, 14 * rows / 24 * 0.42 + 0.8), dpi=100)
    ax.set_xlim(0, 24)
    ax.set_ylim(rows, -1.2)
    ax.axis("off")
    variables = ", ".join(
        f"\\${v['name']}" for v in dashboard.get("templating", {}).get("list", [])
    )
    ax.text(
        0,
        -0.6,
        f"{dashboard.get('title')}  (uid {dashboard.get('uid')}; variables {variables or 'none'})",
        fontsize=13,
        fontweight="bold",
        va="center",
    )
    for p in panels:
        g = p["gridPos"]
        ax.add_patch(
            FancyBboxPatch(
                (g["x"] + 0.1, g["y"] + 0.1),
                g["w"] - 0.2,
                g["h"] - 0.2,
                boxstyle="round,pad=0,rounding_size=0.3",
                facecolor=_FILL.get(p.get("type", ""), "#f0f0f0"),
                edgecolor="#5b6b7a",
            )
        )
        ax.text(
            g["x"] + 0.5,
            g["y"] + 0.9,
            p.get("title", ""),
            fontsize=10.5,
            fontweight="bold",
            va="center",
        )
        expr = next((t.get("expr", "") for t in p.get("targets", [])), "")
        unit = p.get("fieldConfig", {}).get("defaults", {}).get("unit", "")
        steps = p.get("fieldConfig", {}).get("defaults", {}).get("thresholds", {}).get("steps", [])
        levels = [s["value"] for s in steps if s.get("value") is not None]
        info = f"{p.get('type')}" + (f", unit {unit}" if unit else "")
        if levels:
            info += ", thresholds " + " ".join(f"{v:g}" for v in levels)
        info = textwrap.fill(info, width=int(g["w"] * 5.5))
        ax.text(g["x"] + 0.5, g["y"] + 1.9, info, fontsize=8, color="#444444", va="center")
        wrapped = textwrap.fill(expr.replace("$", "\\$"), width=int(g["w"] * 6.5))
        ax.text(
            g["x"] + 0.5,
            g["y"] + 2.7,
            wrapped,
            fontsize=7.5,
            family="monospace",
            color="#1f4e79",
            va="top",
        )
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m grafana.layout DASHBOARD.json OUT.png``."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 2:
        print("usage: python -m grafana.layout DASHBOARD.json OUT.png", file=sys.stderr)
        return 2
    draw_layout(json.loads(Path(args[0]).read_text(encoding="utf-8")), Path(args[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
