"""Durable whole-file writes: a reader sees the old file or the new one, never a torn one.

:func:`write_atomic` writes a temporary file in the same directory, flushes and ``fsync``\\ s it,
renames it over the target (``os.replace``, atomic on POSIX) and ``fsync``\\ s the directory so the
rename itself survives a power cut. Used for the daemon's state snapshot. Blocking: call it from
a worker thread (``asyncio.to_thread``) inside coroutines.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

__all__ = ["write_atomic"]


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically and durably (see the module docstring).

    Raises:
        OSError: the directory or file cannot be written; ``path`` is then unchanged.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
