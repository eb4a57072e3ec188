"""riskmon streams: normalized events, signals, rolling windows and the processors."""

from __future__ import annotations

__all__: list[str] = []
