"""The worker's record hand-over skips faust's per-record race only when it cannot wait.

On a real faust app built by ``build_app`` (no broker needed): the consumer's guard must be false
whenever the conductor's hand-over could wait (suspended flow, flow control off, a full stream
queue), since then faust's race is what abandons a hand-over at a rebalance.
"""

from __future__ import annotations

import hashlib
import inspect
from pathlib import Path
from typing import Any

import faust.transport.consumer as faust_consumer

from monitor.kafka.settings import KafkaBusSettings
from monitor.kafka.worker import FAUST_DRAIN_LOOP_SHA256, build_app


async def test_handover_guard_follows_flow_and_queue_room(tmp_path: Path) -> None:
    app: Any
    app, _ = build_app(KafkaBusSettings(kind="kafka", brokers=["127.0.0.1:1"]), tmp_path)
    consumer = app.consumer
    assert not consumer._handover_cannot_block()  # flow control is off until an assignment
    app.flow_control.resume()
    assert consumer._handover_cannot_block()

    channel = app.topic("events", value_serializer="raw").clone(is_iterator=True)
    app.topics.add(channel)
    queue = channel.queue
    while not queue.full():
        queue.put_nowait(object())
    assert not consumer._handover_cannot_block()  # a full stream queue: put would wait
    queue.get_nowait()
    assert consumer._handover_cannot_block()

    consumer.stop_flow()  # what a rebalance does first
    assert not consumer._handover_cannot_block()
    consumer.resume_flow()
    assert consumer._handover_cannot_block()

    app.flow_control.suspend()
    assert not consumer._handover_cannot_block()


def test_drain_loop_follows_the_installed_faust() -> None:
    """Our ``_drain_messages`` is faust's with one change; a faust whose loop differs from the
    one it was copied from fails here, so that the copy is reviewed before it runs."""
    source = inspect.getsource(faust_consumer.Consumer._drain_messages)
    assert hashlib.sha256(source.encode()).hexdigest() == FAUST_DRAIN_LOOP_SHA256
