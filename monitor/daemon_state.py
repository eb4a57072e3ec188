"""The daemon's saved state: the pipeline's snapshot (processors and evaluator) in one JSON file.

Written atomically and durably (:func:`streams.durable_file.write_atomic`) every
``snapshot_interval_s``, soon after each alert transition and at shutdown; read at start. A file
that is missing, unreadable, not a mapping or of another ``snapshot_version`` is logged and the
daemon starts fresh (it then backfills history, see :mod:`monitor.daemon_history`).
"""

from __future__ import annotations

import json
from pathlib import Path

import structlog

from monitor.pipeline import Pipeline

__all__ = ["SNAPSHOT_VERSION", "encode_state", "restore_state"]

#: ``snapshot_version`` of the state file; any other version is not restored
SNAPSHOT_VERSION = 1


def encode_state(pipeline: Pipeline) -> bytes:
    """The pipeline's snapshot as the state file's bytes.

    Raises:
        TypeError, ValueError: a processor's state does not encode as JSON.
    """
    state = {**pipeline.snapshot(), "snapshot_version": SNAPSHOT_VERSION}
    return json.dumps(state).encode()


def restore_state(
    path: Path, pipeline: Pipeline, log: structlog.typing.FilteringBoundLogger
) -> bool:
    """Restore ``pipeline`` from ``path``; False (start fresh, logged) when it cannot be used."""
    if not path.is_file():
        log.info("daemon.state_missing", path=str(path))
        return False
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        log.error("daemon.state_unreadable", path=str(path), error=str(e))
        return False
    version = state.get("snapshot_version") if isinstance(state, dict) else None
    if version != SNAPSHOT_VERSION:
        log.error(
            "daemon.state_unusable",
            path=str(path),
            kind=type(state).__name__,
            snapshot_version=version,
            expected=SNAPSHOT_VERSION,
        )
        return False
    try:
        pipeline.restore(state)
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        log.error("daemon.state_unreadable", path=str(path), error=repr(e))
        return False
    log.info("daemon.state_restored", path=str(path), watermark_ns=pipeline.engine.watermark_ns)
    return True
