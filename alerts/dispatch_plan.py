"""The store side of a dispatcher flush (:mod:`alerts.dispatch`): what one due group's flush
writes, and the writing of every due group's plan in one visit of the store thread.

Pure data and store calls; the decisions are the dispatcher's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from alerts.model import AlertNotice, decode_notification
from alerts.store import Store

__all__ = ["FlushPlan", "Send", "carried_resolutions", "write_plans"]


@dataclass(slots=True)
class Send:
    """A notification a flush writes to the outbox (with its group's nflog entry)."""

    receiver: str
    key: str
    priority: int
    payload: str
    firing_fps: frozenset[str]
    seq: int
    urgency: int
    firing: int
    resolved: int


@dataclass(slots=True)
class FlushPlan:
    """What the flush of one due group writes: a notification, an nflog update, or nothing."""

    receiver: str
    group_key: str
    resolved: list[AlertNotice]
    send: Send | None = None
    forget: tuple[frozenset[str], int] | None = None  # (still notified, seq) without sending


def write_plans(
    sync: Store, plans: Sequence[FlushPlan], now: int
) -> tuple[list[tuple[bool, int] | None], Exception | None]:
    """Write the plans in order on the store thread, each notification in its own transaction.

    Returns the result of each plan written (None: no notification) and the error that stopped
    the rest, if one did: the groups written keep their new state, the others are flushed again.
    """
    out: list[tuple[bool, int] | None] = []
    try:
        for p in plans:
            s = p.send
            if s is not None:
                out.append(
                    sync.enqueue_notification(
                        s.receiver,
                        p.group_key,
                        s.key,
                        s.priority,
                        s.payload,
                        s.firing_fps,
                        s.seq,
                        now,
                    )
                )
                continue
            if p.forget is not None:
                sync.update_nflog(p.receiver, p.group_key, *p.forget)
            out.append(None)
    except Exception as e:  # e.g. a full disk
        return out, e
    return out, None


def carried_resolutions(
    payloads: list[str], firing: frozenset[str], resolved: list[AlertNotice]
) -> list[AlertNotice]:
    """Resolutions in the group's still-pending notifications, which the new one supersedes.

    Without them a receiver that was down would never hear that those alerts ended.
    """
    seen = firing | {a.fingerprint for a in resolved}
    out: list[AlertNotice] = []
    for p in payloads:
        for a in decode_notification(p).alerts:
            if a.status == "resolved" and a.fingerprint not in seen:
                seen = seen | {a.fingerprint}
                out.append(a)
    return out
