"""Peg quorums: the venues quoting each watched stablecoin, the gauge and the start-up warning."""

from __future__ import annotations

from pathlib import Path

from prometheus_client import CollectorRegistry
from structlog.testing import capture_logs

from monitor.daemon import Daemon
from monitor.peg_quorum import PEG_QUORUM, peg_quorum_venues
from monitor.settings import MetricsSettings, Settings, VenueSettings
from streams.processors.peg import DEFAULT_PEG_COINS


def _settings(tmp_path: Path, **kw: object) -> Settings:
    return Settings(
        state_dir=tmp_path / "state",
        store=tmp_path / "riskmon.db",
        metrics=MetricsSettings(enabled=False),
        **kw,  # type: ignore[arg-type]
    )


def test_default_config_quotes_the_major_stablecoins_on_three_venues(tmp_path: Path) -> None:
    """USDT, USDC, DAI, PYUSD, USDe and FDUSD have a quorum by default; converted USDT pairs
    count (FDUSD's third venue is Gate, FDUSD_USDT).

    USDS is listed on only two of the venues the project speaks (see the spot venues'
    SOURCES.md), so it stays short and is reported."""
    venues = peg_quorum_venues(_settings(tmp_path))
    assert set(venues) == set(DEFAULT_PEG_COINS)
    for coin in ("USDT", "USDC", "DAI", "PYUSD", "USDE", "FDUSD"):
        assert len(venues[coin]) >= PEG_QUORUM, (coin, venues[coin])
    assert "okx-spot" in venues["USDC"]  # USDC-USDT, through USDT's USD price
    assert venues["USDT"] == ["bitstamp", "coinbase", "kraken", "okx-spot"]  # OKX USDT-USD
    assert venues["USDE"] == ["binance-spot", "bybit-spot", "okx-spot"]
    assert venues["FDUSD"] == ["binance-spot", "bybit-spot", "gate-spot"]
    assert venues["USDS"] == ["coinbase", "kraken"]  # USDS-USD, USDS/USD: reported short


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
