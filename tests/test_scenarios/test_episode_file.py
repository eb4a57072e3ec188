"""Episode data files: every key of the schema, flat and anchored paths, clear errors."""

from __future__ import annotations

import pytest

from monitor.simulator.scenarios import EPISODES
from monitor.simulator.scenarios.episode_file import episode_fields, load_episode
from monitor.simulator.scenarios.paths import ts

_DOC = {
    "name": "test-episode",
    "description": "a test",
    "start": "2025-01-02 00:00",
    "end": "2025-01-02 06:00",
    "backfill_start": "2024-12-01 00:00",
    "price": {"BTC": [["2024-12-01 00:00", 100_000], ["2025-01-02 06:00", 90_000]]},
    "oi": {"BTC": [["2024-12-01 00:00", 50e9]]},
    "funding": {"BTC": 0.0001},
    "liq_usd_h": [["2025-01-02 00:00", 10e6], ["2025-01-02 06:00", 1e9]],
    "long_share": [["2025-01-02 00:00", 0.5], ["2025-01-02 06:00", 0.9]],
    "liq_split": {"BTC": 1},
    "pegs": {"USDT": 1.0002, "USDC": [["2025-01-02 00:00", 1.0], ["2025-01-02 06:00", 0.9]]},
    "peg_venue": {"USDC": {"bitstamp": [["2025-01-02 03:00", 0.8]]}},
    "dense": [["2025-01-02 01:00", "2025-01-02 02:00"]],
    "silent": [["okx-swap", "2025-01-02 04:00", "2025-01-02 04:01:40"]],
    "calm_periods": [6, 6, 6],
    "notes": ["one note"],
}


def test_fields_convert_every_kind_of_key() -> None:
    f = episode_fields(_DOC)
    assert f["start"] == ts("2025-01-02 00:00")
    assert f["worst"] is None  # absent: no worst point
    assert f["price"]["BTC"].log
    assert not f["long_share"].log
    mid = (ts("2024-12-01 00:00") + ts("2025-01-02 06:00")) // 2
    assert 90_000 < f["price"]["BTC"](mid) < 95_000  # log-linear: under the linear midpoint
    assert f["liq_usd_h"].log
    assert f["funding"]["BTC"](ts("2030-01-01 00:00")) == 0.0001  # a number is a flat path
    assert f["pegs"]["USDC"](ts("2025-01-02 03:00")) == pytest.approx(0.95)
    assert f["peg_venue"][("USDC", "bitstamp")](0) == 0.8
    assert f["liq_split"] == {"BTC": 1.0}
    assert isinstance(f["liq_split"]["BTC"], float)
    assert f["dense"] == [(ts("2025-01-02 01:00"), ts("2025-01-02 02:00"))]
    assert f["silent"] == [
        ("okx-swap", ts("2025-01-02 04:00"), ts("2025-01-02 04:00") + 100 * 10**9)
    ]
    assert f["calm_periods"] == (6, 6, 6)


def test_unknown_key_is_named() -> None:
    with pytest.raises(ValueError, match="unknown key 'prices'"):
        episode_fields({**_DOC, "prices": {}})


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("start", "yesterday"),
        ("calm_periods", [6, 6]),
        ("price", [["2025-01-02 00:00", 1.0]]),
        ("long_share", []),
    ],
)
def test_wrong_shape_names_the_key(key: str, value: object) -> None:
    with pytest.raises(ValueError, match=f"^{key}: "):
        episode_fields({**_DOC, key: value})


def test_missing_file_is_an_error() -> None:
    with pytest.raises(FileNotFoundError):
        load_episode("no_such_episode")


@pytest.mark.parametrize("name", sorted(EPISODES))
def test_packaged_episodes_load_and_hold_together(name: str) -> None:
    spec = EPISODES[name]()
    assert spec.name == name
    assert spec.backfill_start < spec.start < spec.end
    assert spec.worst is None or spec.start <= spec.worst <= spec.end
    assert sum(spec.liq_split.values()) == pytest.approx(1.0)
    assert set(spec.price) == set(spec.oi) == set(spec.funding) == set(spec.liq_split)
