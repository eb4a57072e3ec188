"""The wire format of the riskmon topics: versioned msgpack records (msgspec).

Every record value is a msgpack map with a version field ``v`` and a record header
``riskmon-schema`` naming the schema and its version (``events/1``, ``signals/1``,
``checkpoint/1``). Consumers refuse a version they do not know (counted, skipped) rather than
guess. The events inside are the same structs as everywhere else (:mod:`streams.events`), with
the same field names as their JSON form, so a msgpack-to-JSON dump reads like
``riskmon replay --emit events``.

- ``riskmon.events.v1``: key = asset (UTF-8; ``""`` for connection-level feed states, which are
  sent to every partition), value = :class:`EventBatch`: events of one asset, in receive order,
  or (``history`` set, no events) one venue's REST history of the asset, loaded by the feeds at
  start (:mod:`monitor.kafka.history`).
- ``riskmon.frames.v1``: key = venue, value = :class:`FrameRecord` (a capture line).
- ``riskmon.signals.v1``: key = events partition (decimal), value = :class:`SignalBatch`: the
  signals one source record (or one idle tick) produced, with the source offset they cover.
- ``riskmon.checkpoints.v1``: key = events partition, value = :class:`Checkpoint`: a snapshot of
  that partition's processors and the last source offset folded into it.
"""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

from monitor.backfill import Answer
from streams.events import Event
from streams.signals import Signal

__all__ = [
    "SCHEMA_HEADER",
    "Checkpoint",
    "EventBatch",
    "FrameRecord",
    "HistoryRecord",
    "HistoryState",
    "PendingHistory",
    "SchemaError",
    "SignalBatch",
    "checkpoint_record",
    "decode_checkpoint",
    "decode_events",
    "decode_frame",
    "decode_signals",
    "encode",
    "events_record",
    "frame_record",
    "schema_headers",
    "signals_record",
]

#: record header naming the value's schema, e.g. ``events/1``
SCHEMA_HEADER = "riskmon-schema"


class SchemaError(ValueError):
    """A record that is not a known version of the expected schema."""


class HistoryRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One venue's REST history of one asset (price and open interest), as the feeds loaded it.

    Attributes:
        venue: the venue.
        until_ns: the end of the requests (the feeds' clock when it asked).
        answers: the parsed answers, as the single process seeds them
            (:func:`monitor.backfill.seed_answers`).
    """

    venue: str
    until_ns: int
    answers: list[Answer]


class EventBatch(msgspec.Struct, frozen=True, kw_only=True):
    """Events of one asset (version 1).

    Attributes:
        v: schema version (1).
        asset: the asset every event belongs to (``""``: connection-level feed states).
        published_ns: the publisher's wall clock when it sent the record; with the record's
            offset it tells a re-delivery from a new log after the broker lost its data.
        events: the events, in the order the feeds produced them.
        run_ns: when the publishing feeds process started (0: not said); a worker tells from it
            what its windows held before that run (the gap a history fills).
        history: one venue's REST history of ``asset`` (a record without events).
    """

    v: int
    asset: str
    published_ns: int
    events: list[Event]
    run_ns: int = 0
    history: HistoryRecord | None = None


class FrameRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One raw frame (version 1): a capture line."""

    v: int
    ts_recv: int
    venue: str
    frame: str


class SignalBatch(msgspec.Struct, frozen=True, kw_only=True):
    """Signals of one events partition (version 1).

    Attributes:
        v: schema version (1).
        partition: the events partition the signals come from.
        offset: the events offset they cover (-1: an idle tick, tied to no record).
        published_ns: ``published_ns`` of that events record (0 for idle ticks).
        tick_ns: the partition's event time (last engine tick) after processing.
        signals: the signals, in the order the processors emitted them.
    """

    v: int
    partition: int
    offset: int
    published_ns: int
    tick_ns: int
    signals: list[Signal]


class PendingHistory(msgspec.Struct, frozen=True, kw_only=True):
    """A history waiting until the partition's event time has passed ``seed_at_ns``; then its
    points after ``since_ns`` are seeded."""

    since_ns: int
    seed_at_ns: int
    record: HistoryRecord


class HistoryState(msgspec.Struct, kw_only=True):
    """What a partition knows of the feeds' runs and their histories.

    Attributes:
        run_ns: ``run_ns`` of the newest record folded in.
        held_ns: the newest event time the partition held when that run's first record came.
        records_ns: the newest event time of the records folded in.
        pending: histories waiting for event time to pass their gap.
    """

    run_ns: int = 0
    held_ns: int = 0
    records_ns: int = 0
    pending: list[PendingHistory] = msgspec.field(default_factory=list)


class Checkpoint(msgspec.Struct, frozen=True, kw_only=True):
    """A partition's processor state and the source offsets it covers (version 1)."""

    v: int
    partition: int
    offset: int
    published_ns: int
    state: dict[str, Any]
    history: HistoryState = msgspec.field(default_factory=HistoryState)


_V = 1
_encoder = msgspec.msgpack.Encoder()
#: a record value type (each carries its schema version ``v``)
_R = TypeVar("_R", EventBatch, SignalBatch, Checkpoint, FrameRecord)

_events = msgspec.msgpack.Decoder(EventBatch)
_signals = msgspec.msgpack.Decoder(SignalBatch)
_checkpoint = msgspec.msgpack.Decoder(Checkpoint)
_frames = msgspec.msgpack.Decoder(FrameRecord)


def encode(value: EventBatch | SignalBatch | Checkpoint | FrameRecord) -> bytes:
    """Encode a record value as msgpack."""
    return _encoder.encode(value)


def schema_headers(kind: str) -> list[tuple[str, bytes]]:
    """The record headers of a ``kind`` record (``events``, ``signals``, ...)."""
    return [(SCHEMA_HEADER, f"{kind}/{_V}".encode())]


def _decode(decoder: msgspec.msgpack.Decoder[_R], data: bytes | None, kind: str) -> _R:
    if data is None:
        raise SchemaError(f"{kind}: empty record")
    try:
        value = decoder.decode(data)
    except (msgspec.DecodeError, msgspec.ValidationError) as e:
        raise SchemaError(f"{kind}: {e}") from e
    if value.v != _V:
        raise SchemaError(f"{kind}: unknown schema version {value.v}")
    return value


def decode_events(data: bytes | None) -> EventBatch:
    """Decode an events record value (raises :class:`SchemaError`)."""
    return _decode(_events, data, "events")


def decode_signals(data: bytes | None) -> SignalBatch:
    """Decode a signals record value (raises :class:`SchemaError`)."""
    return _decode(_signals, data, "signals")


def decode_checkpoint(data: bytes | None) -> Checkpoint:
    """Decode a checkpoint record value (raises :class:`SchemaError`)."""
    return _decode(_checkpoint, data, "checkpoint")


def decode_frame(data: bytes | None) -> FrameRecord:
    """Decode a frames record value (raises :class:`SchemaError`)."""
    return _decode(_frames, data, "frames")


def events_record(
    asset: str,
    published_ns: int,
    events: list[Event],
    run_ns: int = 0,
    history: HistoryRecord | None = None,
) -> EventBatch:
    """A version-1 events record value."""
    return EventBatch(
        v=_V,
        asset=asset,
        published_ns=published_ns,
        events=events,
        run_ns=run_ns,
        history=history,
    )


def signals_record(
    partition: int, offset: int, published_ns: int, tick_ns: int, signals: list[Signal]
) -> SignalBatch:
    """A version-1 signals record value."""
    return SignalBatch(
        v=_V,
        partition=partition,
        offset=offset,
        published_ns=published_ns,
        tick_ns=tick_ns,
        signals=signals,
    )


def checkpoint_record(
    partition: int,
    offset: int,
    published_ns: int,
    state: dict[str, Any],
    history: HistoryState | None = None,
) -> Checkpoint:
    """A version-1 checkpoint record value."""
    return Checkpoint(
        v=_V,
        partition=partition,
        offset=offset,
        published_ns=published_ns,
        state=state,
        history=history or HistoryState(),
    )


def frame_record(venue: str, frame: str, ts_recv: int) -> FrameRecord:
    """A version-1 frames record value."""
    return FrameRecord(v=_V, ts_recv=ts_recv, venue=venue, frame=frame)
