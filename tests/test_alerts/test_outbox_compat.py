"""Outbox rows written before the one alert shape (AlertItem payloads) still deliver."""

from __future__ import annotations

from pathlib import Path

from prometheus_client import CollectorRegistry

from alerts.deliver import Deliverer
from alerts.metrics import AlertMetrics
from alerts.model import AlertNotice, encode_alert
from alerts.store import AsyncStore, Store

from .conftest import FakeClock, RecordingNotifier

# encode_notification(...) of the code before this change (AlertItem with annotations after labels)
OLD_PAYLOAD = (
    '{"receiver":"rec","group_key":"0:rec:alertname=liquidations_1h",'
    '"group_labels":{"alertname":"liquidations_1h"},"status":"firing","alerts":[{"status":'
    '"firing","rule":"liquidations_1h","severity":"critical","labels":{"asset":"BTC",'
    '"severity":"critical"},"annotations":{"runbook":"cut risk","summary":'
    '"Liquidations 1.2B USD"},"value":1200000000.0,"starts_at":1763700000000000000,'
    '"ends_at":null,"fingerprint":"fp0001","summary":"Liquidations 1.2B USD"}],'
    '"idempotency_key":"k-old","seq":1,"created_ns":1763700000000000000}'
)


async def test_a_row_written_by_the_old_code_is_delivered_with_its_annotations(
    tmp_path: Path,
) -> None:
    db = tmp_path / "alerts.db"
    clock = FakeClock()
    old = Store.open(db)
    old.enqueue_notification(
        "rec", "0:rec:alertname=liquidations_1h", "k-old", 0, OLD_PAYLOAD,
        frozenset({"fp0001"}), 1, clock.t,
    )  # fmt: skip
    old.close()

    astore = AsyncStore(db)
    await astore.open()
    try:
        rec = RecordingNotifier()
        dl = Deliverer(rec, astore, clock, AlertMetrics(CollectorRegistry()))
        assert await dl.deliver_one()
        rows = await astore.call(lambda: astore.sync.outbox("rec"))
    finally:
        await astore.close()

    [sent] = rec.sent
    assert sent.idempotency_key == "k-old"
    [alert] = sent.alerts
    assert isinstance(alert, AlertNotice)
    assert alert.annotations == {"runbook": "cut risk", "summary": "Liquidations 1.2B USD"}
    assert (alert.status, alert.severity, alert.value) == ("firing", "critical", 1.2e9)
    assert [r.state for r in rows] == ["delivered"]
    # the contract line never carries the annotations
    assert b"annotations" not in encode_alert(alert)
    assert encode_alert(alert).startswith(b'{"status":"firing","rule":"liquidations_1h",')
