"""Small readers over backtest JSON summaries."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def firing(summary: dict[str, Any], rule: str | None = None, **labels: str) -> list[dict[str, Any]]:
    """Firing alerts of ``rule`` (any rule if None) whose labels include ``labels``."""
    return [
        a
        for a in summary["alerts"]
        if a["status"] == "firing"
        and (rule is None or a["rule"] == rule)
        and all(a["labels"].get(k) == v for k, v in labels.items())
    ]


def ns(text: str) -> int:
    """``YYYY-MM-DD HH:MM:SS`` (UTC) → int ns."""
    dt = datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    return int(dt.timestamp()) * 1_000_000_000
