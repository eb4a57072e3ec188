"""Binance's combined-stream protocol, shared by the spot and USD-M futures simulators.

Both speak ``{"method":"SUBSCRIBE"|"UNSUBSCRIBE"|"LIST_SUBSCRIPTIONS","params":[..],"id":..}``
answered with ``{"result":..,"id":..}`` (error codes 2 and 3 as the venue sends them), and wrap
every data frame as ``{"stream":<name>,"data":<payload>}``. A subclass decides which stream names
a session's path serves (:meth:`BinanceStreamsSim.accept`).
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from monitor.simulator.base import SimSession, SimVenue

__all__ = ["BinanceStreamsSim"]

_INVALID_JSON = '{"error":{"code":3,"msg":"Invalid JSON"},"id":null}'
_INVALID_REQUEST = '{"error":{"code":2,"msg":"Invalid request"},"id":null}'


class BinanceStreamsSim(SimVenue):
    """Binance's SUBSCRIBE handshake and ``{"stream":..,"data":..}`` envelope."""

    decimals = 8

    def accept(self, session: SimSession, names: Iterable[object]) -> None:
        """Add the stream ``names`` that ``session`` may receive to its subscriptions."""
        session.subscriptions.update(n for n in names if isinstance(n, str))

    def on_message(self, session: SimSession, text: str) -> list[str]:
        try:
            req = msgspec.json.decode(text)
        except msgspec.DecodeError:
            return [_INVALID_JSON]
        if not isinstance(req, dict) or "method" not in req:
            return [_INVALID_REQUEST]
        rid = req.get("id")
        method = req["method"]
        params = req.get("params") or []
        if method == "SUBSCRIBE":
            self.accept(session, params)
            return [_json({"result": None, "id": rid})]
        if method == "UNSUBSCRIBE":
            session.subscriptions.difference_update(params)
            return [_json({"result": None, "id": rid})]
        if method == "LIST_SUBSCRIPTIONS":
            return [_json({"result": sorted(session.subscriptions), "id": rid})]
        return [_json({"error": {"code": 2, "msg": "Invalid request"}, "id": rid})]

    @staticmethod
    def wrap(stream: str, data: object) -> tuple[str, str]:
        """The ``(topic, frame)`` of ``data`` on ``stream``."""
        return stream, _json({"stream": stream, "data": data})


def _json(body: object) -> str:
    return msgspec.json.encode(body).decode()
