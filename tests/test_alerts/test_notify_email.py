"""Tests for the email notifier against a real aiosmtpd server on 127.0.0.1."""

from __future__ import annotations

import email
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from pydantic import SecretStr

from alerts.model import AlertNotice, Notification
from alerts.notify.email import EmailNotifier
from alerts.settings import EmailReceiver

T0 = 1_763_700_000 * 10**9


@dataclass
class Inbox:
    """An aiosmtpd handler that keeps every message and the authenticated user."""

    messages: list[Message] = field(default_factory=list)
    envelopes: list[Any] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(name="cert", scope="module")
def _cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A server certificate for 127.0.0.1; the returned chain file also holds its CA."""
    d = tmp_path_factory.mktemp("tls")
    key, crt = d / "key.pem", d / "cert.pem"
    ca = trustme.CA()
    leaf = ca.issue_cert("127.0.0.1")
    leaf.private_key_pem.write_to_path(str(key))
    crt.write_bytes(b"".join(p.bytes() for p in leaf.cert_chain_pems) + ca.cert_pem.bytes())
    return crt, key


def authenticator(inbox: Inbox) -> Any:
    def auth(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        if isinstance(data, LoginPassword) and (data.login, data.password) == (
            b"risk",
            b"pa55word",
        ):
            inbox.logins.append(data.login.decode())
            return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    return auth


@pytest.fixture(name="smtp_starttls")
def _smtp_starttls(cert: tuple[Path, Path]) -> Iterator[tuple[Inbox, int]]:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(str(cert[0]), str(cert[1]))
    inbox = Inbox()
    port = free_port()
    ctl = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        tls_context=ctx,
        require_starttls=True,
        authenticator=authenticator(inbox),
        auth_require_tls=True,
    )
    ctl.start()
    yield inbox, port
    ctl.stop()


def notification(n_alerts: int = 2) -> Notification:
    alerts = [
        AlertNotice(
            status="firing" if i == 0 else "resolved",
            rule="oi_drawdown",
            severity="critical",
            labels={"asset": f"A{i}", "severity": "critical"},
            annotations={"runbook": "reduce <leverage> & check"},
            value=-35.0,
            starts_at=T0,
            ends_at=None if i == 0 else T0 + 10**9,
            fingerprint=f"fp{i}",
            summary=f"A{i} open interest -35.0% from its 60-day peak",
        )
        for i in range(n_alerts)
    ]
    return Notification(
        receiver="mail",
        group_key="g",
        group_labels={"alertname": "oi_drawdown"},
        status="firing",
        alerts=alerts,
        idempotency_key="abc123",
        seq=1,
        created_ns=T0,
    )


async def test_email_over_starttls_with_auth_has_text_and_html(
    smtp_starttls: tuple[Inbox, int], cert: tuple[Path, Path]
) -> None:
    """One message per group arrives over STARTTLS with auth, in plain text and HTML."""
    inbox, port = smtp_starttls
    n = EmailNotifier(
        EmailReceiver(
            name="mail",
            host="127.0.0.1",
            port=port,
            sender="riskmon@desk.test",
            to=["risk@desk.test"],
            tls="starttls",
            username="risk",
            password=SecretStr("pa55word"),
            ca_file=cert[0],
        )
    )
    res = await n.notify(notification())
    assert res.ok, res.error
    assert inbox.logins == ["risk"]
    assert len(inbox.messages) == 1
    msg = inbox.messages[0]
    assert msg["Subject"] == "[riskmon] [FIRING:1] CRITICAL alertname=oi_drawdown"
    assert msg["Message-ID"] == "<abc123@riskmon>"
    assert inbox.envelopes[0].rcpt_tos == ["risk@desk.test"]
    parts = {
        p.get_content_type(): p.get_payload(decode=True).decode()
        for p in msg.walk()
        if not p.is_multipart()
    }
    assert "A0 open interest -35.0% from its 60-day peak" in parts["text/plain"]
    assert "RESOLVED oi_drawdown" in parts["text/plain"]
    assert "reduce &lt;leverage&gt; &amp; check" in parts["text/html"]


async def test_wrong_password_is_broken_config_without_leaking_it(
    smtp_starttls: tuple[Inbox, int], cert: tuple[Path, Path]
) -> None:
    """A rejected login is reported as broken configuration; the password is not in the error."""
    inbox, port = smtp_starttls
    n = EmailNotifier(
        EmailReceiver(
            name="mail",
            host="127.0.0.1",
            port=port,
            sender="riskmon@desk.test",
            to=["risk@desk.test"],
            tls="starttls",
            username="risk",
            password=SecretStr("hunter2-wrong"),
            ca_file=cert[0],
        )
    )
    res = await n.notify(notification())
    assert res.broken
    assert "hunter2" not in (res.error or "")
    assert "hunter2" not in repr(n)
    assert inbox.messages == []


async def test_untrusted_certificate_is_refused(smtp_starttls: tuple[Inbox, int]) -> None:
    """Without the CA, STARTTLS verification fails and nothing is sent (retryable)."""
    inbox, port = smtp_starttls
    n = EmailNotifier(
        EmailReceiver(
            name="mail",
            host="127.0.0.1",
            port=port,
            sender="a@b.test",
            to=["c@d.test"],
            tls="starttls",
            username="risk",
            password=SecretStr("pa55word"),
        )
    )
    res = await n.notify(notification())
    assert not res.ok
    assert inbox.messages == []


async def test_unreachable_server_is_retryable() -> None:
    """A closed port gives a retryable failure, not an exception."""
    n = EmailNotifier(
        EmailReceiver(
            name="mail",
            host="127.0.0.1",
            port=free_port(),
            sender="a@b.test",
            to=["c@d.test"],
            tls="none",
        )
    )
    res = await n.notify(notification(1))
    assert res.retryable


async def test_email_over_implicit_tls(cert: tuple[Path, Path]) -> None:
    """Implicit TLS (SMTPS) delivers the message when the CA is trusted."""
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(str(cert[0]), str(cert[1]))
    inbox = Inbox()
    port = free_port()
    ctl = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        ssl_context=ctx,
        authenticator=authenticator(inbox),
        auth_require_tls=False,
    )
    ctl.start()
    try:
        n = EmailNotifier(
            EmailReceiver(
                name="mail",
                host="127.0.0.1",
                port=port,
                sender="riskmon@desk.test",
                to=["risk@desk.test"],
                tls="implicit",
                username="risk",
                password=SecretStr("pa55word"),
                ca_file=cert[0],
            )
        )
        res = await n.notify(notification(1))
    finally:
        ctl.stop()
    assert res.ok, res.error
    assert inbox.logins == ["risk"]
    assert len(inbox.messages) == 1
