"""Acceptance: what the default rule pack (november-2025) fires on each episode scenario."""

from __future__ import annotations

from .episodes import EPISODES, Episodes
from .helpers import firing, ns


def test_november_fires_the_btc_deleveraging_critical_before_the_low(episodes: Episodes) -> None:
    """november-2025: deleveraging_event (critical) for BTC fires before the 21 Nov low."""
    s = episodes["november-2025"]
    hits = firing(s, "deleveraging_event", asset="BTC")
    assert hits
    assert {a["severity"] for a in hits} == {"critical"}
    low = ns(s["worst"])
    assert s["worst"] == "2025-11-21 10:40:00"
    assert min(a["starts_at"] for a in hits) < low
    # the episode's ladder around it: 24 h liquidations critical, OI and price far off their highs
    assert firing(s, "liquidations_24h", asset="all")
    assert any(a["severity"] == "critical" for a in firing(s, "oi_drawdown", asset="BTC"))
    assert any(a["severity"] == "critical" for a in firing(s, "price_drawdown", asset="BTC"))
    assert not firing(s, "stablecoin_depeg")


def test_october_fires_extreme_liquidations_and_a_usde_dislocation_but_no_depeg(
    episodes: Episodes,
) -> None:
    """october-10-2025: extreme-tier liquidation alerts, USDe venue dislocation, no USDe depeg."""
    s = episodes["october-10-2025"]
    extreme = [a for a in firing(s, tier="extreme") if a["rule"].startswith("liquidations_")]
    assert {a["rule"] for a in extreme} >= {"liquidations_1h", "liquidations_24h"}
    assert all(a["severity"] == "critical" for a in extreme)
    dislocation = firing(s, "stablecoin_venue_dislocation", coin="USDE")
    assert dislocation
    assert {a["labels"]["venue"] for a in dislocation} == {"binance-spot"}
    assert "warning" in {a["severity"] for a in dislocation}
    assert not firing(s, "stablecoin_depeg", coin="USDE")
    assert not firing(s, "stablecoin_depeg")


def test_march_fires_a_systemic_usdc_depeg(episodes: Episodes) -> None:
    """march-2023-usdc: the cross-venue USDC depeg fires up to critical (and the extreme tier)."""
    s = episodes["march-2023-usdc"]
    usdc = firing(s, "stablecoin_depeg", coin="USDC")
    assert {a["severity"] for a in usdc} >= {"warning", "critical"}
    assert any(a["labels"].get("tier") == "extreme" for a in usdc)
    assert min(a["starts_at"] for a in usdc) < ns(s["worst"])
    assert not firing(s, "stablecoin_depeg", coin="USDT")
    assert not firing(s, "deleveraging_event")


def test_august_fires_warnings_but_not_the_november_critical(episodes: Episodes) -> None:
    """august-2024: several warnings, no deleveraging_event."""
    s = episodes["august-2024"]
    warnings = {a["rule"] for a in firing(s) if a["severity"] == "warning"}
    assert len(warnings) >= 3
    assert {"liquidations_24h", "oi_drop_24h"} <= warnings
    assert not firing(s, "deleveraging_event")
    assert not firing(s, tier="extreme")


def test_calm_week_fires_nothing_at_warning_or_above(episodes: Episodes) -> None:
    """calm-week: a week of ordinary noise and one venue glitch stays below warning."""
    s = episodes["calm-week"]
    assert s["counts"]["warning"] == 0
    assert s["counts"]["critical"] == 0
    assert {a["severity"] for a in s["alerts"]} <= {"info"}
    assert firing(s, "feed_stale", venue="okx-swap")  # the glitch is visible, as info


def test_every_episode_parses_without_a_skipped_frame(episodes: Episodes) -> None:
    """Every frame the simulators render is parsed by the real venue parsers."""
    for name in EPISODES:
        s = episodes[name]
        assert s["skipped"] == {}, name
        assert s["frames"] > s["input_events"] * 0.9, name
