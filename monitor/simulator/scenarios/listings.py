"""Where the episode scenarios publish: the derivatives and stablecoin listings they simulate.

:data:`DEFAULT_PERPS` are the perpetuals with each venue's approximate share of the market's
open interest and liquidations (2025), :data:`DEFAULT_SPOTS` the stablecoin books. A
:class:`Listing` names one venue symbol as the events carry it and builds their common fields
(:meth:`Listing.header`, a ``streams.events.EventHeader``).
"""

from __future__ import annotations

from dataclasses import dataclass

from streams.events import EventHeader

__all__ = [
    "DEFAULT_PERPS",
    "DEFAULT_SPOTS",
    "Listing",
    "Perp",
    "Spot",
]


@dataclass(frozen=True)
class Listing:
    """One venue symbol as events name it: ``instrument`` is the normalized id."""

    venue: str
    symbol: str
    instrument: str
    asset: str

    def header(self, ts_event: int, ts_recv: int) -> EventHeader:
        """The common fields of an event of this listing at ``ts_event``."""
        return {
            "venue": self.venue,
            "symbol": self.symbol,
            "instrument": self.instrument,
            "asset": self.asset,
            "ts_event": ts_event,
            "ts_recv": ts_recv,
        }


@dataclass(frozen=True)
class Perp:
    """One perpetual listing.

    Attributes:
        venue: venue id.
        asset: base asset.
        symbol: the venue's symbol (must be in its packaged instruments).
        oi_share: weight of the listing in the asset's market open interest.
        liq_share: weight in the asset's market liquidations (0: the venue publishes none).
        funding_interval_h: the venue's funding interval.
        basis_bps: a constant price offset from the reference path.
    """

    venue: str
    asset: str
    symbol: str
    oi_share: float
    liq_share: float
    funding_interval_h: float = 8.0
    basis_bps: float = 0.0


@dataclass(frozen=True)
class Spot:
    """One stablecoin spot listing (``coin`` quoted in ``quote``: USD or USDT)."""

    venue: str
    coin: str
    symbol: str
    quote: str = "USD"


#: the derivatives venues simulated and their approximate shares of the market (2025)
DEFAULT_PERPS: tuple[Perp, ...] = (
    Perp("binance-usdm", "BTC", "BTCUSDT", 0.27, 0.34),
    Perp("binance-usdm", "ETH", "ETHUSDT", 0.30, 0.34),
    Perp("bybit-linear", "BTC", "BTCUSDT", 0.19, 0.26, basis_bps=0.6),
    Perp("bybit-linear", "ETH", "ETHUSDT", 0.20, 0.26, basis_bps=0.6),
    Perp("okx-swap", "BTC", "BTC-USDT-SWAP", 0.11, 0.17, basis_bps=-0.4),
    Perp("okx-swap", "ETH", "ETH-USDT-SWAP", 0.13, 0.17, basis_bps=-0.4),
    Perp("hyperliquid", "BTC", "BTC", 0.22, 0.0, funding_interval_h=1.0, basis_bps=1.2),
    Perp("hyperliquid", "ETH", "ETH", 0.18, 0.0, funding_interval_h=1.0, basis_bps=1.2),
    Perp("deribit", "BTC", "BTC-PERPETUAL", 0.10, 0.03, basis_bps=-1.0),
    Perp("deribit", "ETH", "ETH-PERPETUAL", 0.09, 0.03, basis_bps=-1.0),
    Perp("bitmex", "BTC", "XBTUSD", 0.11, 0.06, basis_bps=1.5),
    Perp("bitmex", "ETH", "ETHUSDT", 0.10, 0.06, basis_bps=1.5),
)

#: the stablecoin books simulated (USD pairs; Binance quotes against USDT)
DEFAULT_SPOTS: tuple[Spot, ...] = (
    Spot("kraken", "USDT", "USDT/USD"),
    Spot("kraken", "USDC", "USDC/USD"),
    Spot("kraken", "DAI", "DAI/USD"),
    Spot("coinbase", "USDT", "USDT-USD"),
    Spot("coinbase", "DAI", "DAI-USD"),
    Spot("bitstamp", "USDT", "usdtusd"),
    Spot("bitstamp", "USDC", "usdcusd"),
    Spot("bitstamp", "DAI", "daiusd"),
    Spot("binance-spot", "USDC", "USDCUSDT", "USDT"),
    Spot("binance-spot", "FDUSD", "FDUSDUSDT", "USDT"),
    Spot("binance-spot", "USDE", "USDEUSDT", "USDT"),
)
