"""The default pack replayed over synthetic episode streams: what fires, when, how severe."""

from __future__ import annotations

from collections.abc import Iterator

from alerts.evaluator import AlertEvaluator
from alerts.model import AlertNotice
from alerts.rules import load_pack
from streams.signals import Signal

from .scenarios import MIN, T0, calm_week, november_cascade, usdc_systemic, usde_binance_only


def replay(stream: Iterator[tuple[int, list[Signal]]]) -> list[AlertNotice]:
    ev = AlertEvaluator(load_pack("november-2025"))
    out: list[AlertNotice] = []
    for t, signals in stream:
        out += ev.on_tick(t)
        out += ev.on_signals(signals)
    return out


def key(n: AlertNotice) -> str:
    tier = "+extreme" if n.labels.get("tier") == "extreme" else ""
    return f"{n.rule}:{n.severity}{tier}"


def firsts(notices: list[AlertNotice]) -> dict[str, int]:
    """Minute of the first firing of each rule:severity."""
    out: dict[str, int] = {}
    for n in notices:
        if n.status == "firing":
            out.setdefault(key(n), (n.starts_at - T0) // MIN)
    return out


def test_november_cascade_fires_the_ladder_in_order() -> None:
    """The cascade escalates watch -> warning -> critical, composite before the low (minute 240)."""
    fired = firsts(replay(november_cascade()))
    # minutes, hand-checked against the stream: e.g. liquidations_1h critical needs
    # 30M + 970M * (m - 120) / 60 >= 750M -> m >= 164.5; price_drawdown critical needs
    # -25 - 11 * (m - 120) / 120 <= -30 -> m >= 174.5, plus `for: 5m` -> 180.
    assert fired == {
        "oi_drawdown:info": 5,
        "oi_drawdown:warning": 5,
        "price_drawdown:info": 5,
        "price_drawdown:warning": 5,
        "deleveraging_event:critical": 121,
        "liquidation_long_share:info": 121,
        "liquidation_long_share:warning": 121,
        "liquidation_long_share:critical": 121,
        "liquidation_burst:info": 131,
        "liquidations_1h:warning": 134,
        "liquidations_24h:info": 134,
        "price_fast_move_10m:info": 150,
        "price_fast_move_10m:warning": 150,
        "liquidations_24h:warning": 156,
        "liquidations_1h:critical": 165,
        "oi_drawdown:critical": 170,
        "price_drawdown:critical": 180,
        "liquidation_burst:warning": 180,
        "liquidations_24h:critical": 223,
    }
    assert fired["deleveraging_event:critical"] < 240
    assert not any(k.startswith(("stablecoin", "feed", "market_data")) for k in fired)
    assert not any(k.endswith("+extreme") for k in fired)


def test_november_composite_is_for_btc_and_resolves_after_the_burst() -> None:
    """The deleveraging event is labelled asset=BTC and resolves once the burst calms."""
    notices = [n for n in replay(november_cascade()) if n.rule == "deleveraging_event"]
    assert [(n.status, n.labels["asset"]) for n in notices] == [
        ("firing", "BTC"),
        ("resolved", "BTC"),
    ]
    assert notices[1].ends_at is not None
    assert (notices[1].ends_at - T0) // MIN > 240
    assert "BTC deleveraging event" in notices[0].summary


def test_calm_week_fires_nothing_at_warning_or_above() -> None:
    """Two days of ordinary noise, with one venue glitching briefly, stay below warning."""
    notices = replay(calm_week())
    assert [key(n) for n in notices if n.severity != "info"] == []


def test_usde_single_venue_dislocation_is_not_a_systemic_depeg() -> None:
    """USDe far off on one venue raises the dislocation alert but no systemic depeg."""
    fired = {k: v for k, v in firsts(replay(usde_binance_only())).items() if "stablecoin" in k}
    assert fired == {
        "stablecoin_venue_dislocation:info": 21,
        "stablecoin_venue_dislocation:warning": 25,
    }


def test_usdc_across_venues_is_a_systemic_extreme_depeg() -> None:
    """USDC 1,300 bps off at a quorum of venues escalates to the extreme systemic alert."""
    fired = firsts(replay(usdc_systemic()))
    assert fired["stablecoin_depeg:critical+extreme"] == 31
    assert fired["stablecoin_depeg:critical"] == 32
    assert fired["stablecoin_depeg:warning"] == 40
    assert fired["stablecoin_depeg:info"] == 45
    assert "stablecoin_venue_dislocation:warning" not in fired
