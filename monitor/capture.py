"""Capture files: raw frames as received, one JSON object per line.

Format (a public contract): ``{"ts_recv": <int ns>, "venue": "<id>", "frame": "<raw text frame>"}``;
gzip-compressed when the file name ends in ``.gz``. REST bodies polled by the daemon are captured
as frames too, so a replay sees everything the live pipeline saw.

The answers of a start-up backfill (REST klines and open-interest history) carry one more,
optional key, ``"backfill"`` (:class:`BackfillTag`): the request's kind, symbol, asset, unit and
path, the start and end of the history asked for (``since_ns``, 0 for all of it, and
``until_ns``) and how many answers the batch has (``of``). A venue's batch is written as
consecutive lines when it has arrived; ``riskmon replay`` and ``riskmon backtest CAPTURE`` seed
their processors from it by the daemon's rules (:mod:`monitor.replay.backfill`).
"""

from __future__ import annotations

import gzip
import io
import sys
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Literal

import msgspec

__all__ = [
    "BackfillTag",
    "CaptureFormatError",
    "CaptureLine",
    "CaptureWriter",
    "open_capture",
    "open_text",
    "read_frames",
]


class CaptureFormatError(ValueError):
    """A capture file that cannot be read as text: binary data, or a ``.gz`` that is not gzip."""


class BackfillTag(msgspec.Struct, frozen=True):
    """What a captured backfill answer answered (the ``"backfill"`` key of a capture line).

    Attributes:
        kind: ``price`` or ``open_interest``.
        symbol: the venue symbol.
        asset: its base asset, as the daemon's instrument registry had it.
        unit: of open interest: ``usd`` or ``base``.
        path: the request's path and query (no scheme or host).
        since_ns: points at or before this event time were not seeded (0: the whole history).
        of: the number of answers in this venue's batch.
        until_ns: the end of the requests (the run's clock when they were made).
    """

    kind: str
    symbol: str
    asset: str
    unit: str
    path: str
    since_ns: int
    of: int
    until_ns: int = 0


class CaptureLine(msgspec.Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True):
    """One captured frame (``backfill``: set on the answers of a start-up backfill)."""

    ts_recv: int
    venue: str
    frame: str
    backfill: BackfillTag | None = None


_encoder = msgspec.json.Encoder()
_line_decoder = msgspec.json.Decoder(CaptureLine)


def open_text(path: str | Path, mode: str = "r") -> IO[str]:
    """Open a text file, transparently gzip when the name ends in ``.gz``; ``-`` is stdin/stdout."""
    if str(path) == "-":
        return sys.stdin if "r" in mode else sys.stdout
    p = Path(path)
    if p.suffix == ".gz":
        gz_mode: Literal["rt", "wt", "at"] = (
            "rt" if "r" in mode else ("at" if "a" in mode else "wt")
        )
        return gzip.open(p, gz_mode, encoding="utf-8")
    return p.open(mode, encoding="utf-8")


def open_capture(path: str | Path) -> tuple[IO[str], Callable[[], int]]:
    """Open a capture for reading (gzip when the name ends in ``.gz``) with its read position.

    Returns the text stream and a function giving the bytes of the file read so far (of the
    compressed file for ``.gz``): a measure of progress against the file's size.
    """
    p = Path(path)
    raw = p.open("rb")
    if p.suffix == ".gz":
        return io.TextIOWrapper(gzip.GzipFile(fileobj=raw, mode="rb"), encoding="utf-8"), raw.tell
    return io.TextIOWrapper(raw, encoding="utf-8"), raw.tell


class CaptureWriter:
    """Append frames to a capture file. Not thread-safe; call from the event loop only."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open_text(self.path, "w")
        self.lines = 0

    def write(
        self, venue: str, frame: str, ts_recv: int, backfill: BackfillTag | None = None
    ) -> None:
        """Append one frame (``backfill``: the tag of a backfill answer)."""
        line = CaptureLine(ts_recv=ts_recv, venue=venue, frame=frame, backfill=backfill)
        self._fh.write(_encoder.encode(line).decode())
        self._fh.write("\n")
        self.lines += 1

    def flush(self) -> None:
        """Flush buffered lines to the OS."""
        self._fh.flush()

    def close(self) -> None:
        """Flush and close."""
        self._fh.close()


def read_frames(
    fh: IO[str], default_venue: str | None = None, now_ns: int | None = None
) -> Iterator[tuple[int, CaptureLine]]:
    """Yield ``(line_number, CaptureLine)`` from capture lines or bare frames (one per line).

    A bare frame (any line that is not a capture object) gets ``default_venue`` and ``now_ns``
    as its receive time. Blank lines are skipped.

    Raises:
        CaptureFormatError: the file is not UTF-8 text, or not gzip although named ``.gz``.
    """
    lines = _text_lines(fh)
    for n, raw in enumerate(lines, 1):
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        if line.startswith("{") and '"frame"' in line:
            try:
                yield n, _line_decoder.decode(line)
                continue
            except (msgspec.ValidationError, msgspec.DecodeError):
                pass
        yield n, CaptureLine(ts_recv=now_ns or 0, venue=default_venue or "", frame=line)


def _text_lines(fh: IO[str]) -> Iterator[str]:
    """The lines of ``fh``; binary data or a broken gzip stream as :class:`CaptureFormatError`."""
    n = 0
    try:
        for line in fh:
            n += 1
            yield line
    except UnicodeDecodeError as e:
        raise CaptureFormatError(f"line {n + 1}: not UTF-8 text (a binary file?)") from e
    except gzip.BadGzipFile as e:
        raise CaptureFormatError("not a gzip file (the name ends in .gz)") from e
    except (EOFError, zlib.error) as e:
        raise CaptureFormatError(f"line {n + 1}: broken gzip stream ({e})") from e
