"""The scenario library: deterministic, time-ordered, within venue caps and instrument lists."""

from __future__ import annotations

import itertools
from collections import Counter

import msgspec
import pytest

from monitor.simulator.scenarios import SCENARIOS, get_scenario, install_instruments
from monitor.simulator.venues import sim_venue
from monitor.venues import packaged_instruments
from streams.events import Liquidation, OpenInterest, Quote

DAY = 86_400 * 1_000_000_000
EPISODES = ["november-2025", "october-10-2025", "march-2023-usdc", "august-2024", "calm-week"]


def test_registry_lists_the_episodes() -> None:
    """Every episode of the issue (and the spine's cascade) is registered."""
    assert set(EPISODES) | {"cascade", "november-2025-morning"} <= set(SCENARIOS)
    with pytest.raises(KeyError, match="known: "):
        get_scenario("mtgox-2014")


@pytest.mark.parametrize("name", EPISODES)
def test_a_seed_fixes_the_stream(name: str) -> None:
    """The same seed gives the same events and backfill; events come in time order."""
    a = list(itertools.islice(get_scenario(name, 3).events(), 3000))
    b = list(itertools.islice(get_scenario(name, 3).events(), 3000))
    assert a == b
    assert [e.ts_event for e in a] == sorted(e.ts_event for e in a)
    assert get_scenario(name, 3).backfill() == get_scenario(name, 3).backfill()


@pytest.mark.parametrize("name", EPISODES)
def test_only_known_symbols_are_published(name: str) -> None:
    """Every symbol is in its venue's packaged instruments or the scenario's extra instruments."""
    sc = get_scenario(name)
    info = sc.info
    for venue, symbols in info.symbols.items():
        known = {i.symbol for i in packaged_instruments(venue)}
        known |= {i.symbol for i in info.extra_instruments.get(venue, [])}
        assert set(symbols) <= known, venue
    assert len(info.symbols) >= 6
    assert info.worst_ns is None or info.start_ns < info.worst_ns < info.end_ns


@pytest.mark.parametrize("name", EPISODES)
def test_backfill_covers_the_rolling_windows(name: str) -> None:
    """Prices go back 90 days and open interest 60 days before the stream, for every OI venue."""
    sc = get_scenario(name)
    bf = sc.backfill()
    start = sc.info.start_ns
    for points in bf.price.values():
        assert points[0][0] <= start - 90 * DAY
        assert points[-1][0] < start
    oi_venues = {v for v, ch in sc.info.channels.items() if "open_interest" in ch}
    assert {v for _, v in bf.open_interest} == oi_venues
    for points in bf.open_interest.values():
        assert points[0][0] <= start - 60 * DAY


def test_november_amounts_match_the_reference() -> None:
    """21 Nov: ~$1.9-2.0B in 24 h, >= 90% longs, ~$1B in the peak hour, <= 1 per second."""
    sc = get_scenario("november-2025")
    liqs = [e for e in sc.events() if isinstance(e, Liquidation)]
    end = sc.info.worst_ns or 0
    day = [e for e in liqs if end - DAY <= e.ts_event < end + 20 * 60 * 1_000_000_000]
    usd = sum(e.notional_usd for e in day)
    assert 1.7e9 < usd < 2.2e9
    assert sum(e.notional_usd for e in day if e.side == "long") / usd > 0.9
    hour = max(
        sum(e.notional_usd for e in liqs if t <= e.ts_event < t + 3600 * 1_000_000_000)
        for t in range(end - 3 * 3600 * 1_000_000_000, end, 300 * 1_000_000_000)
    )
    assert 0.8e9 < hour < 1.3e9
    per_second = Counter((e.venue, e.symbol, e.ts_event // 1_000_000_000) for e in liqs)
    assert max(per_second.values()) == 1
    assert "hyperliquid" not in {e.venue for e in liqs}


def test_november_open_interest_falls_about_35_percent_from_the_peak() -> None:
    """Market OI (sum over venues) is ~$94B at the October peak and ~35% lower at the low."""
    sc = get_scenario("november-2025")
    bf = sc.backfill()
    by_t: Counter[int] = Counter()
    for (asset, _venue), points in bf.open_interest.items():
        if asset == "BTC":
            for t, usd in points:
                by_t[t] += int(usd)
    peak = max(by_t.values())
    assert 92e9 < peak < 96e9
    low = Counter[str]()
    for e in sc.events():
        if (
            isinstance(e, OpenInterest)
            and e.asset == "BTC"
            and e.ts_event >= (sc.info.worst_ns or 0)
        ):
            low[e.venue] = int(e.notional_usd)
        if len(low) == 6:
            break
    assert -0.40 < sum(low.values()) / peak - 1 < -0.33


def test_extra_instruments_render_once_installed() -> None:
    """October's Kraken USDE/USD is not in Kraken's snapshot: the simulator renders its quotes
    only once the scenario installs it, then lists it over REST; another venue's event renders
    nothing."""
    sc = get_scenario("october-10-2025")
    quote = next(
        e
        for e in sc.events()
        if isinstance(e, Quote) and e.venue == "kraken" and e.symbol == "USDE/USD"
    )
    sim = sim_venue("kraken")
    assert sim.encode(quote) == []
    install_instruments(sim, sc.info.extra_instruments["kraken"])
    assert [topic for topic, _ in sim.encode(quote)] == ["ticker:USDE/USD"]
    assert sim.encode(msgspec.structs.replace(quote, venue="coinbase")) == []
    reply = sim.rest("/0/public/AssetPairs", {})
    assert reply is not None
    assert isinstance(reply.body, dict)
    assert reply.body["result"]["USDEUSD"]["wsname"] == "USDE/USD"
