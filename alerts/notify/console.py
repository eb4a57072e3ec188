"""The console notifier: one ``encode_alert`` JSON line per notice (the public contract)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TextIO

from alerts.model import AlertNotice, encode_alert

__all__ = ["ConsoleNotifier", "write_notices"]


def write_notices(notices: Iterable[AlertNotice], stream: TextIO) -> int:
    """Write one JSON line per notice to ``stream``; return how many were written."""
    n = 0
    for notice in notices:
        stream.write(encode_alert(notice).decode())
        stream.write("\n")
        n += 1
    stream.flush()
    return n


class ConsoleNotifier:
    """Write notices as JSON lines to a text stream (stdout for ``riskmon replay``)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def emit(self, notices: Iterable[AlertNotice]) -> int:
        """Write the notices; return how many were written."""
        return write_notices(notices, self.stream)
