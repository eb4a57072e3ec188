"""Notifiers: console, Slack, email, generic webhook, Alertmanager."""

from __future__ import annotations

__all__: list[str] = []
