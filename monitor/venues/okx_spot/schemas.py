"""OKX v5 REST wire schema of spot instruments (``GET /api/v5/public/instruments?instType=SPOT``).

The websocket frames are the swap frames' (:mod:`monitor.venues.okx_swap.schemas`).
"""

from __future__ import annotations

import msgspec

__all__ = ["OkxSpotInstrument", "OkxSpotInstruments"]


class OkxSpotInstrument(msgspec.Struct, frozen=True):
    """A data element: ``{"instType":"SPOT","instId":"USDC-USDT","baseCcy":"USDC",...}``."""

    instId: str
    instType: str
    baseCcy: str = ""
    quoteCcy: str = ""
    state: str = ""  # live, suspend, preopen, ...


class OkxSpotInstruments(msgspec.Struct, frozen=True):
    code: str
    data: list[OkxSpotInstrument]
    msg: str = ""
