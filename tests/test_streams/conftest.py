"""Builders of normalized events for the stream tests (exposed through the ``mk`` fixture)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from streams.events import FeedStatus, Funding, Liquidation, OpenInterest, Quote, Trade
from streams.signals import Signal

S = 1_000_000_000
M = 60 * S
H = 60 * M
# 2025-11-21 00:00:00 UTC, a multiple of every bucket size used (1 s, 1 min, 1 h).
T0 = 1_763_683_200 * S


def _base(venue: str, instrument: str, ts: int, symbol: str | None = None) -> dict[str, Any]:
    return {
        "venue": venue,
        "symbol": symbol if symbol is not None else instrument.replace("-", ""),
        "instrument": instrument,
        "asset": instrument.split("-")[0] if instrument else "",
        "ts_event": ts,
        "ts_recv": ts,
    }


def liq(
    ts: int,
    usd: float,
    side: str = "long",
    asset: str = "BTC",
    venue: str = "bybit-linear",
    symbol: str | None = None,
) -> Liquidation:
    """A liquidation of ``usd`` at ``ts``."""
    return Liquidation(
        **_base(venue, f"{asset}-USDT-PERP", ts, symbol),
        price=1.0,
        size=usd,
        notional_usd=usd,
        side=side,  # type: ignore[arg-type]
    )


def trade(ts: int, price: float, asset: str = "BTC", venue: str = "binance-usdm") -> Trade:
    """A trade print at ``price``."""
    return Trade(
        **_base(venue, f"{asset}-USDT-PERP", ts),
        price=price,
        size=1.0,
        notional_usd=price,
        side="buy",
    )


def oi(ts: int, usd: float, asset: str = "BTC", venue: str = "binance-usdm") -> OpenInterest:
    """Open interest of ``usd`` for one instrument."""
    return OpenInterest(**_base(venue, f"{asset}-USDT-PERP", ts), size=usd, notional_usd=usd)


def funding(
    ts: int,
    rate: float,
    interval_h: float = 8.0,
    asset: str = "BTC",
    venue: str = "binance-usdm",
    mark: float = 100.0,
) -> Funding:
    """A funding update paying ``rate`` every ``interval_h`` hours."""
    return Funding(
        **_base(venue, f"{asset}-USDT-PERP", ts),
        rate=rate,
        interval_h=interval_h,
        rate_8h=rate * 8.0 / interval_h,
        mark_price=mark,
    )


def quote(ts: int, instrument: str, bid: float, ask: float, venue: str = "kraken") -> Quote:
    """A best bid/ask for ``instrument`` (e.g. ``USDC-USD-SPOT``)."""
    return Quote(**_base(venue, instrument, ts), bid=bid, ask=ask)


def status(ts: int, venue: str, channel: str, state: str, reason: str = "") -> FeedStatus:
    """A connection-level feed status."""
    return FeedStatus(
        venue=venue,
        symbol="",
        instrument="",
        asset="",
        ts_event=ts,
        ts_recv=ts,
        channel=channel,
        status=state,  # type: ignore[arg-type]
        reason=reason,
    )


def key(name: str, **labels: str) -> str:
    """The text key ``name{a=1,b=2}`` (labels sorted) used by :func:`latest`."""
    return name + "{" + ",".join(f"{k}={v}" for k, v in sorted(labels.items())) + "}"


def latest(signals: list[Signal]) -> dict[str, float]:
    """Map ``name{labels}`` to the last value of every series in ``signals``."""
    return {key(s.name, **s.labels): s.value for s in signals}


@pytest.fixture
def mk() -> SimpleNamespace:
    """Event builders and time constants."""
    return SimpleNamespace(
        S=S,
        M=M,
        H=H,
        T0=T0,
        key=key,
        latest=latest,
        liq=liq,
        trade=trade,
        oi=oi,
        funding=funding,
        quote=quote,
        status=status,
    )
