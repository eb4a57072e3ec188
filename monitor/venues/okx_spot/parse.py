"""Parse OKX v5 public frames of SPOT pairs (``tickers``, ``trades``) into normalized events.

The frames are the swap frames' (same envelope, same ``tickers`` and ``trades`` data), so the
parser is :class:`~monitor.venues.okx_swap.parse.OkxSwapParser` under the ``okx-spot`` venue id;
spot sizes are base units (the instruments' ``contract_size`` is 1). Instruments keep their quote
(``USDC-USDT-SPOT``) so the peg processor chains them through USDT's own USD price.
"""

from __future__ import annotations

from monitor.venues.okx_swap.parse import OkxSwapParser

__all__ = ["VENUE_ID", "OkxSpotParser"]

VENUE_ID = "okx-spot"


class OkxSpotParser(OkxSwapParser):
    """OKX spot pairs (``USDC-USDT``): quotes from ``tickers``, trades from ``trades``."""

    venue = VENUE_ID
