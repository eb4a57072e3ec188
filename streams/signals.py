"""Signals: one metric sample, ``name{labels} = value @ ts``.

The JSON form ``{"name": ..., "labels": {...}, "value": ..., "ts": <int ns>}`` is a public contract
(``riskmon replay --emit signals``), read by other tools.
"""

from __future__ import annotations

import msgspec

__all__ = ["Signal", "encode_signal", "signal_key"]


class Signal(msgspec.Struct, frozen=True, gc=False):
    """One sample of a named, labelled series, in event time (int ns).

    Not tracked by the cyclic garbage collector (``gc=False``): a signal refers only to strings,
    a float, an int and its labels dict, which never refers back to it, so it cannot be part of
    a reference cycle. Every tick creates thousands of them, and tracking them made the
    collector scan the whole heap (every window) every few ticks.
    """

    name: str
    labels: dict[str, str]
    value: float
    ts: int


_encoder = msgspec.json.Encoder()


def encode_signal(signal: Signal) -> bytes:
    """Encode a signal as its JSON line (without the newline)."""
    return _encoder.encode(signal)


def signal_key(signal: Signal) -> tuple[str, tuple[tuple[str, str], ...]]:
    """Return a hashable identity of the series a signal belongs to."""
    return signal.name, tuple(sorted(signal.labels.items()))
