"""riskmon monitor: the daemon, venue feeds, connections, the simulator and the CLI."""

from __future__ import annotations

__all__: list[str] = []
