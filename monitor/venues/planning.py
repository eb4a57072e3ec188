"""What venue modules share to plan connections and read instrument lists.

Venues differ in how they name a subscription and what a subscribe frame looks like; they agree
on the mechanics: group streams by topic, fill connections up to a limit, batch topics into
subscribe frames, and list perpetual or spot instruments with the same naming
(``BASE-QUOTE-PERP``, ``BASE-QUOTE-SPOT``). A venue module states only its names, frames and
limits, and calls :func:`plan_chunks` (or :func:`one_connection` when a single connection
carries everything).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import msgspec

from monitor.instruments import Instrument, Kind
from monitor.venues.base import Channel, ConnectionPlan, Stream

__all__ = [
    "Topics",
    "connection_plan",
    "frame_matches",
    "json_frame",
    "one_connection",
    "perp",
    "plan_chunks",
    "spot",
    "symbols_of",
    "topics_of",
]

T = TypeVar("T")

#: subscription names, each with the streams it carries, in subscription order
Topics = Sequence[tuple[T, Sequence[Stream]]]


def json_frame(obj: object) -> str:
    """Encode a request as the text of one websocket frame."""
    return msgspec.json.encode(obj).decode()


def symbols_of(streams: Iterable[Stream], channel: Channel) -> list[str]:
    """The sorted distinct symbols of ``channel`` among ``streams`` (``"*"`` left out)."""
    return sorted({s.symbol for s in streams if s.channel == channel and s.symbol != "*"})


def topics_of(
    streams: Iterable[Stream], name: Callable[[Stream], T | None]
) -> list[tuple[T, list[Stream]]]:
    """Group streams by their subscription ``name`` (None: not served), first seen first."""
    by_name: dict[T, list[Stream]] = {}
    for st in streams:
        topic = name(st)
        if topic is not None:
            by_name.setdefault(topic, []).append(st)
    return list(by_name.items())


def connection_plan(
    url: str,
    key: str,
    names: Sequence[T],
    streams: Iterable[Stream],
    per_frame: int,
    frame: Callable[[list[T], int], str],
    preamble: Sequence[str] = (),
) -> ConnectionPlan:
    """One connection subscribing ``names`` in frames of ``per_frame`` after ``preamble``.

    Args:
        url: the websocket URL.
        key: the connection key.
        names: the subscriptions of the connection, in order.
        streams: the streams they carry.
        per_frame: subscriptions per subscribe frame at most.
        frame: builds the subscribe frame of a batch of names and the batch's index.
        preamble: frames sent before the subscribe frames.
    """
    batches = [list(names[j : j + per_frame]) for j in range(0, len(names), per_frame)]
    return ConnectionPlan(
        key=key,
        url=url,
        subscribe=(*preamble, *(frame(batch, k) for k, batch in enumerate(batches))),
        streams=tuple(streams),
    )


def one_connection(
    url: str, key: str, subscribe: Sequence[str], streams: Iterable[Stream]
) -> list[ConnectionPlan]:
    """The plan of a venue that carries every stream on one connection: that connection, or
    none when there is nothing to subscribe."""
    if not subscribe:
        return []
    return [ConnectionPlan(key=key, url=url, subscribe=tuple(subscribe), streams=tuple(streams))]


def plan_chunks(
    url: str,
    key: str,
    topics: Topics[T],
    per_connection: int,
    per_frame: int,
    frame: Callable[[list[T], int], str],
    preamble: Sequence[str] = (),
) -> list[ConnectionPlan]:
    """Split ``topics`` over connections (keys ``<key>-<n>``) of ``per_connection`` each.

    See :func:`connection_plan` for the other arguments.
    """
    plans: list[ConnectionPlan] = []
    for n, i in enumerate(range(0, len(topics), per_connection)):
        chunk = topics[i : i + per_connection]
        plans.append(
            connection_plan(
                url,
                f"{key}-{n}",
                [name for name, _ in chunk],
                (st for _, sts in chunk for st in sts),
                per_frame,
                frame,
                preamble,
            )
        )
    return plans


def frame_matches(frame: str, **fields: str) -> bool:
    """True when ``frame`` is a JSON object with these string ``fields`` (a text test first).

    For the rare control frames a venue sends before it goes away (``VenueSpec.reconnect_on``).
    """
    if not all(f'"{value}"' in frame for value in fields.values()):
        return False
    try:
        msg = msgspec.json.decode(frame)
    except msgspec.DecodeError:
        return False
    return isinstance(msg, dict) and all(msg.get(k) == v for k, v in fields.items())


def perp(
    venue: str,
    symbol: str,
    base: str,
    quote: str,
    *,
    funding_interval_h: float,
    inverse: bool = False,
    contract_size: float = 1.0,
    multiplier: float = 1.0,
) -> Instrument:
    """A perpetual ``BASE-QUOTE-PERP`` (see :class:`~monitor.instruments.Instrument`)."""
    return _listing(
        venue,
        symbol,
        base,
        quote,
        "perp",
        inverse=inverse,
        contract_size=contract_size,
        funding_interval_h=funding_interval_h,
        multiplier=multiplier,
    )


def spot(venue: str, symbol: str, base: str, quote: str) -> Instrument:
    """A spot pair ``BASE-QUOTE-SPOT``."""
    return _listing(venue, symbol, base, quote, "spot")


def _listing(
    venue: str, symbol: str, base: str, quote: str, kind: Kind, **terms: Any
) -> Instrument:
    """An instrument named ``BASE-QUOTE-<KIND>``; ``terms`` are its other fields (contract size,
    funding interval, ...), the instrument's defaults where not given."""
    return Instrument(
        venue=venue,
        symbol=symbol,
        instrument=f"{base}-{quote}-{kind.upper()}",
        base=base,
        quote=quote,
        kind=kind,
        **terms,
    )
