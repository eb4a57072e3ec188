"""Peg quorums: the venues quoting each watched stablecoin, the gauge and the start-up warning."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from structlog.testing import capture_logs

from monitor.daemon import Daemon
from monitor.peg_quorum import PEG_QUORUM, peg_quorum_venues
from monitor.settings import MetricsSettings, Settings, VenueSettings
from monitor.simulator.fill import KeepAlive
from monitor.venues import get_venue
from monitor.venues.base import Stream
from streams.events import Quote
from streams.processors.peg import DEFAULT_PEG_COINS, PegProcessor
from tests.helpers import eventually, venue_run


def _settings(tmp_path: Path, **kw: object) -> Settings:
    return Settings(
        state_dir=tmp_path / "state",
        store=tmp_path / "riskmon.db",
        metrics=MetricsSettings(enabled=False),
        **kw,  # type: ignore[arg-type]
    )


def test_default_config_quotes_every_watched_stablecoin_on_three_venues(tmp_path: Path) -> None:
    """Every watched coin has a quorum by default; converted USDT pairs count (FDUSD's third
    venue is Gate, FDUSD_USDT; Sky's USDS has two USD books, Coinbase and Kraken, and two USDT
    books, OKX USDS-USDT and Gate USDS_USDT)."""
    venues = peg_quorum_venues(_settings(tmp_path))
    assert set(venues) == set(DEFAULT_PEG_COINS)
    for coin in DEFAULT_PEG_COINS:
        assert len(venues[coin]) >= PEG_QUORUM, (coin, venues[coin])
    assert "okx-spot" in venues["USDC"]  # USDC-USDT, through USDT's USD price
    assert venues["USDT"] == ["bitstamp", "coinbase", "kraken", "okx-spot"]  # OKX USDT-USD
    assert venues["USDE"] == ["binance-spot", "bybit-spot", "okx-spot"]
    assert venues["FDUSD"] == ["binance-spot", "bybit-spot", "gate-spot"]
    assert venues["USDS"] == ["coinbase", "gate-spot", "kraken", "okx-spot"]


def test_default_config_warns_about_no_coin(tmp_path: Path) -> None:
    """With every venue's defaults the gauge is at least three for each coin and no
    ``peg.quorum_short`` is logged (USDS was the last one short)."""
    registry = CollectorRegistry()
    with capture_logs() as logs:
        Daemon(_settings(tmp_path), registry=registry)
    gauge = {
        coin: registry.get_sample_value("riskmon_peg_quorum_venues", {"coin": coin})
        for coin in DEFAULT_PEG_COINS
    }
    assert gauge["USDS"] == 4.0
    assert all(v is not None and v >= PEG_QUORUM for v in gauge.values()), gauge
    assert [e for e in logs if e["event"] == "peg.quorum_short"] == []


def test_daemon_sets_the_gauge_and_warns_for_coins_below_the_quorum(tmp_path: Path) -> None:
    """Only Kraken and OKX spot enabled: USDC has 2 venues -> gauge 2 and a warning; USDT 1."""
    settings = _settings(
        tmp_path,
        venues={
            "kraken": VenueSettings(symbols=["USDT/USD", "USDC/USD"]),
            "okx-spot": VenueSettings(symbols=["USDC-USDT"]),
            "coinbase": VenueSettings(enabled=False),
            "binance-usdm": VenueSettings(symbols=["BTCUSDT"]),  # perps never count
        },
    )
    registry = CollectorRegistry()
    with capture_logs() as logs:
        Daemon(settings, registry=registry)
    gauge = {
        coin: registry.get_sample_value("riskmon_peg_quorum_venues", {"coin": coin})
        for coin in DEFAULT_PEG_COINS
    }
    assert gauge["USDC"] == 2.0
    assert gauge["USDT"] == 1.0
    assert gauge["FDUSD"] == 0.0
    short = {e["coin"]: e for e in logs if e["event"] == "peg.quorum_short"}
    assert set(short) == set(DEFAULT_PEG_COINS)  # every coin is short in this config
    assert short["USDC"]["venues"] == ["kraken", "okx-spot"]
    assert short["USDC"]["needed"] == PEG_QUORUM
    assert all(e["log_level"] == "warning" for e in short.values())


def test_no_warning_for_a_coin_with_a_quorum(tmp_path: Path) -> None:
    """Three USD books of USDT: no warning for USDT, gauge 3."""
    settings = _settings(
        tmp_path,
        venues={
            "kraken": VenueSettings(symbols=["USDT/USD"]),
            "coinbase": VenueSettings(symbols=["USDT-USD"]),
            "bitstamp": VenueSettings(symbols=["usdtusd"]),
        },
    )
    registry = CollectorRegistry()
    with capture_logs() as logs:
        Daemon(settings, registry=registry)
    assert registry.get_sample_value("riskmon_peg_quorum_venues", {"coin": "USDT"}) == 3.0
    assert "USDT" not in {e["coin"] for e in logs if e["event"] == "peg.quorum_short"}


@pytest.mark.parametrize(
    ("venue", "symbol"), [("okx-spot", "USDS-USDT"), ("gate-spot", "USDS_USDT")]
)
async def test_simulator_serves_usds_by_default_and_the_peg_processor_converts_it(
    venue: str, symbol: str
) -> None:
    """The simulator serves Sky's USDS book because it is a default symbol of the venue (what
    ``riskmon simulate`` does for every default stream); the real feed delivers the quote as
    ``USDS-USDT-SPOT``, and the peg processor prices it through USDT's USD reference and says
    so (``peg_via_rate``)."""
    assert symbol in get_venue(venue).default_symbols
    async with venue_run(venue, [Stream("quotes", symbol)]) as run:
        keepalive = KeepAlive(run.sim, run.clock)
        assert (venue, symbol, "quotes") in keepalive.streams
        assert keepalive.serve(run.clock.now_ns()) > 0
        await eventually(lambda: bool(run.of_type(Quote)), what=f"{venue} {symbol} quote")
        (quote,) = run.of_type(Quote)
    assert (quote.venue, quote.symbol, quote.asset) == (venue, symbol, "USDS")
    assert quote.instrument == "USDS-USDT-SPOT"
    peg = PegProcessor()
    usdt = Quote(
        venue="kraken",
        symbol="USDT/USD",
        instrument="USDT-USD-SPOT",
        asset="USDT",
        ts_event=quote.ts_event,
        ts_recv=quote.ts_event,
        bid=1.0019,
        ask=1.0021,  # USDT at +20 bps
    )
    assert peg.on_event(usdt) == []
    assert peg.on_event(quote) == []
    out = {(s.name, tuple(sorted(s.labels.items()))): s.value for s in peg.on_tick(quote.ts_event)}
    labels = (("coin", "USDS"), ("venue", venue))
    mid = (quote.bid + quote.ask) / 2
    assert out[("peg_via_rate", (*labels, ("via", "USDT")))] == pytest.approx(1.002)
    assert out[("peg_price", labels)] == pytest.approx(mid * 1.002)
    assert out[("peg_deviation_bps", labels)] == pytest.approx((mid * 1.002 - 1.0) * 10_000)
