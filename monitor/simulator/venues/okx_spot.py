"""OKX v5 spot on the simulator: ``/ws/v5/public`` (``tickers``, ``trades``) for spot pairs.

The websocket protocol is the swap simulator's (:class:`OkxSwapSim`: subscribe acks, errors, the
text ``ping``); quotes are rendered with ``"instType":"SPOT"`` and base-unit sizes, and only
quotes and trades are published (spot has no funding, liquidations or open interest). REST: the
spot instrument list (``/api/v5/public/instruments?instType=SPOT``); no history.
"""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from monitor.instruments import Instrument
from monitor.simulator.base import RestReply
from monitor.simulator.venues.okx_swap import OkxSwapSim
from streams.events import Event, Quote, Trade

__all__ = ["OkxSpotSim"]


class OkxSpotSim(OkxSwapSim):
    """OKX's public websocket for spot pairs and the spot instrument list."""

    venue = "okx-spot"
    serves_history = False

    def render(self, event: Event, inst: Instrument) -> list[tuple[str, str]]:
        if isinstance(event, Trade):
            return super().render(event, inst)
        if isinstance(event, Quote):
            out = []
            for topic, text in super().render(event, inst):
                push = msgspec.json.decode(text)
                for row in push["data"]:
                    row["instType"] = "SPOT"
                out.append((topic, msgspec.json.encode(push).decode()))
            return out
        return []

    def rest(self, path: str, query: Mapping[str, str]) -> RestReply | None:
        if path != "/api/v5/public/instruments":
            return None
        if query.get("instType") != "SPOT":
            return RestReply(400, {"code": "51000", "msg": "Parameter instType error", "data": []})
        rows = [
            {
                "instType": "SPOT",
                "instId": i.symbol,
                "baseCcy": i.base,
                "quoteCcy": i.quote,
                "state": "live",
                "lotSz": "0.000001",
                "minSz": "1",
                "tickSz": "0.0001",
            }
            for i in self.instruments.values()
        ]
        return RestReply(200, {"code": "0", "msg": "", "data": rows})
