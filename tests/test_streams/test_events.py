"""The typed headers parsers build events from name exactly the events' own fields."""

from __future__ import annotations

from streams.events import (
    EventHeader,
    FeedStatus,
    FillFields,
    Funding,
    Liquidation,
    OpenInterest,
    Quote,
    Trade,
    decode_event,
    encode_event,
)


def test_event_header_is_what_every_event_starts_with() -> None:
    header = list(EventHeader.__annotations__)
    for cls in (Trade, Liquidation, Funding, OpenInterest, Quote, FeedStatus):
        assert list(cls.__struct_fields__[: len(header)]) == header, cls.__name__
    assert set(EventHeader.__required_keys__) == set(header)


def test_fill_fields_are_a_fill_without_its_side() -> None:
    for cls in (Trade, Liquidation):
        assert set(FillFields.__required_keys__) == set(cls.__struct_fields__) - {"side"}


def test_an_event_built_from_a_header_round_trips() -> None:
    head: EventHeader = {
        "venue": "binance",
        "symbol": "BTCUSDT",
        "instrument": "BTCUSDT-PERP",
        "asset": "BTC",
        "ts_event": 1,
        "ts_recv": 2,
    }
    fill: FillFields = {**head, "price": 10.0, "size": 2.0, "notional_usd": 20.0}
    trade = Trade(**fill, side="buy")
    assert decode_event(encode_event(trade)) == trade
    assert decode_event(encode_event(Liquidation(**fill, side="long"))).side == "long"
