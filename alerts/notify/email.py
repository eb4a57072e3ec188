"""Email notifier over SMTP (aiosmtplib): STARTTLS or implicit TLS, auth, HTML + plain text.

One message per notification (= per group). The subject is built from labels (wire data), so
every control or line-separator character in it becomes a space (:func:`header_safe`): a label
with a line break must not make the message unsendable (and retried for ever) or inject headers.
``Message-ID`` is derived from the idempotency key, so a re-delivery after a crash carries the
same id and mail systems can drop the duplicate.
"""

from __future__ import annotations

import html
import ssl
import unicodedata
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formatdate
from typing import Literal

import aiosmtplib

from alerts.model import Notification
from alerts.notify.base import NotifyResult
from alerts.notify.http import redact
from alerts.notify.text import alert_links, value_text
from alerts.settings import EmailReceiver, read_secret

__all__ = ["EmailNotifier", "header_safe", "render_email"]

TlsMode = Literal["starttls", "implicit", "none"]


def header_safe(text: str, limit: int = 200) -> str:
    """``text`` with control and line/paragraph separator characters as spaces, cut at ``limit``."""
    out = "".join(" " if unicodedata.category(c)[0] in "CZ" and c != " " else c for c in text)
    return " ".join(out.split())[:limit]


def _ts(ns: int | None) -> str:
    if ns is None:
        return "-"
    return datetime.fromtimestamp(ns / 1e9, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def render_email(n: Notification, sender: str, to: list[str]) -> EmailMessage:
    """Build the multipart (plain text + HTML) message for a notification."""
    firing, resolved = n.firing, n.resolved
    head = f"FIRING:{len(firing)}" if firing else f"RESOLVED:{len(resolved)}"
    worst = (
        "critical"
        if any(a.severity == "critical" for a in firing)
        else ("warning" if any(a.severity == "warning" for a in firing) else "info")
    )
    group = " ".join(f"{k}={v}" for k, v in sorted(n.group_labels.items()))
    subject = header_safe(f"[riskmon] [{head}] {worst.upper()} {group}")
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = f"<{n.idempotency_key}@riskmon>"
    msg["X-Riskmon-Idempotency-Key"] = n.idempotency_key
    lines = [subject, ""]
    rows: list[str] = []
    for a in n.alerts:
        state = "RESOLVED" if a.status == "resolved" else a.severity.upper()
        labels = ", ".join(f"{k}={v}" for k, v in sorted(a.labels.items()))
        lines += [
            f"{state} {a.rule}: {a.summary}",
            f"  labels: {labels}",
            f"  {value_text(a)}  since: {_ts(a.starts_at)}"
            + (f"  resolved: {_ts(a.ends_at)}" if a.ends_at else ""),
        ]
        if a.annotations.get("runbook"):
            lines.append(f"  runbook: {a.annotations['runbook']}")
        links = alert_links(a)
        for name, url in links:
            lines.append(f"  {name.lower()}: {url}")
        lines.append(f"  fingerprint: {a.fingerprint}")
        lines.append("")
        colour = {"CRITICAL": "#c0392b", "WARNING": "#d68910", "RESOLVED": "#1e8449"}.get(
            state, "#2e86c1"
        )
        rows.append(
            "<tr>"
            f'<td style="color:{colour};font-weight:bold">{html.escape(state)}</td>'
            f"<td>{html.escape(a.rule)}</td>"
            f"<td>{html.escape(a.summary)}<br><small>{html.escape(labels)}</small>"
            f"<br><small>{html.escape(value_text(a))}</small>"
            + (
                f"<br><i>Runbook:</i> {html.escape(a.annotations['runbook'])}"
                if a.annotations.get("runbook")
                else ""
            )
            + "".join(
                f'<br><a href="{html.escape(url)}">{html.escape(name)}</a>'
                if "://" in url
                else f"<br>{html.escape(name)}: {html.escape(url)}"
                for name, url in links
            )
            + f"</td><td>{html.escape(_ts(a.starts_at))}</td></tr>"
        )
    lines.append(f"notification {n.idempotency_key}")
    msg.set_content("\n".join(lines))
    msg.add_alternative(
        "<html><body>"
        f"<h3>{html.escape(subject)}</h3>"
        '<table border="1" cellpadding="4" cellspacing="0">'
        "<tr><th>State</th><th>Rule</th><th>Summary</th><th>Since</th></tr>"
        + "".join(rows)
        + "</table>"
        f"<p><small>notification {html.escape(n.idempotency_key)}</small></p>"
        "</body></html>",
        subtype="html",
    )
    return msg


class EmailNotifier:
    """Send one email per notification through an SMTP server."""

    def __init__(self, settings: EmailReceiver) -> None:
        """Raises ValueError when the password file cannot be read."""
        self.name = settings.name
        self.host = settings.host
        self.port = settings.port
        self.sender = settings.sender
        self.to = list(settings.to)
        self.tls: TlsMode = settings.tls
        self.username = settings.username
        self._password = read_secret(
            settings.password, settings.password_file, f"receiver {settings.name} password"
        )
        self.timeout_s = settings.timeout_s
        self.min_interval_s = settings.min_interval_s
        ca_file = settings.ca_file
        ctx = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
        if not settings.verify_tls:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        self._tls_context = ctx

    def __repr__(self) -> str:
        return (
            f"EmailNotifier(name={self.name!r}, host={self.host!r}, port={self.port},"
            f" tls={self.tls!r}, username={self.username!r}, password=SecretStr('**********'))"
        )

    async def notify(self, notification: Notification) -> NotifyResult:
        """Send the message; never raises."""
        msg = render_email(notification, self.sender, self.to)
        password = self._password.get_secret_value() if self._password is not None else None
        try:
            await aiosmtplib.send(
                msg,
                hostname=self.host,
                port=self.port,
                username=self.username,
                password=password,
                use_tls=self.tls == "implicit",
                start_tls=True
                if self.tls == "starttls"
                else (None if self.tls == "implicit" else False),
                tls_context=self._tls_context if self.tls != "none" else None,
                timeout=self.timeout_s,
            )
        except aiosmtplib.SMTPAuthenticationError as e:
            return NotifyResult(ok=False, broken=True, error=f"SMTP auth failed ({e.code})")
        except aiosmtplib.SMTPRecipientsRefused:
            return NotifyResult(ok=False, broken=True, error="SMTP recipients refused")
        except aiosmtplib.SMTPResponseException as e:
            secrets = [password or ""]
            text = redact(str(e.message)[:120], secrets)
            if 400 <= e.code < 500:
                return NotifyResult(ok=False, retryable=True, error=f"SMTP {e.code} {text}")
            return NotifyResult(ok=False, broken=True, error=f"SMTP {e.code} {text}")
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as e:
            return NotifyResult(ok=False, retryable=True, error=f"SMTP error ({type(e).__name__})")
        return NotifyResult(ok=True)

    async def aclose(self) -> None:
        """Nothing to close: each send uses its own connection."""
