"""Feed health: ages from arrivals, up/down from statuses, gaps and reconnects."""

from __future__ import annotations

from types import SimpleNamespace

from streams.processors.feed_health import FeedHealthProcessor


def test_age_per_venue_and_channel(mk: SimpleNamespace) -> None:
    """Age is event time since the newest event of that venue and channel."""
    p = FeedHealthProcessor()
    p.on_event(mk.trade(mk.T0, 100.0, venue="okx-swap"))
    p.on_event(mk.trade(mk.T0 + 2 * mk.S, 100.0, venue="okx-swap"))
    p.on_event(mk.oi(mk.T0, 1.0, venue="okx-swap"))
    v = mk.latest(p.on_tick(mk.T0 + 10 * mk.S))
    assert v[mk.key("feed_age_seconds", venue="okx-swap", channel="trades")] == 8.0
    assert v[mk.key("feed_age_seconds", venue="okx-swap", channel="open_interest")] == 10.0


def test_age_grace_discounts_delivery_jitter_on_a_fast_clock(mk: SimpleNamespace) -> None:
    """On a scenario clock the daemon sets a grace (its wall floor x speed): ages count beyond
    it, never below zero."""
    p = FeedHealthProcessor()
    p.age_grace_ns = 5 * mk.S
    p.on_event(mk.trade(mk.T0, 100.0, venue="okx-swap"))
    p.on_event(mk.oi(mk.T0 + 8 * mk.S, 1.0, venue="okx-swap"))
    v = mk.latest(p.on_tick(mk.T0 + 10 * mk.S))
    assert v[mk.key("feed_age_seconds", venue="okx-swap", channel="trades")] == 5.0
    assert v[mk.key("feed_age_seconds", venue="okx-swap", channel="open_interest")] == 0.0


def test_gaps_and_reconnects(mk: SimpleNamespace) -> None:
    """connected -> disconnected -> connected -> stale: 2 gaps, 1 reconnect, up 0."""
    p = FeedHealthProcessor()
    seq = ["connecting", "connected", "disconnected", "connecting", "connected", "stale"]
    for i, state in enumerate(seq):
        p.on_event(mk.status(mk.T0 + i * mk.S, "bybit-linear", "connection", state))
    v = mk.latest(p.on_tick(mk.T0 + 10 * mk.S))
    assert v[mk.key("feed_gaps_total", venue="bybit-linear")] == 2.0
    assert v[mk.key("feed_reconnects_total", venue="bybit-linear")] == 1.0
    assert v[mk.key("feed_up", venue="bybit-linear", channel="connection")] == 0.0


def test_repeated_down_status_is_one_gap(mk: SimpleNamespace) -> None:
    """stale then silent without recovering in between counts one gap."""
    p = FeedHealthProcessor()
    for i, state in enumerate(["subscribed", "stale", "silent"]):
        p.on_event(mk.status(mk.T0 + i, "kraken", "quotes", state))
    v = mk.latest(p.on_tick(mk.T0 + mk.S))
    assert v[mk.key("feed_gaps_total", venue="kraken")] == 1.0
    assert v[mk.key("feed_reconnects_total", venue="kraken")] == 0.0
