"""Every venue: a side (or side-like enum) the wire schema does not know is a malformed frame.

Each case takes a documented (or recorded) frame from ``tests/data/ws``, checks that it parses
to events as it is, then changes only its side field to a value the venue does not document: the
parser must raise a plain :class:`ParseError` (counted ``malformed``), never map the value to
the opposite side.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from monitor.instruments import Instrument, InstrumentRegistry
from monitor.venues import get_venue, packaged_instruments
from monitor.venues.base import ParseError
from monitor.venues.planning import perp, spot
from tests.helpers import ws_frame

RECV = 1_790_000_000_000_000_000


@dataclass(frozen=True)
class Case:
    """A documented frame of ``venue`` and the edit that makes its side unknown."""

    venue: str
    name: str  # file under tests/data/ws/<venue>/, without .json
    side: str  # the side field as it stands in the frame
    unknown: str  # the same field with a value the venue does not send
    extra: Instrument | None = None  # metadata of a symbol the snapshot lacks
    symbol: tuple[str, str] | None = None  # (old, new): move the frame to a packaged symbol

    def frame(self) -> str:
        text = ws_frame(self.venue, self.name)
        assert self.side in text, f"{self.side} not in {self.name}"
        if self.symbol is not None:
            text = text.replace(*self.symbol)
        return text


CASES = [
    Case("binance-usdm", "agg_trade", '"m":true', '"m":"maybe"'),
    Case("binance-usdm", "force_order", '"S":"SELL"', '"S":"SHORT"'),
    Case("bybit-linear", "public_trade", '"S": "Buy"', '"S": "Hold"'),
    Case(
        "bybit-linear",
        "all_liquidation",
        '"S": "Sell"',
        '"S": "Short"',
        extra=perp("bybit-linear", "ROSEUSDT", "ROSE", "USDT", funding_interval_h=8.0),
    ),
    Case("okx-swap", "trades", '"side":"buy"', '"side":"long"'),
    *(
        Case(
            "okx-swap",
            "liquidation_orders",
            side,
            unknown,
            extra=perp(
                "okx-swap",
                "IOST-USDT-SWAP",
                "IOST",
                "USDT",
                contract_size=1000.0,
                funding_interval_h=8.0,
            ),
        )
        for side, unknown in (
            ('"side": "buy"', '"side": "close"'),
            ('"posSide": "short"', '"posSide": "both"'),
        )
    ),
    Case("hyperliquid", "trades", '"side":"B"', '"side":"X"'),
    Case("deribit", "trades_liquidation_T", '"direction":"sell"', '"direction":"short"'),
    Case("deribit", "trades_liquidation_T", '"liquidation":"T"', '"liquidation":"X"'),
    Case("bitmex", "trade_partial_live", '"side":"Sell"', '"side":"Short"'),
    Case("bitmex", "liquidation_insert", '"side":"Buy"', '"side":"Long"'),
    Case(
        "kraken",
        "trade_snapshot",
        '"side":"buy"',
        '"side":"hold"',
        extra=spot("kraken", "MATIC/USD", "MATIC", "USD"),
    ),
    Case(
        "coinbase",
        "match_docs",
        '"side":"sell"',
        '"side":"none"',
        extra=spot("coinbase", "BTC-USD", "BTC", "USD"),
    ),
    Case(
        "bitstamp",
        "live_trade_trimmed",
        '"type":0',
        '"type":2',
        extra=spot("bitstamp", "btcusd", "BTC", "USD"),
    ),
    Case(
        "binance-spot",
        "agg_trade_docs",
        '"m":true',
        '"m":"maybe"',
        symbol=('"s":"BNBBTC"', '"s":"USDCUSDT"'),
    ),
]


def _parse(case: Case, frame: str) -> list[object]:
    extra = [case.extra] if case.extra is not None else []
    registry = InstrumentRegistry(case.venue, [*packaged_instruments(case.venue), *extra])
    return list(get_venue(case.venue).make_parser(registry).parse(frame, RECV))


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.venue}:{c.name}:{c.unknown}")
def test_unknown_side_is_a_malformed_frame(case: Case) -> None:
    """The documented frame parses; the same frame with an unknown side is malformed."""
    assert _parse(case, case.frame()) != []
    with pytest.raises(ParseError) as info:
        _parse(case, case.frame().replace(case.side, case.unknown))
    assert type(info.value) is ParseError
    assert info.value.kind == "malformed"
