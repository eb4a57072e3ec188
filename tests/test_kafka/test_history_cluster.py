"""The venues' REST history on a real broker: ``riskmon run`` with the Kafka bus loads the
venue's history at start and publishes it, the worker seeds its processors with it, and the
alerter's open-interest and price drawdowns are measured against the history's 60-day peak and
90-day high, not against the first live values (as a first start of the single process)."""

from __future__ import annotations

import time
from pathlib import Path

from monitor.kafka.local_broker import LocalBroker
from monitor.simulator.server import ExchangeSimulator
from monitor.simulator.venues.binance_usdm import BinanceUsdmSim
from streams.units import NS_PER_HOUR
from tests.helpers import btc_funding, btc_open_interest, free_port
from tests.test_kafka.conftest import Cluster, wait_until
from tests.test_kafka.test_endpoints import samples

V = "binance-usdm"
BASE_OI, PEAK_OI = 10e9, 20e9
BASE_PX, HIGH_PX, LIVE_PX = 100_000.0, 150_000.0, 120_000.0
#: the polled open interest (BASE_OI / BASE_PX coins) valued at the live mark, against the peak
OI_DD = BASE_OI / BASE_PX * LIVE_PX / PEAK_OI - 1
PRICE_DD = LIVE_PX / HIGH_PX - 1


async def test_feeds_publish_history_and_workers_seed_it(
    tmp_path: Path, broker: LocalBroker
) -> None:
    sim = BinanceUsdmSim()
    hour = time.time_ns() // NS_PER_HOUR * NS_PER_HOUR
    for h in range(-48, 0):  # the venue's REST history: two days, a peak and a high in it
        px = HIGH_PX if h == -5 else BASE_PX
        sim.encode(btc_funding(hour + h * NS_PER_HOUR, px))
        sim.encode(btc_open_interest(hour + h * NS_PER_HOUR, PEAK_OI if h == -10 else BASE_OI, px))
    cluster = Cluster(tmp_path, broker)
    try:
        async with ExchangeSimulator([sim]) as server:
            port = free_port()
            cluster.write(
                simulator=server.url,
                venues={V: {"symbols": ["BTCUSDT"], "channels": ["funding", "open_interest"]}},
            )
            run = cluster.start("run")
            cluster.start("worker")
            metrics = {"RISKMON_METRICS__ENABLED": "true", "RISKMON_METRICS__PORT": str(port)}
            alerter = cluster.start("alerter", env=metrics)
            await wait_until(
                lambda: bool(cluster.events(run, "kafka.history_published")), 60, "history sent"
            )
            sent = cluster.events(run, "kafka.history_published")[0]
            assert sent["venue"] == V
            assert sent["assets"] == 1
            assert sent["points"] > 0

            def drawdowns() -> tuple[float | None, float | None]:
                s = samples(port)
                return (
                    s.get('riskmon_oi_drawdown_ratio{asset="BTC"}'),
                    s.get('riskmon_price_drawdown_ratio{asset="BTC"}'),
                )

            def live() -> bool:
                server.publish(btc_funding(time.time_ns(), LIVE_PX))  # a live mark, every poll
                oi, px = drawdowns()
                return (
                    oi is not None
                    and px is not None
                    and round(oi, 6) == round(OI_DD, 6)
                    and round(px, 6) == round(PRICE_DD, 6)
                )

            await wait_until(live, 90, "drawdowns against the history's peak and high")
            assert "Traceback" not in cluster.log_of(alerter)
    finally:
        cluster.stop_all()
