"""riskmon's Grafana dashboards as code (grafana-foundation-sdk, Grafana 11.6 variant).

``python -m grafana.dashboards`` writes ``grafana/dashboards/<uid>.json``; a test rebuilds them and
compares with the committed files. Four dashboards, all on the Prometheus datasource with the fixed
uid ``prometheus`` (``grafana/provisioning/datasources/riskmon.yaml``):

- **Overview** (per asset; variables asset and venue): deleveraging score, open interest against
  its 60-day peak, liquidations per minute long vs short, OI-weighted funding, drawdown from the
  90-day high, fast moves, the firing alerts table; alert transitions are annotations.
- **Pegs**: deviation by coin and venue, the cross-venue median, how many venues deviate,
  single-venue dislocations.
- **Feeds**: status by venue and channel, frames/s, parse errors by reason, reconnects, staleness,
  event-to-alert latency, the windows' late and dropped events.
- **Delivery**: outbox depth, sent/failed/retried by receiver, delivery latency, broken receivers.

Threshold lines come from the rule pack (``november-2025``): each level's threshold, converted to
the panel's unit with the same table the exporter uses, coloured by severity.

The dashboards are built in ``grafana/markets.py`` (Overview, Pegs) and ``grafana/operations.py``
(Feeds, Delivery) from the parts in ``grafana/panels.py``; this module renders and writes them.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from grafana_foundation_sdk.builders import dashboard as db
from grafana_foundation_sdk.cog.encoder import JSONEncoder

from alerts.rules import RuleSet, load_pack
from grafana.markets import overview, pegs
from grafana.operations import delivery, feeds
from grafana.panels import DATASOURCE, pack_thresholds

__all__ = ["DASHBOARDS", "DATASOURCE", "build_all", "main", "pack_thresholds", "render"]

OUT = Path(__file__).parent / "dashboards"
PACK = "november-2025"

DASHBOARDS = {
    "riskmon-overview": overview,
    "riskmon-pegs": pegs,
    "riskmon-feeds": feeds,
    "riskmon-delivery": delivery,
}


def _finish(data: dict[str, Any]) -> dict[str, Any]:
    """Fields the SDK's annotation model lacks (Prometheus annotation title and tags)."""
    for ann in data.get("annotations", {}).get("list", []):
        if ann.get("expr") == "riskmon_alerts_firing":
            ann["titleFormat"] = "{{alertname}} {{severity}}"
            ann["tagKeys"] = "alertname,severity,asset,coin,venue"
            ann["step"] = "30s"
    return data


def render(dashboard: db.Dashboard) -> str:
    """The dashboard's JSON text, stable (sorted keys, two-space indent, final newline)."""
    data = json.loads(json.dumps(dashboard.build(), cls=JSONEncoder))
    return json.dumps(_finish(data), indent=2, sort_keys=True) + "\n"


def build_all(rules: RuleSet | None = None) -> dict[str, str]:
    """Every dashboard's JSON text by uid."""
    rs = rules or load_pack(PACK)
    return {uid: render(make(rs)) for uid, make in DASHBOARDS.items()}


def main(argv: Sequence[str] | None = None) -> int:
    """Write ``grafana/dashboards/<uid>.json`` (or into the directory given)."""
    args = list(sys.argv[1:] if argv is None else argv)
    out = Path(args[0]) if args else OUT
    out.mkdir(parents=True, exist_ok=True)
    for uid, text in build_all().items():
        (out / f"{uid}.json").write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
