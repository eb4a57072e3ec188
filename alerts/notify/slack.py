"""Slack incoming-webhook notifier: Block Kit with a plain-text fallback, within Slack's limits.

Limits kept (reference §3.5): at most 50 blocks per message, section text at most 3,000 chars,
header text at most 150 chars, the fallback ``text`` at most 3,000 chars. Data is escaped (``&``,
``<``, ``>``) and ``@`` gets a zero-width space so that no data can trigger ``@channel``-style
mentions. The webhook URL is a secret: it never appears in errors, logs or ``repr``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import aiohttp

from alerts.model import AlertNotice, Notification
from alerts.notify.base import NotifyResult
from alerts.notify.http import HttpNotifier
from alerts.notify.text import alert_links, value_text
from alerts.settings import SlackReceiver

__all__ = ["SlackNotifier", "escape", "render_slack"]

MAX_BLOCKS = 50
MAX_SECTION = 3000
MAX_HEADER = 150
MAX_TEXT = 3000
_ICON = {
    "critical": ":red_circle:",
    "warning": ":large_orange_circle:",
    "info": ":large_blue_circle:",
}


def escape(text: str) -> str:
    """Escape Slack control characters and neutralise mentions in untrusted text."""
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("@", "@\u200b")
    )


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _ts(ns: int | None) -> str:
    if ns is None:
        return "-"
    return datetime.fromtimestamp(ns / 1e9, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _title(n: Notification) -> str:
    counts = f"FIRING:{len(n.firing)}" if n.firing else f"RESOLVED:{len(n.resolved)}"
    worst = min(n.alerts, key=lambda a: {"critical": 0, "warning": 1}.get(a.severity, 2))
    group = " ".join(f"{k}={v}" for k, v in sorted(n.group_labels.items()))
    return f"[{counts}] {worst.severity.upper()} {group}".strip()


def _alert_line(a: AlertNotice) -> str:
    state = "RESOLVED" if a.status == "resolved" else a.severity.upper()
    tier = " (extreme)" if a.labels.get("tier") == "extreme" else ""
    return f"{state}{tier} {a.rule}: {a.summary}"


def _link(name: str, url: str) -> str:
    """A Slack link for an absolute URL; a relative one (no base URL set) as plain text."""
    if "://" in url:
        return f"<{escape(url).replace('|', '%7C')}|{name}>"
    return f"{name}: {escape(url)}"


def render_slack(n: Notification, max_alerts: int = 40) -> dict[str, object]:
    """Build the webhook payload (``text`` fallback plus ``blocks``) for a notification."""
    title = _title(n)
    blocks: list[dict[str, object]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _cut(title, MAX_HEADER)}}
    ]
    shown = n.alerts[: max(1, min(max_alerts, MAX_BLOCKS - 3))]
    for a in shown:
        icon = ":white_check_mark:" if a.status == "resolved" else _ICON.get(a.severity, "")
        labels = ", ".join(
            f"{k}={v}" for k, v in sorted(a.labels.items()) if k not in ("severity", "category")
        )
        lines = [
            f"{icon} *{escape(_alert_line(a))}*",
            f"`{escape(labels)}`  {escape(value_text(a))}",
            f"since {_ts(a.starts_at)}" + (f", resolved {_ts(a.ends_at)}" if a.ends_at else ""),
        ]
        runbook = a.annotations.get("runbook")
        if runbook:
            lines.append(f"_Runbook:_ {escape(runbook)}")
        links = [_link(name, url) for name, url in alert_links(a)]
        if links:
            lines.append(" · ".join(links))
        blocks.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": _cut("\n".join(lines), MAX_SECTION)},
            }
        )
    hidden = len(n.alerts) - len(shown)
    if hidden > 0:
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": f"… and {hidden} more alerts"}}
        )
    blocks.append(
        {
            "type": "context",
            "elements": [
                {"type": "mrkdwn", "text": f"riskmon · notification {n.idempotency_key[:12]}"}
            ],
        }
    )
    fallback_lines = [title] + [_alert_line(a) for a in n.alerts[:20]]
    if len(n.alerts) > 20:
        fallback_lines.append(f"… and {len(n.alerts) - 20} more")
    text = _cut(escape("\n".join(fallback_lines)), MAX_TEXT)
    return {"text": text, "blocks": blocks[:MAX_BLOCKS]}


class SlackNotifier(HttpNotifier):
    """Post notifications to one Slack incoming webhook (1 message/s, see the Deliverer)."""

    def __init__(
        self, settings: SlackReceiver, session: aiohttp.ClientSession | None = None
    ) -> None:
        """Raises ValueError when the webhook URL is missing or its file cannot be read."""
        super().__init__(settings, session)
        self.min_interval_s = settings.min_interval_s
        self.max_alerts = settings.max_alerts

    async def notify(self, notification: Notification) -> NotifyResult:
        """Post the notification; never raises."""
        body = json.dumps(render_slack(notification, self.max_alerts)).encode()
        return await self.post(notification, body)
