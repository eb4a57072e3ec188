"""The default set of processors and their combined configuration."""

from __future__ import annotations

from dataclasses import dataclass, field

from streams.processors.base import Processor
from streams.processors.composite import CompositeConfig, CompositeProcessor
from streams.processors.feed_health import FeedHealthProcessor
from streams.processors.funding import FundingConfig, FundingProcessor
from streams.processors.liquidations import LiquidationConfig, LiquidationProcessor
from streams.processors.open_interest import OpenInterestConfig, OpenInterestProcessor
from streams.processors.peg import PegConfig, PegProcessor
from streams.processors.price import PriceConfig, PriceProcessor

__all__ = ["StreamsConfig", "default_processors"]


@dataclass(frozen=True)
class StreamsConfig:
    """Settings of every default processor (each part defaults to its own defaults)."""

    liquidations: LiquidationConfig = field(default_factory=LiquidationConfig)
    open_interest: OpenInterestConfig = field(default_factory=OpenInterestConfig)
    price: PriceConfig = field(default_factory=PriceConfig)
    funding: FundingConfig = field(default_factory=FundingConfig)
    peg: PegConfig = field(default_factory=PegConfig)
    composite: CompositeConfig = field(default_factory=CompositeConfig)


def default_processors(config: StreamsConfig | None = None) -> list[Processor]:
    """Return fresh instances of every processor, in the order the engine must call them.

    Order: liquidations, open_interest, price, funding, peg, feed_health, composite (last: it
    reads the values the others emitted on the same tick).
    """
    cfg = config or StreamsConfig()
    liq = LiquidationProcessor(cfg.liquidations)
    oi = OpenInterestProcessor(cfg.open_interest)
    price = PriceProcessor(cfg.price)
    funding = FundingProcessor(cfg.funding)
    peg = PegProcessor(cfg.peg)
    composite = CompositeProcessor(
        liquidations=liq,
        open_interest=oi,
        price=price,
        funding=funding,
        peg=peg,
        config=cfg.composite,
    )
    return [liq, oi, price, funding, peg, FeedHealthProcessor(), composite]
