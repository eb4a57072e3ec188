"""Coinbase Exchange on the simulator: the feed at ``/`` and ``GET /products``.

Subscribing answers one ``subscriptions`` message listing every channel; ``heartbeat`` sessions
get one heartbeat per ``heartbeat_interval_s`` (for their first heartbeat product). A Quote
renders as a ``ticker`` message, a Trade as a ``match`` whose ``side`` is the maker's.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

import msgspec

from monitor.instruments import Instrument
from monitor.simulator.base import RestReply, SimSession, SimVenue
from monitor.simulator.wire import rfc3339_us
from streams.events import Event, Quote, Trade

__all__ = ["CoinbaseSim"]

_CHANNELS = ("ticker", "matches", "heartbeat")


class CoinbaseSim(SimVenue):
    """Speaks the Exchange feed's ``{"type":"subscribe",...}`` protocol."""

    venue = "coinbase"
    ws_paths = ("/",)
    heartbeat_interval_s: float | None = 1.0

    def __init__(self) -> None:
        super().__init__()
        self._sequence = 0
        self._trade_id = 0

    def on_message(self, session: SimSession, text: str) -> list[str]:
        try:
            req = msgspec.json.decode(text)
        except msgspec.DecodeError:
            return [self._error("Failed to subscribe", "malformed JSON")]
        if not isinstance(req, dict) or req.get("type") not in ("subscribe", "unsubscribe"):
            return [self._error("Failed to subscribe", "type must be subscribe or unsubscribe")]
        default_products = req.get("product_ids") or []
        wanted: list[tuple[str, str]] = []
        for ch in req.get("channels") or []:
            name: object
            if isinstance(ch, str):
                name, products = ch, default_products
            elif isinstance(ch, dict):
                name, products = ch.get("name"), ch.get("product_ids") or default_products
            else:
                continue
            if name not in _CHANNELS:
                return [self._error("Failed to subscribe", f"{name} is not a valid channel")]
            if not products:
                return [
                    self._error(
                        "Failed to subscribe",
                        f"You need to specify at least one product ID for channel {name}",
                    )
                ]
            for p in products:
                if p not in self.instruments:
                    return [self._error("Failed to subscribe", f"{p} is not a valid product")]
                wanted.append((str(name), str(p)))
        topics = {f"{n}:{p}" for n, p in wanted}
        if req["type"] == "subscribe":
            session.subscriptions.update(topics)
        else:
            session.subscriptions.difference_update(topics)
        listing: dict[str, list[str]] = {}
        for topic in sorted(session.subscriptions):
            name, _, product = topic.partition(":")
            listing.setdefault(name, []).append(product)
        channels = [
            {"name": n, "product_ids": ps, "account_ids": None} for n, ps in listing.items()
        ]
        return [msgspec.json.encode({"type": "subscriptions", "channels": channels}).decode()]

    @staticmethod
    def _error(message: str, reason: str) -> str:
        return msgspec.json.encode({"type": "error", "message": message, "reason": reason}).decode()

    def heartbeat(self, session: SimSession) -> str | None:
        products = sorted(
            t.partition(":")[2] for t in session.subscriptions if t.startswith("heartbeat:")
        )
        if not products:
            return None
        now = datetime.now(tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return msgspec.json.encode(
            {
                "type": "heartbeat",
                "last_trade_id": self._trade_id,
                "product_id": products[0],
                "sequence": self._sequence,
                "time": now,
            }
        ).decode()

    def unknown_frame(self) -> str:
        return (
            '{"type":"auction","product_id":"USDT-USD","sequence":1,"auction_state":"collection"}'
        )

    def render(self, event: Event, inst: Instrument) -> list[tuple[str, str]]:
        self._sequence += 1
        time = rfc3339_us(event.ts_event)
        num = self.num
        if isinstance(event, Quote):
            mid = (event.bid + event.ask) / 2
            body = {
                "type": "ticker",
                "sequence": self._sequence,
                "product_id": event.symbol,
                "price": num(mid),
                "open_24h": num(mid),
                "volume_24h": "0",
                "low_24h": num(event.bid),
                "high_24h": num(event.ask),
                "volume_30d": "0",
                "best_bid": num(event.bid),
                "best_bid_size": num(event.bid_size or 0.0),
                "best_ask": num(event.ask),
                "best_ask_size": num(event.ask_size or 0.0),
                "side": "buy",
                "time": time,
                "trade_id": self._trade_id,
                "last_size": "0",
            }
            return [(f"ticker:{event.symbol}", msgspec.json.encode(body).decode())]
        if isinstance(event, Trade):
            self._trade_id += 1
            body = {
                "type": "match",
                "trade_id": self._trade_id,
                "maker_order_id": "ac928c66-ca53-498f-9c13-a110027a60e8",
                "taker_order_id": "132fb6ae-456b-4654-b4e0-d681ac05cea1",
                "side": "sell" if event.side == "buy" else "buy",  # the maker's side
                "size": num(event.size),
                "price": num(event.price),
                "product_id": event.symbol,
                "sequence": self._sequence,
                "time": time,
            }
            return [(f"matches:{event.symbol}", msgspec.json.encode(body).decode())]
        return []

    def rest(self, path: str, query: Mapping[str, str]) -> RestReply | None:
        if path != "/products":
            return None
        rows = [
            {
                "id": i.symbol,
                "base_currency": i.base,
                "quote_currency": i.quote,
                "quote_increment": "0.00001",
                "base_increment": "0.01",
                "display_name": i.symbol.replace("-", "/"),
                "min_market_funds": "1",
                "margin_enabled": False,
                "post_only": False,
                "limit_only": False,
                "cancel_only": False,
                "status": "online",
                "status_message": "",
                "trading_disabled": False,
                "fx_stablecoin": i.base in ("USDT", "DAI"),
                "auction_mode": False,
            }
            for i in self.instruments.values()
        ]
        return RestReply(200, rows)
