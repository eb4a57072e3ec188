"""riskmon alerts: rules, the alert lifecycle, the durable store and the notifiers."""

from __future__ import annotations

__all__: list[str] = []
