"""Capture files offline: record them, parse them, replay them through the pipeline.

:mod:`~monitor.replay.record` (``riskmon capture``: live frames to a file),
:mod:`~monitor.replay.parse` (``riskmon parse``: frames to events, counting what cannot be
parsed) and :mod:`~monitor.replay.run` (``riskmon replay``: events through processors and rules,
in event time). The capture format itself, and the writer the daemon uses, is
:mod:`monitor.capture`.
"""

from __future__ import annotations

__all__: list[str] = []
