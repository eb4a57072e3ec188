"""OKX v5 spot [okx-spot]: stablecoin books (USDC, DAI, USDe, PYUSD, USDS vs USDT; USDT vs USD).

Channels on ``/ws/v5/public`` (docs: OKX v5 API, "Market data → WebSocket → tickers" and
"trades"): quotes from ``tickers`` (best bid/ask, sizes in base units for spot), trades from
``trades``. Same connection plan, subscribe handshake and keep-alive as ``okx-swap`` (the text
``ping`` after 25 s without a frame). The USDT-quoted books are relative prices: the instrument
keeps USDT as quote (``USDC-USDT-SPOT``) and the peg processor converts it through USDT's own USD
deviation (``peg_via_rate{coin,venue,via="USDT"}``). ``USDT-USD`` is a USD book of USDT itself.
``USDS-USDT`` is Sky's USDS (the DAI successor, 2024), one of USDS's quorum venues (see SOURCES.md).
"""

from __future__ import annotations

import msgspec

from monitor.instruments import Instrument
from monitor.venues.base import Heartbeat, VenueEndpoints, VenueSpec
from monitor.venues.okx_spot.parse import VENUE_ID, OkxSpotParser
from monitor.venues.okx_spot.schemas import OkxSpotInstruments
from monitor.venues.okx_swap import plan_connections, requests_reconnect
from monitor.venues.planning import spot

__all__ = ["VENUE", "OkxSpotParser", "parse_instruments"]

_instruments_decoder = msgspec.json.Decoder(OkxSpotInstruments, strict=False)


def parse_instruments(body: bytes) -> list[Instrument]:
    """Read live spot pairs from ``GET /api/v5/public/instruments?instType=SPOT``."""
    info = _instruments_decoder.decode(body)
    return [
        spot(VENUE_ID, i.instId, i.baseCcy, i.quoteCcy)
        for i in info.data
        if i.instType == "SPOT" and i.baseCcy and i.quoteCcy and i.state in ("live", "")
    ]


VENUE = VenueSpec(
    venue=VENUE_ID,
    kind="spot",
    endpoints=VenueEndpoints(ws="wss://ws.okx.com:8443", rest="https://www.okx.com"),
    heartbeat=Heartbeat(interval_s=25.0, message="ping", idle_only=True),
    channels=("trades", "quotes"),
    default_symbols=("USDC-USDT", "DAI-USDT", "USDE-USDT", "PYUSD-USDT", "USDS-USDT", "USDT-USD"),
    plan=plan_connections,
    make_parser=OkxSpotParser,
    instruments_url="/api/v5/public/instruments?instType=SPOT",
    parse_instruments=parse_instruments,
    quiet_s={"quotes": 60.0, "trades": 600.0},
    reconnect_on=requests_reconnect,
    notes=(
        "Spot only, USDT-quoted (relative pegs): converted through USDT's USD deviation. "
        "No funding, liquidations or open interest on spot."
    ),
)
