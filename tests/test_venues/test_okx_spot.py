"""OKX spot [okx-spot]: documented frames, the plan, and instruments that keep USDT as quote."""

from __future__ import annotations

import msgspec
import pytest

from monitor.simulator.venues.okx_spot import OkxSpotSim
from monitor.venues import get_venue, load_registry
from monitor.venues.base import MissingMetadataError, ParseError, Stream, VenueEndpoints
from streams.events import Quote, Trade
from tests.test_venues.test_spot_venues import MS, RECV, frame, garbage, ids, make_parser, spot

BTC = ("okx-spot", "BTC-USDT", "BTC", "USDT")


def test_spot_ticker_gives_a_quote_in_base_units() -> None:
    """The live spot ticker: best bid/ask, sizes in BTC (not contracts), ts in ms."""
    p = make_parser("okx-spot", spot(*BTC))
    assert p.parse(frame("okx-spot", "tickers_spot_live.json"), RECV) == [
        Quote(
            **ids(*BTC),
            ts_event=1_781_414_919_074 * MS,
            ts_recv=RECV,
            bid=64312.8,
            ask=64312.9,
            bid_size=3.32864302,
            ask_size=1.34197806,
        )
    ]


def test_spot_trade_is_the_taker_side_and_usdt_counts_at_par() -> None:
    """The documented spot trade: side = taker side, size in base units."""
    p = make_parser("okx-spot", spot(*BTC))
    assert p.parse(frame("okx-spot", "trades_spot_docs.json"), RECV) == [
        Trade(
            **ids(*BTC),
            ts_event=1_630_048_897_897 * MS,
            ts_recv=RECV,
            price=42219.9,
            size=0.12060306,
            notional_usd=pytest.approx(42219.9 * 0.12060306),  # type: ignore[arg-type]
            side="buy",
        )
    ]


def test_control_unknown_and_missing() -> None:
    """Acks and pong are control; an unlisted pair is missing metadata; garbage is malformed."""
    p = make_parser("okx-spot")
    assert p.parse(frame("okx-spot", "subscribe_ack.json"), RECV) == []
    assert p.parse("pong", RECV) == []
    with pytest.raises(MissingMetadataError):
        p.parse(frame("okx-spot", "tickers_spot_live.json"), RECV)
    with pytest.raises(ParseError):
        p.parse(OkxSpotSim().unknown_frame(), RECV)
    garbage(p, frame("okx-spot", "tickers_spot_live.json"))


def test_plan_subscribes_tickers_and_trades_on_the_public_path() -> None:
    """Quotes are ``tickers`` and trades ``trades`` per instId on /ws/v5/public; ping keeps it."""
    spec = get_venue("okx-spot")
    ep = VenueEndpoints(ws="wss://ws.okx.com:8443", rest="https://www.okx.com")
    (plan,) = spec.plan(ep, [Stream("quotes", "USDC-USDT"), Stream("trades", "USDC-USDT")])
    assert plan.url == "wss://ws.okx.com:8443/ws/v5/public"
    args = [a for f in plan.subscribe for a in msgspec.json.decode(f)["args"]]
    assert sorted(args, key=lambda a: a["channel"]) == [
        {"channel": "tickers", "instId": "USDC-USDT"},
        {"channel": "trades", "instId": "USDC-USDT"},
    ]
    assert spec.heartbeat.message == "ping"
    assert spec.kind == "spot"
    assert set(spec.channels) == {"trades", "quotes"}


def test_instruments_keep_usdt_as_quote() -> None:
    """USDC-USDT stays USDC-USDT-SPOT, so the peg processor converts it through USDT/USD;
    USDT-USD is USDT's own USD book."""
    reg = load_registry("okx-spot")
    quotes = {}
    for sym in get_venue("okx-spot").default_symbols:
        inst = reg.get(sym)
        assert inst is not None
        assert (inst.kind, inst.instrument) == ("spot", f"{sym}-SPOT")
        quotes[sym] = (inst.base, inst.quote)
    assert quotes["USDC-USDT"] == ("USDC", "USDT")
    assert quotes["USDS-USDT"] == ("USDS", "USDT")  # Sky's USDS, through USDT's USD price
    assert quotes["USDT-USD"] == ("USDT", "USD")
    assert {q for _, q in quotes.values()} == {"USDT", "USD"}
