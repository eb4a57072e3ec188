"""The exchange simulator: local servers that speak each venue's protocol (tests, demo, bench)."""

from __future__ import annotations

__all__: list[str] = []
