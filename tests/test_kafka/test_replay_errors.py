"""``riskmon replay --bus kafka`` on input that is not a capture: one line, exit 2, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.kafka.local_broker import LocalBroker
from tests.test_kafka.conftest import Cluster


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("data.bin", b"\x89PNG\r\n" + bytes(range(256)) * 8, ("data.bin", "not UTF-8")),
        ("capture.jsonl.gz", b"plain text, not gzip\n" * 10, ("capture.jsonl.gz", "not a gzip")),
        ("notes.txt", b"hello world\n" * 50, ("no events in", "notes.txt", "50 skipped")),
        ("empty.jsonl", b"", ("no events in", "empty.jsonl", "0 frames")),
    ],
)
def test_replay_to_kafka_of_a_file_that_is_no_capture(
    tmp_path: Path, broker: LocalBroker, name: str, content: bytes, words: tuple[str, ...]
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    p = Cluster(tmp_path, broker).replay(path)
    assert p.returncode == 2, p.stderr
    assert "Traceback" not in p.stderr
    lines = [x for x in p.stderr.splitlines() if x.startswith("riskmon: error: ")]
    assert len(lines) == 1, p.stderr
    assert not [x for x in p.stderr.splitlines() if x.startswith("line ")]  # no skip reports
    for w in words:
        assert w in lines[0], lines[0]
