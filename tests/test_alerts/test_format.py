"""Numbers for people: alerts/format.py, by example."""

from __future__ import annotations

import pytest

from alerts.format import clock_time, human, human_duration, human_pair

S = 1_000_000_000


@pytest.mark.parametrize(
    ("x", "unit", "text"),
    [
        (1.75e9, "usd", "$1.75B"),
        (1.9134e9, "usd", "$1.91B"),
        (286e6, "usd", "$286M"),
        (999.7e6, "usd", "$1B"),
        (12_345.0, "usd", "$12.3k"),
        (950.0, "usd", "$950"),
        (0.0, "usd", "$0"),
        (0.900099, "ratio", "90%"),
        (0.93, "ratio", "93%"),
        (-4.52, "pct", "-4.5%"),
        (-35.04, "pct", "-35.0%"),
        (35.2, "bps", "35 bps"),
        (-1300.4, "bps", "-1300 bps"),
        (32_400.0, "seconds", "9 h"),
        (45.0, "seconds", "45 s"),
        (300.0, "seconds", "5 min"),
        (32_533_481.0, "seconds", "377 d"),
        (27.5, "hours", "28 h"),
        (0.0012, "rate", "0.120%"),
        (-0.00031, "rate", "-0.031%"),
        (3.24, "z", "3.2"),
        (72.4, "score", "72"),
        (81_792.3, "price", "81,792"),
        (0.8726, "price", "0.8726"),
        (12.0, "count", "12"),
        (1.23e9, "", "1.23B"),
    ],
)
def test_human(x: float, unit: str, text: str) -> None:
    assert human(x, unit) == text


@pytest.mark.parametrize(
    ("value", "threshold", "unit", "texts"),
    [
        (750.4e6, 750e6, "usd", ("$750.4M", "$750M")),
        (1.76e9, 1.75e9, "usd", ("$1.76B", "$1.75B")),
        (0.900099, 0.9, "ratio", ("90.01%", "90.00%")),
        (-30.02, -30.0, "pct", ("-30.02%", "-30.00%")),
        (121.0, 120.0, "seconds", ("2.02 min", "2 min")),
        (750e6, 750e6, "usd", ("$750M", "$750M")),  # equal numbers may read equal
    ],
)
def test_value_and_threshold_never_read_the_same_when_they_differ(
    value: float, threshold: float, unit: str, texts: tuple[str, str]
) -> None:
    assert human_pair(value, threshold, unit) == texts


def test_durations_and_clock_times() -> None:
    assert human_duration(90) == "90 s"
    assert human_duration(7200) == "2 h"
    t = 1_763_700_000 * S  # 2025-11-21 04:40 UTC
    assert clock_time(t) == "04:40 UTC"
    assert clock_time(t, t + 3600 * S) == "04:40 UTC"
    assert clock_time(t, t + 86_400 * S) == "21 Nov 04:40 UTC"
