"""A delivering process for the crash test: submit a burst of alerts, deliver them forever.

Usage: python burst_worker.py DB_PATH WEBHOOK_URL N_ALERTS
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from pydantic import SecretStr

from alerts.model import AlertNotice
from alerts.rules import RuleSet, fingerprint
from alerts.service import AlertService
from alerts.settings import AlertsSettings, RouteSettings, WebhookReceiver

T0 = 1_763_700_000 * 10**9


def burst(n: int) -> list[AlertNotice]:
    out = []
    for i in range(n):
        labels = {"asset": f"COIN{i:03d}", "severity": "warning"}
        out.append(
            AlertNotice(
                status="firing",
                rule="liquidation_burst",
                severity="warning",
                labels=labels,
                value=float(i),
                starts_at=T0 + i,
                ends_at=None,
                fingerprint=fingerprint("liquidation_burst", labels),
                summary=f"burst {i}",
            )
        )
    return out


async def main(db: str, url: str, n: int) -> None:
    settings = AlertsSettings(
        db_path=Path(db),
        pack=None,
        receivers=[WebhookReceiver(name="wh", url=SecretStr(url), hmac_secret=SecretStr("k"))],
        routes=[
            RouteSettings(
                receiver="wh",
                group_by=["..."],
                group_wait_s=0.0,
                group_interval_s=0.0,
                repeat_interval_s=1e6,
            )
        ],
        backoff_base_s=0.05,
    )
    async with AlertService(settings, ruleset=RuleSet(())) as svc:
        await svc.submit(burst(n))
        print("submitted", flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
