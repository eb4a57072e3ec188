"""Stream processors: plain classes turning events into signals, in event time."""

from __future__ import annotations

from streams.processors.base import Processor
from streams.processors.composite import DEFAULT_WEIGHTS, CompositeConfig, CompositeProcessor
from streams.processors.factory import StreamsConfig, default_processors
from streams.processors.feed_health import FeedHealthProcessor
from streams.processors.funding import FundingConfig, FundingProcessor
from streams.processors.liquidations import LiquidationConfig, LiquidationProcessor
from streams.processors.open_interest import OpenInterestConfig, OpenInterestProcessor
from streams.processors.peg import PegConfig, PegProcessor
from streams.processors.price import PriceConfig, PriceProcessor

__all__ = [
    "DEFAULT_WEIGHTS",
    "CompositeConfig",
    "CompositeProcessor",
    "FeedHealthProcessor",
    "FundingConfig",
    "FundingProcessor",
    "LiquidationConfig",
    "LiquidationProcessor",
    "OpenInterestConfig",
    "OpenInterestProcessor",
    "PegConfig",
    "PegProcessor",
    "PriceConfig",
    "PriceProcessor",
    "Processor",
    "StreamsConfig",
    "default_processors",
]
