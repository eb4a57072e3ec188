"""The console notifier: one ``encode_alert`` JSON line per alert (the public contract).

As a receiver it adds the alert's links after the contract's keys when the dispatcher gave it
some: ``"runbook_url"`` and ``"dashboard_url"`` (notices printed straight from the evaluator, as
``riskmon replay --emit alerts`` does, have none and print exactly the contract).

Used as a receiver of the alert service (``type: console`` in the settings) and, through
:func:`write_notices`, by anything that prints evaluator notices directly.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from typing import TextIO

from alerts.model import AlertNotice, Notification, encode_alert
from alerts.notify.base import NotifyResult
from alerts.settings import ConsoleReceiver

__all__ = ["ConsoleNotifier", "write_notices"]

_LINKS = ("runbook_url", "dashboard_url")


def _line(notice: AlertNotice) -> str:
    line = encode_alert(notice).decode()
    links = {k: notice.annotations[k] for k in _LINKS if notice.annotations.get(k)}
    if links:
        line = line[:-1] + "," + json.dumps(links, separators=(",", ":"))[1:]
    return line


def write_notices(notices: Iterable[AlertNotice], stream: TextIO) -> int:
    """Write one JSON line per notice to ``stream``; return how many were written."""
    n = 0
    for notice in notices:
        stream.write(_line(notice))
        stream.write("\n")
        n += 1
    stream.flush()
    return n


class ConsoleNotifier:
    """Print each alert of a notification as its JSON line on stdout or stderr.

    Args:
        settings: the receiver's settings (name and stream).
        stream: write here instead of the settings' stream (tests).
    """

    min_interval_s = 0.0

    def __init__(self, settings: ConsoleReceiver, stream: TextIO | None = None) -> None:
        self.name = settings.name
        self.stream_name = settings.stream
        self._stream = stream

    def _target(self) -> TextIO:
        if self._stream is not None:
            return self._stream
        # looked up at each call, so a redirected sys.stdout (tests, the CLI) is honoured
        return sys.stdout if self.stream_name == "stdout" else sys.stderr

    async def notify(self, notification: Notification) -> NotifyResult:
        """Write the lines; never raises."""
        try:
            write_notices(notification.alerts, self._target())
        except OSError as e:
            return NotifyResult(ok=False, retryable=True, error=f"console ({type(e).__name__})")
        return NotifyResult(ok=True)

    async def aclose(self) -> None:
        """Nothing to close."""
