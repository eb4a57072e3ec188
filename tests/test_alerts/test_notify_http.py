"""Tests for the Slack, webhook and Alertmanager notifiers against real local HTTP servers."""

from __future__ import annotations

import asyncio
import json
from email.utils import formatdate
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from alerts.model import AlertNotice, Notification, Severity, Status
from alerts.notify.alertmanager import AlertmanagerNotifier
from alerts.notify.http import RETRY_AFTER_CAP_S, RETRY_AFTER_DEFAULT_S, retry_wait_s
from alerts.notify.slack import MAX_BLOCKS, SlackNotifier, render_slack
from alerts.notify.webhook import WebhookNotifier, sign, verify_signature
from alerts.route import Route
from alerts.rules import fingerprint
from alerts.service import AlertService
from alerts.settings import (
    AlertmanagerReceiver,
    AlertsSettings,
    SlackReceiver,
    WebhookReceiver,
)
from tests.helpers import eventually

from .fakes import Receiver, serve

T0 = 1_763_700_000 * 10**9


def item(
    i: int = 0, status: Status = "firing", severity: Severity = "critical", summary: str = ""
) -> AlertNotice:
    labels = {"asset": "BTC", "severity": severity}
    return AlertNotice(
        status=status,
        rule="liquidations_1h",
        severity=severity,
        labels=labels,
        annotations={"runbook": "cut risk"},
        value=1.2e9,
        starts_at=T0,
        ends_at=None if status == "firing" else T0 + 60 * 10**9,
        fingerprint=f"fp{i:04d}",
        summary=summary or f"Liquidations 1.2B USD #{i}",
    )


def notification(items: list[AlertNotice], key: str = "k1") -> Notification:
    return Notification(
        receiver="slack",
        group_key="g",
        group_labels={"alertname": "liquidations_1h"},
        status="firing",
        alerts=items,
        idempotency_key=key,
        seq=1,
        created_ns=T0,
    )


async def test_slack_posts_blocks_with_text_fallback_and_idempotency_key() -> None:
    """A Slack post carries text, Block Kit blocks and the idempotency key header."""
    async with serve(Receiver()) as rx:
        n = SlackNotifier(SlackReceiver(name="slack", url=SecretStr(rx.url + "/hook")))
        res = await n.notify(notification([item()]))
        await n.aclose()
    assert res.ok
    body = rx.accepted[0]["json"]
    assert body["text"].startswith("[FIRING:1] CRITICAL")
    assert body["blocks"][0]["type"] == "header"
    assert "Runbook" in body["blocks"][1]["text"]["text"]
    assert rx.accepted[0]["headers"]["Idempotency-Key"] == "k1"


def test_slack_escapes_markup_and_neutralises_mentions() -> None:
    """Data cannot inject Slack markup or @channel mentions."""
    evil = item(summary="<!channel> @here & <https://x|click>")
    payload = render_slack(notification([evil]))
    text = json.dumps(payload)
    assert "<!channel>" not in text
    assert "@here" not in text
    fallback = str(payload["text"])
    assert "&lt;!channel&gt;" in fallback
    assert "&amp;" in fallback
    assert "@\u200bhere" in fallback


def test_slack_payload_stays_within_limits() -> None:
    """Hundreds of alerts still give at most 50 blocks, short sections and a short fallback."""
    many = [item(i, summary="x" * 5000) for i in range(300)]
    payload = render_slack(notification(many))
    blocks = payload["blocks"]
    assert isinstance(blocks, list)
    assert len(blocks) <= MAX_BLOCKS
    assert all(len(b["text"]["text"]) <= 3000 for b in blocks if b["type"] == "section")
    assert len(payload["text"]) <= 3000  # type: ignore[arg-type]
    assert "more alerts" in json.dumps(blocks)


async def test_slack_answers_are_classified_and_secret_never_leaks() -> None:
    """429 gives Retry-After, 500 is retryable, 404 is broken; the URL is in no error or repr."""
    script = [
        (429, {"Retry-After": "7"}, "rate_limited"),
        (500, {}, "rollup_error"),
        (404, {}, "channel_not_found"),
    ]
    async with serve(Receiver(script=list(script))) as rx:
        url = rx.url + "/hook/T000/B000/SECRETTOKEN"
        async with serve(Receiver(script=list(script)), path="/hook/T000/B000/SECRETTOKEN") as rx2:
            url = rx2.url + "/hook/T000/B000/SECRETTOKEN"
            n = SlackNotifier(SlackReceiver(name="slack", url=SecretStr(url)))
            r429 = await n.notify(notification([item()]))
            r500 = await n.notify(notification([item()]))
            r404 = await n.notify(notification([item()]))
            await n.aclose()
        down = SlackNotifier(
            SlackReceiver(name="slack", url=SecretStr(url))
        )  # server gone: connection error
        rdown = await down.notify(notification([item()]))
        await down.aclose()
    assert rx.requests == []
    assert (r429.retryable, r429.retry_after_s) == (True, 7.0)
    assert r500.retryable
    assert not r500.broken
    assert r404.broken
    assert "channel_not_found" in (r404.error or "")
    assert rdown.retryable
    for r in (r429, r500, r404, rdown):
        assert "SECRETTOKEN" not in (r.error or "")
    assert "SECRETTOKEN" not in repr(n)


def _btc_deleveraging() -> AlertNotice:
    labels = {"asset": "BTC", "severity": "critical"}
    return AlertNotice(
        status="firing",
        rule="deleveraging_event",
        severity="critical",
        labels=labels,
        value=-30.0,
        starts_at=T0,
        ends_at=None,
        fingerprint=fingerprint("deleveraging_event", labels),
        summary="BTC deleveraging event",
    )


def _slack_service(db: Path, rx: Receiver, **settings: Any) -> AlertService:
    """An alert service delivering to ``rx`` as Slack, every notification sent at once."""
    svc = AlertService(
        AlertsSettings(
            db_path=db,
            receivers=[
                SlackReceiver(name="slack", url=SecretStr(rx.url + "/hook"), min_interval_s=0.0)
            ],
            **settings,
        ),
        registry=CollectorRegistry(),
    )
    svc.dispatcher.routes = [Route("slack", group_wait_s=0.0, group_interval_s=0.0)]
    return svc


async def test_slack_delivery_through_service_survives_429_and_500(tmp_path: Path) -> None:
    """End to end: the service delivers each notification once despite a 429 and a 500."""
    rx = Receiver(script=[(429, {"Retry-After": "0"}, "rate_limited"), (500, {}, "oops")])
    async with serve(rx):
        svc = _slack_service(tmp_path / "a.db", rx, backoff_base_s=0.01)
        notice = _btc_deleveraging()
        async with svc:
            await svc.submit([notice])
            await eventually(lambda: len(rx.accepted) == 1)
        assert len(rx.requests) == 3
        assert rx.duplicates == 0
        assert "deleveraging event" in rx.accepted[0]["json"]["text"]


async def test_webhook_body_is_signed_and_verifiable() -> None:
    """The receiver verifies the HMAC-SHA256 signature; a wrong secret fails verification."""
    rx = Receiver(hmac_secret=b"s3cret")
    async with serve(rx):
        good = WebhookNotifier(
            WebhookReceiver(
                name="wh", url=SecretStr(rx.url + "/hook"), hmac_secret=SecretStr("s3cret")
            )
        )
        bad = WebhookNotifier(
            WebhookReceiver(
                name="wh", url=SecretStr(rx.url + "/hook"), hmac_secret=SecretStr("wrong")
            )
        )
        assert (await good.notify(notification([item()]))).ok
        r = await bad.notify(notification([item()], key="k2"))
        await good.aclose()
        await bad.aclose()
    assert r.broken
    assert "401" in (r.error or "")
    assert "wrong" not in (r.error or "")
    assert rx.bad_signatures == 1
    assert rx.accepted[0]["json"]["alerts"][0]["fingerprint"] == "fp0000"


def test_signature_helpers_round_trip() -> None:
    """sign/verify agree, and a tampered body or stale timestamp is rejected."""
    import time

    ts = str(int(time.time()))
    sig = sign(b"k", ts, b"{}")
    assert verify_signature(b"k", ts, b"{}", sig)
    assert not verify_signature(b"k", ts, b"{ }", sig)
    assert not verify_signature(b"k", "1000", b"{}", sign(b"k", "1000", b"{}"))


async def test_alertmanager_gets_v2_alerts_and_resolved_with_ends_at() -> None:
    """Firing alerts carry a future endsAt; resolved ones their endsAt, re-sent afterwards."""
    rx = Receiver()
    async with serve(rx, path="/api/v2/alerts"):
        am = AlertmanagerNotifier(AlertmanagerReceiver(name="am", url=SecretStr(rx.url)))
        assert (await am.notify(notification([item(1)], key="a"))).ok
        assert (await am.notify(notification([item(1, status="resolved")], key="b"))).ok
        assert (await am.notify(notification([item(2)], key="c"))).ok
        await am.aclose()
    first, second, third = (r["json"] for r in rx.accepted)
    assert first[0]["labels"]["alertname"] == "liquidations_1h"
    assert first[0]["startsAt"].endswith("Z")
    assert first[0]["endsAt"] > first[0]["startsAt"]
    assert second[0]["endsAt"].startswith("2025-11-21")
    assert {a["annotations"]["fingerprint"] for a in third} == {"fp0001", "fp0002"}


@pytest.mark.parametrize("status", [400, 403, 410])
async def test_other_client_errors_mean_broken_configuration(status: int) -> None:
    """4xx answers other than 408/429 are treated as a misconfigured receiver."""
    async with serve(Receiver(script=[(status, {}, "nope")])) as rx:
        n = SlackNotifier(SlackReceiver(name="s", url=SecretStr(rx.url + "/hook")))
        r = await n.notify(notification([item()]))
        await n.aclose()
    assert r.broken


async def test_timeout_is_retryable() -> None:
    """A receiver that does not answer in time gives a retryable timeout."""
    gate = asyncio.Event()

    class Slow(Receiver):
        async def handle(self, request):  # type: ignore[no-untyped-def]
            await gate.wait()
            return await super().handle(request)

    async with serve(Slow()) as rx:
        n = SlackNotifier(SlackReceiver(name="s", url=SecretStr(rx.url + "/hook"), timeout_s=0.2))
        r = await n.notify(notification([item()]))
        gate.set()
        await n.aclose()
    assert r.retryable
    assert r.error == "timeout"


async def test_delivered_notifications_are_pruned_after_their_retention(tmp_path: Path) -> None:
    """Delivered outbox rows older than outbox_retention_days go; pending ones stay; a pruned
    notification is not sent again when the same alert is re-submitted."""
    rx = Receiver()
    async with serve(rx):
        svc = _slack_service(tmp_path / "a.db", rx, outbox_retention_days=0.2 / 86_400)  # 0.2 s
        notice = _btc_deleveraging()
        async with svc:
            await svc.submit([notice])
            await eventually(lambda: len(rx.accepted) == 1)
            await eventually(lambda: bool(svc.store.sync.outbox(state="delivered")))
            assert await svc.prune_outbox() == 0  # younger than the retention
            await asyncio.sleep(0.3)
            assert await svc.prune_outbox() == 1
            assert svc.store.sync.outbox() == []
            assert await svc.submit([notice]) == 0  # same state: nothing new to send
            await asyncio.sleep(0.2)
        assert len(rx.accepted) == 1


def test_retry_after_is_read_defaulted_and_bounded() -> None:
    """Seconds or an HTTP date; unreadable means the default; absurd values the cap."""
    now = 1_763_700_000.0
    assert retry_wait_s("7", now) == 7.0
    assert retry_wait_s(formatdate(now + 30, usegmt=True), now) == 30.0
    assert retry_wait_s(None, now) == RETRY_AFTER_DEFAULT_S
    assert retry_wait_s("soon", now) == RETRY_AFTER_DEFAULT_S
    assert retry_wait_s("1e12", now) == RETRY_AFTER_CAP_S
    assert retry_wait_s("inf", now) == RETRY_AFTER_CAP_S
