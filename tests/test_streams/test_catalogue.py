"""The signal catalogue agrees with what the processors emit, and docs/signals.md with it."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from monitor.simulator.scenarios import get_scenario, seed_backfill
from streams.catalogue import CATALOGUE, check_labels, render_doc
from streams.engine import StreamEngine
from streams.events import Event, FeedState, FeedStatus
from streams.processors.factory import default_processors
from streams.signals import Signal
from streams.units import NS_PER_MINUTE, NS_PER_SECOND

ROOT = Path(__file__).resolve().parents[2]

Seen = dict[tuple[str, tuple[tuple[str, str], ...]], Signal]


def _series(events: Iterable[Event], scenario: str) -> Seen:
    procs = default_processors()
    seed_backfill(procs, get_scenario(scenario, 1).backfill())
    engine = StreamEngine(procs)
    seen: Seen = {}
    for ev in events:
        for s in engine.on_event(ev):
            seen.setdefault((s.name, tuple(sorted(s.labels.items()))), s)
    for s in engine.flush():
        seen.setdefault((s.name, tuple(sorted(s.labels.items()))), s)
    return seen


def _first_minutes(name: str, minutes: int) -> Iterator[Event]:
    sc = get_scenario(name, 1)
    end = sc.info.start_ns + minutes * NS_PER_MINUTE
    for ev in sc.events():
        if ev.ts_event > end:
            return
        yield ev


def _statuses(t0: int) -> Iterator[Event]:
    """A venue connecting, subscribing, going stale and reconnecting (feed_up, gaps, reconnects)."""
    plan: list[tuple[str, FeedState]] = [
        ("connection", "connected"),
        ("trades", "subscribed"),
        ("trades", "stale"),
        ("connection", "disconnected"),
        ("connection", "connected"),
        ("trades", "subscribed"),
    ]
    for i, (channel, status) in enumerate(plan):
        yield FeedStatus(
            venue="bybit-linear",
            symbol="",
            instrument="",
            asset="",
            ts_event=t0 + i * 5 * NS_PER_SECOND,
            ts_recv=0,
            channel=channel,
            status=status,
        )


def test_every_emitted_signal_is_catalogued_with_allowed_labels() -> None:
    cascade = get_scenario("cascade", 1)
    seen = _series([*cascade.events(), *_statuses(cascade.info.end_ns + NS_PER_SECOND)], "cascade")
    seen |= _series(_first_minutes("march-2023-usdc", 20), "march-2023-usdc")
    problems = [p for (name, labels) in seen for p in check_labels(name, dict(labels))]
    assert problems == []
    # and the catalogue lists nothing that is never emitted
    assert {name for name, _ in seen} == set(CATALOGUE)


def test_check_labels_catches_what_the_catalogue_does_not_allow() -> None:
    assert check_labels("liq_usd", {"asset": "BTC", "side": "all", "window": "1h"}) == []
    assert check_labels("liq_usd", {"asset": "BTC", "side": "all", "window": "2h"}) == [
        "liq_usd: window='2h' not in ['1m', '5m', '1h', '24h']"
    ]
    assert check_labels("liq_ussd", {}) == ["unknown signal 'liq_ussd'"]
    assert check_labels("oi_complete", {"asset": "BTC", "venue": "x"}) == [
        "oi_complete: labels ['asset', 'venue'], catalogue ['asset']"
    ]


def test_docs_signals_md_is_generated_from_the_catalogue() -> None:
    doc = ROOT / "docs" / "signals.md"
    text = doc.read_text(encoding="utf-8")
    assert render_doc(text) == text, (
        "docs/signals.md is out of date: riskmon rules signals --write-doc docs/signals.md"
    )
    for name in CATALOGUE:
        assert f"| `{name}` |" in text
