"""What every human-facing notifier (Slack, email) writes about one alert, besides its summary.

Pure functions over :class:`~alerts.model.AlertNotice`: the value in its unit with the peak, and
the links (runbook, dashboard) the dispatcher put into its annotations (alerts/links.py).
"""

from __future__ import annotations

from alerts.format import clock_time, human
from alerts.model import AlertNotice

__all__ = ["alert_links", "value_text"]


def value_text(a: AlertNotice) -> str:
    """``value $1.91B, peak $2.01B at 05:40 UTC`` (firing) or ``value at clear $286M``."""
    if a.status == "resolved":
        return f"value at clear {human(a.value, a.unit)}"
    text = f"value {human(a.value, a.unit)}"
    if a.peak is not None and a.peak_at is not None and a.peak != a.value:
        text += f", peak {human(a.peak, a.unit)} at {clock_time(a.peak_at, a.starts_at)}"
    return text


def alert_links(a: AlertNotice) -> list[tuple[str, str]]:
    """``[("Runbook", url), ("Dashboard", url)]``, those the alert has."""
    out = []
    for name, key in (("Runbook", "runbook_url"), ("Dashboard", "dashboard_url")):
        url = a.annotations.get(key, "")
        if url:
            out.append((name, url))
    return out
