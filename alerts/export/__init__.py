"""Export a rule pack to other alerting systems (Prometheus rule files, Grafana provisioning)."""

from __future__ import annotations

from alerts.export.grafana import grafana_rules
from alerts.export.prometheus import prometheus_rules

__all__ = ["grafana_rules", "prometheus_rules"]
