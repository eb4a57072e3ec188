"""The instrument snapshots packaged with the venue modules: they load, are consistent, agree
with their SOURCES.md and with the contract sizes the venues document."""

from __future__ import annotations

import re
from importlib import resources

import pytest

from monitor.instruments import Instrument
from monitor.venues import VENUE_MODULES, get_venue, packaged_instruments, venue_ids

_SUFFIX = {"perp": "PERP", "spot": "SPOT", "future": "FUT"}
#: "lists 445 perpetuals", "holds the 6 perpetuals", "(7 pairs, ...": the first count of a
#: SOURCES.md is the number of instruments its snapshot holds
_COUNT = re.compile(r"(\d+) (?:perpetuals|perps|swaps|pairs)\b")


def _sources(venue: str) -> str:
    """The venue's SOURCES.md, whitespace folded (line breaks do not matter)."""
    res = resources.files(f"monitor.venues.{VENUE_MODULES[venue]}").joinpath("SOURCES.md")
    return " ".join(res.read_text().split()) if res.is_file() else ""


def _by_symbol(venue: str) -> dict[str, Instrument]:
    return {i.symbol: i for i in packaged_instruments(venue)}


@pytest.mark.parametrize("venue", venue_ids())
def test_snapshot_loads_and_is_consistent(venue: str) -> None:
    """One row per symbol, of the venue's kind, named BASE-QUOTE-KIND, sizes positive, inverse
    contracts only against USD."""
    insts = packaged_instruments(venue)
    assert insts, venue
    assert len({i.symbol for i in insts}) == len(insts)
    kind = {"derivatives": "perp", "spot": "spot"}[get_venue(venue).kind]
    for i in insts:
        assert (i.venue, i.kind) == (venue, kind), i
        assert i.instrument == f"{i.base}-{i.quote}-{_SUFFIX[i.kind]}", i
        assert i.contract_size > 0, i
        assert i.multiplier >= 1, i
        assert not i.inverse or i.quote == "USD", i


@pytest.mark.parametrize("venue", venue_ids())
def test_sources_md_states_the_snapshot_count(venue: str) -> None:
    """Each snapshot has a SOURCES.md whose count is the snapshot's."""
    text = _sources(venue)
    m = _COUNT.search(text)
    assert m is not None, f"{venue}: SOURCES.md missing or without a count"
    assert int(m.group(1)) == len(packaged_instruments(venue)), venue


def test_hyperliquid_snapshot_is_the_recorded_universe_less_the_delisted() -> None:
    """220 coins in the recorded meta, 37 delisted: 183 perps, each read as the venue's own
    deriver reads its name (USDC-margined, sizes in coins, ``k`` = 1000)."""
    text = _sources("hyperliquid")
    assert "220 coins, 37 of them `isDelisted`" in text
    insts = packaged_instruments("hyperliquid")
    assert len(insts) == 220 - 37
    derive = get_venue("hyperliquid").derive_instrument
    assert derive is not None
    assert all(derive(i.symbol) == i for i in insts)
    pepe = _by_symbol("hyperliquid")["kPEPE"]
    assert (pepe.base, pepe.multiplier) == ("PEPE", 1000.0)


def test_okx_snapshot_has_the_recorded_rows_and_documented_contract_values() -> None:
    """40 inverse + 129 linear rows; the contract values OKX documents: BTC-USDT-SWAP 0.01 BTC,
    BTC-USD-SWAP 100 USD, LTC-USD-SWAP 10 USD (the docs' instruments example), IOST-USDT-SWAP
    1000 IOST (the docs' liquidation example)."""
    insts = _by_symbol("okx-swap")
    assert "40 inverse" in _sources("okx-swap")
    assert "129 linear" in _sources("okx-swap")
    assert sum(i.inverse for i in insts.values()) == 40
    assert sum(not i.inverse for i in insts.values()) == 129
    expected = {
        "BTC-USDT-SWAP": (0.01, False),
        "BTC-USD-SWAP": (100.0, True),
        "LTC-USD-SWAP": (10.0, True),
        "IOST-USDT-SWAP": (1000.0, False),
    }
    assert {s: (insts[s].contract_size, insts[s].inverse) for s in expected} == expected
    # a contract converts as the venue states it: 3 BTC-USD-SWAP contracts are 300 USD
    size, notional = insts["BTC-USD-SWAP"].size_and_notional(3, 100_000.0)
    assert size == pytest.approx(0.003)
    assert notional == 300.0


def test_binance_usdm_snapshot_has_the_sources_usdt_count() -> None:
    """The recorded list held 442 USDT perpetuals (its own header); bundles keep the coin."""
    insts = _by_symbol("binance-usdm")
    assert "442 USDT-margined perpetuals" in _sources("binance-usdm")
    assert sum(i.quote == "USDT" for i in insts.values()) == 442
    assert (insts["1000PEPEUSDT"].base, insts["1000PEPEUSDT"].multiplier) == ("PEPE", 1000.0)


def test_bitmex_contract_values_are_the_documented_ones() -> None:
    """XBTUSD: one contract is 1 USD (inverse); XBTUSDT: 0.000001 XBT (linear)."""
    insts = _by_symbol("bitmex")
    assert (insts["XBTUSD"].contract_size, insts["XBTUSD"].inverse) == (1.0, True)
    assert (insts["XBTUSDT"].contract_size, insts["XBTUSDT"].inverse) == (1e-6, False)
