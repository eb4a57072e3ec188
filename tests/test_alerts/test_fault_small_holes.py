"""Issue 10 point 8: a subject with a line break is delivered (real aiosmtpd server), signature
verification never raises, per-event collections are bounded."""

from __future__ import annotations

import email
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from prometheus_client import CollectorRegistry

from alerts.model import AlertNotice, Notification
from alerts.notify.email import EmailNotifier
from alerts.notify.webhook import sign, verify_signature
from alerts.settings import EmailReceiver
from monitor.daemon import Daemon
from monitor.settings import MetricsSettings, Settings

from .test_notify_email import free_port

T0 = 1_763_700_000 * 10**9


@dataclass
class Inbox:
    messages: list[Message] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture(name="smtp")
def _smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    ctl = Controller(inbox, hostname="127.0.0.1", port=port)
    ctl.start()
    yield inbox, port
    ctl.stop()


def notice(asset: str) -> AlertNotice:
    return AlertNotice(
        status="firing",
        rule="oi_drawdown",
        severity="critical",
        labels={"asset": asset, "severity": "critical"},
        value=-35.0,
        starts_at=T0,
        ends_at=None,
        fingerprint="fp",
        summary="open interest down",
    )


async def test_subject_with_line_breaks_is_sanitised_and_delivered(
    smtp: tuple[Inbox, int],
) -> None:
    inbox, port = smtp
    n = EmailNotifier(
        EmailReceiver(
            name="mail", host="127.0.0.1", port=port, sender="a@b.test", to=["c@d.test"], tls="none"
        )
    )
    evil = "BTC\r\nBcc: victim@x.test\u2028\x0b"
    res = await n.notify(
        Notification(
            receiver="mail",
            group_key="g",
            group_labels={"alertname": "oi_drawdown", "asset": evil},
            status="firing",
            alerts=[notice(evil)],
            idempotency_key="k",
            seq=1,
            created_ns=T0,
        )
    )
    await n.aclose()
    assert res.ok, res.error
    [msg] = inbox.messages
    assert (
        " ".join(str(msg["Subject"]).split())  # unfolded
        == "[riskmon] [FIRING:1] CRITICAL alertname=oi_drawdown asset=BTC Bcc: victim@x.test"
    )
    assert msg["Bcc"] is None


@pytest.mark.parametrize(
    ("timestamp", "header"),
    [
        ("nan", "sha256=00"),
        ("inf", "sha256=00"),
        ("", ""),
        ("1e999", "sha256=00"),
        ("１２３", "sha256=00"),  # non-ASCII digits
        ("NOW", "sha256=00"),
        ("{now}", "sha256=é"),  # non-ASCII header
        ("{now}", "garbage"),
        ("{now}", "sha256=" + "0" * 64),
        ("{now}", "\x00"),
    ],
)
def test_signature_verification_is_false_on_malformed_headers(timestamp: str, header: str) -> None:
    ts = timestamp.replace("{now}", str(int(time.time())))
    assert verify_signature(b"s", ts, b"{}", header) is False
    assert verify_signature(b"s", ts, b"{}", header, max_age_s=None) is False


def test_signature_still_verifies_good_headers() -> None:
    ts = str(int(time.time()))
    assert verify_signature(b"s", ts, b"{}", sign(b"s", ts, b"{}"))


async def test_daemon_notices_are_bounded(tmp_path: Path) -> None:
    d = Daemon(
        Settings(
            venues={},
            state_dir=tmp_path / "state",
            store=tmp_path / "riskmon.db",
            metrics=MetricsSettings(enabled=False),
        ),
        registry=CollectorRegistry(),
    )
    for i in range(30):
        await d._emit([notice(f"A{i}-{j}") for j in range(100)])
    assert len(d.notices) == 1000
    assert d.notices[-1].labels["asset"] == "A29-99"
