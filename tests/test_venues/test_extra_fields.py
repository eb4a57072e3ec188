"""Every parser tolerates fields a venue adds later: the documented examples, each object given
an unknown extra key, parse to the same events (or fail the same way) as the originals."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from monitor.venues import VENUE_MODULES, get_venue, load_registry
from monitor.venues.planning import spot
from streams.events import Event

DATA = Path(__file__).parent.parent / "data" / "ws"
RECV = 1_790_000_000_123_456_789
#: the documented examples quote pairs outside the packaged (stablecoin) spot listings
EXAMPLE_PAIRS = {
    "coinbase": [spot("coinbase", "BTC-USD", "BTC", "USD")],
    "binance-spot": [spot("binance-spot", "BTCUSDT", "BTC", "USDT")],
    "okx-spot": [spot("okx-spot", "BTC-USDT", "BTC", "USDT")],
    "bybit-spot": [spot("bybit-spot", "BTCUSDT", "BTC", "USDT")],
    "gate-spot": [
        spot("gate-spot", "BTC_USDT", "BTC", "USDT"),
        spot("gate-spot", "GT_USDT", "GT", "USDT"),
    ],
    "kraken": [
        spot("kraken", "BTC/USD", "BTC", "USD"),
        spot("kraken", "MATIC/USD", "MATIC", "USD"),
    ],
}


def _with_extra(value: Any) -> Any:
    if isinstance(value, dict):
        return {**{k: _with_extra(v) for k, v in value.items()}, "zzAddedLater": {"x": [1, "y"]}}
    if isinstance(value, list):
        return [_with_extra(v) for v in value]
    return value


def _frames(venue: str) -> list[str]:
    """The venue's documented example frames that are JSON (objects or arrays)."""
    out = []
    for path in sorted((DATA / venue).glob("*.json")):
        text = path.read_text(encoding="utf-8")
        try:
            json.loads(text)
        except ValueError:
            continue  # e.g. Deribit's invalid-JSON error example
        out.append(text)
    return out


def _parse_all(venue: str, frames: list[str]) -> list[list[Event] | str]:
    """Each frame's events, or its error type, through one parser (state carries over)."""
    registry = load_registry(venue)
    registry.update(EXAMPLE_PAIRS.get(venue, []))
    parser = get_venue(venue).make_parser(registry)
    out: list[list[Event] | str] = []
    for i, frame in enumerate(frames):
        try:
            out.append(parser.parse(frame, RECV + i))
        except Exception as e:
            out.append(type(e).__name__)
    return out


@pytest.mark.parametrize("venue", list(VENUE_MODULES))
def test_unknown_extra_fields_change_nothing(venue: str) -> None:
    frames = _frames(venue)
    original = _parse_all(venue, frames)
    assert any(isinstance(r, list) and r for r in original), "no example parses to events"
    extended = _parse_all(venue, [json.dumps(_with_extra(json.loads(f))) for f in frames])
    assert extended == original
