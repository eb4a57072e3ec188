"""Open interest: totals per venue, staleness, no false crash on a lost venue, changes, drawdown."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from streams.processors.open_interest import OpenInterestProcessor


def _minutes(
    mk: SimpleNamespace,
    p: OpenInterestProcessor,
    start: int,
    stop: int,
    values: dict[str, float],
) -> dict[str, float]:
    """For each minute k in [start, stop): one update per venue at k:00, a tick at k:30."""
    seen: dict[str, float] = {}
    for k in range(start, stop):
        for venue, usd in values.items():
            p.on_event(mk.oi(mk.T0 + k * mk.M, usd, venue=venue))
        seen.update(mk.latest(p.on_tick(mk.T0 + k * mk.M + 30 * mk.S)))
    return seen


def test_totals_per_venue_and_all(mk: SimpleNamespace) -> None:
    """Two venues' instruments add up per venue and across venues; ETH is separate."""
    p = OpenInterestProcessor()
    p.on_event(mk.oi(mk.T0, 100.0, venue="binance-usdm"))
    p.on_event(mk.oi(mk.T0, 50.0, venue="okx-swap"))
    p.on_event(mk.oi(mk.T0 + 1, 7.0, asset="ETH", venue="okx-swap"))
    v = mk.latest(p.on_tick(mk.T0 + mk.S))
    k = mk.key
    assert v[k("oi_usd", asset="BTC", venue="binance-usdm")] == 100.0
    assert v[k("oi_usd", asset="BTC", venue="okx-swap")] == 50.0
    assert v[k("oi_usd", asset="BTC", venue="all")] == 150.0
    assert v[k("oi_usd", asset="ETH", venue="all")] == 7.0
    assert v[k("oi_complete", asset="BTC")] == 1.0
    assert v[k("oi_drawdown_pct", asset="BTC")] == 0.0
    assert k("oi_change_pct", asset="BTC", window="1h") not in v  # no history an hour back


def test_lost_venue_is_held_then_excluded_without_a_false_crash(mk: SimpleNamespace) -> None:
    """okx goes silent after minute 119: held 5 min, then excluded; change and drawdown stay 0.

    minute (tick at :30) 0 ........ 119 | 120 .. 122  | 123 (age 4.5) | 124 (age 5.5) ...
    binance              600 600 .. 600 | 600         | 600           | 600
    okx                  400 400 .. 400 | (held 400)  | (held 400)    | excluded
    oi_usd{all}          1000           | 1000        | 1000          | 600
    oi_change_pct{1h} and oi_drawdown_pct stay 0: both compare binance with binance only.
    """
    p = OpenInterestProcessor()
    both = {"binance-usdm": 600.0, "okx-swap": 400.0}
    v = _minutes(mk, p, 0, 120, both)
    k = mk.key
    assert v[k("oi_change_pct", asset="BTC", window="1h")] == 0.0
    _minutes(mk, p, 120, 124, {"binance-usdm": 600.0})
    assert p.value("oi_usd", "BTC", "all") == 1000.0
    assert p.value("oi_complete", "BTC") == 1.0
    after = _minutes(mk, p, 124, 130, {"binance-usdm": 600.0})
    assert after[k("oi_usd", asset="BTC", venue="all")] == 600.0
    assert after[k("oi_complete", asset="BTC")] == 0.0
    assert after[k("oi_venue_included", asset="BTC", venue="okx-swap")] == 0.0
    assert p.value("oi_change_pct", "BTC", "1h") == 0.0
    assert p.value("oi_drawdown_pct", "BTC") == 0.0


def test_real_drop_across_venues_shows_in_change_and_drawdown(mk: SimpleNamespace) -> None:
    """Both venues fall 30% after two hours: 1h change -30%, drawdown -30%."""
    p = OpenInterestProcessor()
    _minutes(mk, p, 0, 120, {"binance-usdm": 600.0, "okx-swap": 400.0})
    _minutes(mk, p, 120, 125, {"binance-usdm": 420.0, "okx-swap": 280.0})
    assert p.value("oi_usd", "BTC", "all") == 700.0
    assert p.value("oi_change_pct", "BTC", "1h") == pytest.approx(-30.0)
    assert p.value("oi_drawdown_pct", "BTC") == pytest.approx(-30.0)


def test_drawdown_from_a_backfilled_60_day_peak(mk: SimpleNamespace) -> None:
    """A seeded peak of 1000 ten days ago against 650 now reads -35%; a 70-day-old one is out."""
    p = OpenInterestProcessor()
    p.seed_history("BTC", "binance-usdm", [(mk.T0 - 70 * 24 * mk.H, 5000.0)])
    p.seed_history(
        "BTC", "binance-usdm", [(mk.T0 - 10 * 24 * mk.H, 1000.0), (mk.T0 - 5 * 24 * mk.H, 800.0)]
    )
    p.on_event(mk.oi(mk.T0, 650.0))
    v = mk.latest(p.on_tick(mk.T0 + mk.S))
    assert v[mk.key("oi_drawdown_pct", asset="BTC")] == pytest.approx(-35.0)


def test_drawdown_covers_the_venues_with_history_after_a_first_start(
    mk: SimpleNamespace,
) -> None:
    """binance has 30 days of hourly backfill (peak 1000 twenty days ago), okx (no OI history
    published) only its live value: the drawdown is binance's -35%, not 0% from a peak of the
    few hours both share; the coverage says it covers 650 of 1150. Once okx has as long a
    history, it joins the drawdown."""
    p = OpenInterestProcessor()
    p.seed_history(
        "BTC",
        "binance-usdm",
        [(mk.T0 - h * mk.H, 1000.0 if h == 20 * 24 else 800.0) for h in range(1, 30 * 24)],
    )
    p.on_event(mk.oi(mk.T0, 650.0))
    p.on_event(mk.oi(mk.T0, 500.0, venue="okx-swap"))
    v = mk.latest(p.on_tick(mk.T0 + mk.S))
    k = mk.key
    assert v[k("oi_usd", asset="BTC", venue="all")] == 1150.0
    assert v[k("oi_drawdown_pct", asset="BTC")] == pytest.approx(-35.0)
    assert v[k("oi_drawdown_coverage", asset="BTC")] == pytest.approx(650.0 / 1150.0)

    q = OpenInterestProcessor()  # both venues with the same history: both are covered
    for venue, peak in (("binance-usdm", 1000.0), ("okx-swap", 700.0)):
        q.seed_history(
            "BTC",
            venue,
            [(mk.T0 - h * mk.H, peak if h == 20 * 24 else 500.0) for h in range(1, 30 * 24)],
        )
    q.on_event(mk.oi(mk.T0, 650.0))
    q.on_event(mk.oi(mk.T0, 455.0, venue="okx-swap"))
    w = mk.latest(q.on_tick(mk.T0 + mk.S))
    assert w[k("oi_drawdown_pct", asset="BTC")] == pytest.approx(-35.0)  # 1105 vs 1700
    assert w[k("oi_drawdown_coverage", asset="BTC")] == 1.0


def test_backfill_that_does_not_join_the_live_values_is_dropped(mk: SimpleNamespace) -> None:
    """A venue's REST history counting both sides (twice the live one-sided figure) would read
    as a -50% crash: its first live value does not continue it, so it is dropped and counted;
    a history that does continue (ratio 0.9) is kept."""
    p = OpenInterestProcessor()
    hours = range(1, 10 * 24)
    p.seed_history("BTC", "binance-usdm", [(mk.T0 - h * mk.H, 1000.0) for h in hours])
    p.seed_history("BTC", "bybit-linear", [(mk.T0 - h * mk.H, 1200.0) for h in hours])
    p.on_event(mk.oi(mk.T0, 900.0))
    p.on_event(mk.oi(mk.T0, 600.0, venue="bybit-linear"))
    v = mk.latest(p.on_tick(mk.T0 + mk.S))
    k = mk.key
    assert p.rejected_backfills == [("BTC", "bybit-linear", 0.5)]
    assert v[k("oi_drawdown_pct", asset="BTC")] == pytest.approx(-10.0)  # binance: 900 vs 1000
    assert v[k("oi_drawdown_coverage", asset="BTC")] == pytest.approx(900.0 / 1500.0)


def test_backfilled_history_gives_the_24h_change(mk: SimpleNamespace) -> None:
    """A seeded value 24 h ago (hourly history) gives oi_change_pct{24h} from the first tick."""
    p = OpenInterestProcessor()
    p.seed_history("BTC", "binance-usdm", [(mk.T0 - 24 * mk.H - mk.M, 800.0)])
    p.on_event(mk.oi(mk.T0, 600.0))
    v = mk.latest(p.on_tick(mk.T0 + mk.S))
    assert v[mk.key("oi_change_pct", asset="BTC", window="24h")] == pytest.approx(-25.0)


def test_out_of_order_update_is_ignored_and_counted(mk: SimpleNamespace) -> None:
    """An older update than the stored one does not overwrite it."""
    p = OpenInterestProcessor()
    p.on_event(mk.oi(mk.T0 + 10, 100.0))
    p.on_event(mk.oi(mk.T0 + 5, 1.0))
    v = mk.latest(p.on_tick(mk.T0 + mk.S))
    assert v[mk.key("oi_usd", asset="BTC", venue="all")] == 100.0
    assert p.late_events == 1


def test_silent_instrument_is_forgotten_after_a_day(mk: SimpleNamespace) -> None:
    """After ``forget_ns`` a delisted venue no longer makes the asset incomplete."""
    p = OpenInterestProcessor()
    p.on_event(mk.oi(mk.T0, 100.0, venue="okx-swap"))
    p.on_event(mk.oi(mk.T0 + 25 * mk.H, 300.0))
    v = mk.latest(p.on_tick(mk.T0 + 25 * mk.H + mk.S))
    assert v[mk.key("oi_complete", asset="BTC")] == 1.0
    assert v[mk.key("oi_usd", asset="BTC", venue="all")] == 300.0
