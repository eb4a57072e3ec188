"""Fake receivers on 127.0.0.1: Slack webhook, generic webhook, Alertmanager API."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from alerts.model import AlertNotice
from alerts.notify.webhook import verify_signature
from alerts.rules import fingerprint


@dataclass
class Receiver:
    """Records requests; answers from a script of (status, headers, body), then 200 ok."""

    script: list[tuple[int, dict[str, str], str]] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    accepted: list[dict[str, Any]] = field(default_factory=list)
    seen_keys: set[str] = field(default_factory=set)
    duplicates: int = 0
    hmac_secret: bytes | None = None
    bad_signatures: int = 0
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        entry = {"path": request.path, "headers": dict(request.headers), "body": body}
        self.requests.append(entry)
        if self.hmac_secret is not None and not verify_signature(
            self.hmac_secret,
            request.headers.get("X-Riskmon-Timestamp", ""),
            body,
            request.headers.get("X-Riskmon-Signature", ""),
        ):
            self.bad_signatures += 1
            return web.Response(status=401, text="bad signature")
        if self.script:
            status, headers, text = self.script.pop(0)
            if status != 200:
                return web.Response(status=status, headers=headers, text=text)
        key = request.headers.get("Idempotency-Key", "")
        if key in self.seen_keys:
            self.duplicates += 1
        else:
            self.seen_keys.add(key)
            self.accepted.append({**entry, "json": json.loads(body)})
        return web.Response(text="ok")


@asynccontextmanager
async def serve(receiver: Receiver, path: str = "/hook") -> AsyncIterator[Receiver]:
    """Run the receiver on an ephemeral 127.0.0.1 port; set ``receiver.url``."""
    app = web.Application()
    app.router.add_post(path, receiver.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server = site._server
    assert server is not None
    port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    receiver.url = f"http://127.0.0.1:{port}"
    try:
        yield receiver
    finally:
        await runner.cleanup()


def firing(
    rule: str, severity: Any = "critical", asset: str = "BTC", *, at: int, summary: str
) -> AlertNotice:
    """A firing notice of ``rule`` for ``asset`` (labels asset + severity), starting ``at``."""
    labels = {"asset": asset, "severity": severity}
    return AlertNotice(
        status="firing",
        rule=rule,
        severity=severity,
        labels=labels,
        value=1.0,
        starts_at=at,
        ends_at=None,
        fingerprint=fingerprint(rule, labels),
        summary=summary,
    )
