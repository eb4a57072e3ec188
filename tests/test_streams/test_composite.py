"""Composite deleveraging score: documented ramps and weights, missing inputs counted."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from streams.processors.composite import CompositeConfig, CompositeProcessor, ramp


class FakeSource:
    """A value source with fixed values."""

    def __init__(self, assets: list[str], values: dict[tuple[str, ...], float]) -> None:
        self.assets = assets
        self.values = values

    def value(self, name: str, *labels: str) -> float | None:
        """Return the fixed value."""
        return self.values.get((name, *labels))


def test_ramp_is_linear_and_clipped() -> None:
    """ramp maps lo..hi onto 0..1 and clips outside."""
    assert ramp(5.0, 0.0, 10.0) == 0.5
    assert ramp(-1.0, 0.0, 10.0) == 0.0
    assert ramp(11.0, 0.0, 10.0) == 1.0


def test_hand_computed_score(mk: SimpleNamespace) -> None:
    """OI -35% (25), z 5 (10), share 0.7 (5), price -18% (12.5), funding -0.01% (5), no peg.

    score = 25*1 + 20*0.5 + 10*0.5 + 25*0.5 + 10*0.5 + 0 = 57.5 from 5 inputs
    """
    liq = FakeSource(
        ["all", "BTC"],
        {
            ("liq_burst_z", "BTC"): 5.0,
            ("liq_long_share", "BTC", "1h"): 0.7,
            ("liq_usd", "BTC", "all", "1h"): 1e6,
        },
    )
    oi = FakeSource(
        ["BTC"], {("oi_drawdown_pct", "BTC"): -35.0, ("oi_change_pct", "BTC", "24h"): -3.0}
    )
    px = FakeSource(["BTC"], {("price_drawdown_pct", "BTC"): -18.0})
    fund = FakeSource([], {("funding_rate_8h", "BTC", "oi_weighted"): -0.0001})
    p = CompositeProcessor(liquidations=liq, open_interest=oi, price=px, funding=fund)
    v = mk.latest(p.on_tick(mk.T0))
    assert v[mk.key("deleveraging_score", asset="BTC")] == pytest.approx(57.5)
    assert v[mk.key("deleveraging_score_inputs", asset="BTC")] == 5.0
    assert v[mk.key("deleveraging_component", asset="BTC", component="oi_drop")] == 1.0
    assert mk.key("deleveraging_score", asset="all") not in v


def test_weights_must_add_up_to_100() -> None:
    """A config whose weights do not sum to 100 is refused."""
    weights = {"oi_drop": 50.0, "liq_burst": 20.0, "liq_long_share": 10.0}
    weights |= {"price_drop": 25.0, "funding": 10.0, "peg_stress": 10.0}
    with pytest.raises(ValueError, match="add up to 100"):
        CompositeProcessor(config=CompositeConfig(weights=weights))
