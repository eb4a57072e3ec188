"""Binance USD-M parser: documented example messages to complete normalized events."""

from __future__ import annotations

import pytest

from monitor.venues import get_venue, load_registry
from monitor.venues.base import (
    MissingMetadataError,
    ParseError,
    Stream,
    UnknownMessageError,
)
from monitor.venues.binance_usdm import BinanceUsdmParser
from streams.events import Funding, Liquidation, OpenInterest, Quote, Trade
from tests.helpers import ws_frame

V = "binance-usdm"
TS = 1_700_000_000_000_000_000


@pytest.fixture(name="parser")
def _parser() -> BinanceUsdmParser:
    return BinanceUsdmParser(load_registry(V))


def test_agg_trade_doc_example(parser: BinanceUsdmParser) -> None:
    """A raw-stream aggTrade becomes a Trade; m=true means the taker sold."""
    assert parser.parse(ws_frame(V, "agg_trade"), TS) == [
        Trade(
            venue=V,
            symbol="BTCUSDT",
            instrument="BTC-USDT-PERP",
            asset="BTC",
            ts_event=123456785 * 1_000_000,
            ts_recv=TS,
            price=0.001,
            size=100.0,
            notional_usd=0.1,
            side="sell",
        )
    ]


def test_agg_trade_combined_2026(parser: BinanceUsdmParser) -> None:
    """A 2026 combined-stream aggTrade (with the new nq field) parses in full."""
    [ev] = parser.parse(ws_frame(V, "agg_trade_2026"), TS)
    assert ev == Trade(
        venue=V,
        symbol="BTCUSDT",
        instrument="BTC-USDT-PERP",
        asset="BTC",
        ts_event=1781416438926_000_000,
        ts_recv=TS,
        price=64339.2,
        size=0.123,
        notional_usd=pytest.approx(64339.2 * 0.123),
        side="sell",
    )


def test_force_order_sell_is_long_liquidated(parser: BinanceUsdmParser) -> None:
    """forceOrder S=SELL is the order closing a long: side is long; notional = z x ap."""
    assert parser.parse(ws_frame(V, "force_order"), TS) == [
        Liquidation(
            venue=V,
            symbol="BTCUSDT",
            instrument="BTC-USDT-PERP",
            asset="BTC",
            ts_event=1568014460893_000_000,
            ts_recv=TS,
            price=9910.0,
            size=0.014,
            notional_usd=pytest.approx(138.74),
            side="long",
        )
    ]


def test_force_order_buy_uses_average_price(parser: BinanceUsdmParser) -> None:
    """A BUY liquidation is a short; price is the average fill ap, not the order price p."""
    [ev] = parser.parse(ws_frame(V, "force_order_2026"), TS)
    assert isinstance(ev, Liquidation)
    assert (ev.side, ev.price, ev.size) == ("short", 64310.6, 0.002)
    assert ev.notional_usd == pytest.approx(128.6212)
    assert ev.ts_event == 1781416602260_000_000


def test_mark_price_funding(parser: BinanceUsdmParser) -> None:
    """markPriceUpdate gives funding at the 8 h interval with the next funding time in ns."""
    assert parser.parse(ws_frame(V, "mark_price"), TS) == [
        Funding(
            venue=V,
            symbol="BTCUSDT",
            instrument="BTC-USDT-PERP",
            asset="BTC",
            ts_event=1562305380000_000_000,
            ts_recv=TS,
            rate=0.00038167,
            interval_h=8.0,
            rate_8h=0.00038167,
            mark_price=11794.15,
            next_funding_ts=1562306400000_000_000,
        )
    ]


def test_mark_price_negative_rate(parser: BinanceUsdmParser) -> None:
    """A negative rate from a 2026 capture keeps its sign."""
    [ev] = parser.parse(ws_frame(V, "mark_price_2026"), TS)
    assert isinstance(ev, Funding)
    assert ev.rate == -0.00006042
    assert ev.rate_8h == -0.00006042
    assert ev.mark_price == 64240.38272864


def test_book_ticker(parser: BinanceUsdmParser) -> None:
    """bookTicker becomes a Quote with sizes."""
    assert parser.parse(ws_frame(V, "book_ticker"), TS) == [
        Quote(
            venue=V,
            symbol="BTCUSDT",
            instrument="BTC-USDT-PERP",
            asset="BTC",
            ts_event=1612137603568_000_000,
            ts_recv=TS,
            bid=33134.42,
            ask=33139.39,
            bid_size=0.17,
            ask_size=0.38,
        )
    ]


def _btc_oi(ts_recv: int) -> OpenInterest:
    return OpenInterest(
        venue=V,
        symbol="BTCUSDT",
        instrument="BTC-USDT-PERP",
        asset="BTC",
        ts_event=1589437530011_000_000,
        ts_recv=ts_recv,
        size=10659.509,
        notional_usd=pytest.approx(10659.509 * 11794.15),
    )


def test_open_interest_rest_valued_at_last_mark(parser: BinanceUsdmParser) -> None:
    """The REST open-interest body is valued at the last mark price seen."""
    parser.parse(ws_frame(V, "mark_price"), TS)
    assert parser.parse(ws_frame(V, "open_interest_rest"), TS) == [_btc_oi(TS)]


def test_open_interest_before_any_mark_is_held_for_the_first_mark(
    parser: BinanceUsdmParser,
) -> None:
    """Open interest polled before the first mark price is not dropped: it comes out, valued at
    that mark and with its own timestamps, together with the first markPrice frame."""
    assert parser.parse(ws_frame(V, "open_interest_rest"), TS) == []
    events = parser.parse(ws_frame(V, "mark_price"), TS + 5)
    assert events[0] == _btc_oi(TS)
    assert [type(e).__name__ for e in events] == ["OpenInterest", "Funding"]
    # released once: the next mark price carries no open interest
    assert [type(e).__name__ for e in parser.parse(ws_frame(V, "mark_price"), TS + 9)] == [
        "Funding"
    ]


def test_control_frames_give_no_events(parser: BinanceUsdmParser) -> None:
    """Subscribe acknowledgements are not errors and carry no events."""
    assert parser.parse('{"result":null,"id":2}', TS) == []


@pytest.mark.parametrize(
    ("frame", "error"),
    [
        ('{"stream":', ParseError),
        ("not json", ParseError),
        ('{"e":"brandNew","E":1}', UnknownMessageError),
        ('{"stream":"x@kline_1m","data":{"e":"kline","E":1}}', UnknownMessageError),
        ('{"error":{"code":2,"msg":"Invalid request"},"id":3}', ParseError),
        (
            '{"e":"aggTrade","E":1,"s":"BTCUSDT_261225","p":"1","q":"1","T":1,"m":false}',
            MissingMetadataError,
        ),
    ],
)
def test_bad_frames_raise_typed_errors(
    parser: BinanceUsdmParser, frame: str, error: type[ParseError]
) -> None:
    """Malformed, unknown and unlisted-symbol frames raise the matching ParseError kind."""
    with pytest.raises(error) as info:
        parser.parse(frame, TS)
    assert type(info.value) is error


def test_plan_routes_streams_to_market_and_public() -> None:
    """aggTrade/forceOrder/markPrice go to /market, bookTicker to /public (2026 URL split);
    open interest (REST) brings the symbol's markPrice stream, which values it."""
    spec = get_venue(V)
    plans = spec.plan(
        spec.endpoints,
        [
            Stream("trades", "BTCUSDT"),
            Stream("liquidations", "*"),
            Stream("funding", "ETHUSDT"),
            Stream("quotes", "BTCUSDT"),
            Stream("open_interest", "BTCUSDT"),
        ],
    )
    by_url = {p.url: p for p in plans}
    market = by_url["wss://fstream.binance.com/market/stream"]
    public = by_url["wss://fstream.binance.com/public/stream"]
    assert market.subscribe == (
        '{"method":"SUBSCRIBE","params":["btcusdt@aggTrade","!forceOrder@arr",'
        '"ethusdt@markPrice@1s","btcusdt@markPrice@1s"],"id":1}',
    )
    assert public.subscribe == ('{"method":"SUBSCRIBE","params":["btcusdt@bookTicker"],"id":1}',)


def test_plan_splits_large_subscriptions() -> None:
    """More than 200 streams are split over connections, 50 params per SUBSCRIBE."""
    spec = get_venue(V)
    streams = [Stream("trades", f"SYM{i}USDT") for i in range(450)]
    plans = spec.plan(spec.endpoints, streams)
    assert [len(p.streams) for p in plans] == [200, 200, 50]
    assert [len(p.subscribe) for p in plans] == [4, 4, 1]


def test_open_interest_polls_fit_the_weight_budget() -> None:
    """OI polls over many symbols stay within a quarter of the 2400/min weight limit."""
    spec = get_venue(V)
    polls = spec.polls(spec.endpoints, [Stream("open_interest", f"S{i}USDT") for i in range(300)])
    per_minute = sum(p.weight * 60.0 / p.interval_s for p in polls)
    assert len(polls) == 300
    assert per_minute <= 600.0
    assert polls[0].url.startswith("https://fapi.binance.com/fapi/v1/openInterest?symbol=")
