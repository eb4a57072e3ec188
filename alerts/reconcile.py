"""Start-up reconciliation: the store's firing alerts, the evaluator and the receivers agree.

After any stop (clean, SIGKILL, a snapshot missing, unreadable or from an older version, a rule
removed from the pack) the evaluator restored from its snapshot and the store may disagree.
:func:`plan` compares them once, at :meth:`alerts.service.AlertService.start`:

- an alert firing in the store that the evaluator does not hold is **resolved** (its resolution
  is stored and notified like any other, so a receiver that was told it fires hears once that it
  ended);
- an alert the evaluator holds as firing that the store does not record as firing is
  **announced**, unless the store recorded its resolution *after* the evaluator's firing (the
  snapshot predates the resolution): then the evaluator **forgets** it instead;
- a ``riskmon_notifier_broken`` meta-alert firing in the store marks its receiver as broken
  again (its next success resolves the alert; its pending rows are retried at once, since a
  restart is often what a fixed configuration needs); for a receiver no longer configured the
  meta-alert is resolved.

Pure: no I/O; the service reads the store and applies the plan.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from alerts.dispatch import META_RULE
from alerts.model import AlertNotice

__all__ = ["Reconciliation", "plan", "resolution"]


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """What start-up changes so that store, evaluator and receivers agree."""

    resolve: list[AlertNotice] = field(default_factory=list)
    announce: list[AlertNotice] = field(default_factory=list)
    forget: list[str] = field(default_factory=list)
    broken_receivers: list[str] = field(default_factory=list)

    def notices(self) -> list[AlertNotice]:
        """The notices to submit: resolutions first, then announcements."""
        return self.resolve + self.announce


def resolution(alert: AlertNotice, now_ns: int) -> AlertNotice:
    """The resolution of a stored firing alert, ending at ``now_ns`` (never before it began)."""
    return AlertNotice(
        status="resolved",
        rule=alert.rule,
        severity=alert.severity,
        labels=dict(alert.labels),
        value=alert.value,
        starts_at=alert.starts_at,
        ends_at=max(now_ns, alert.starts_at),
        fingerprint=alert.fingerprint,
        summary=alert.summary,
        annotations=dict(alert.annotations),
    )


def plan(
    stored_firing: Sequence[AlertNotice],
    stored_held: Sequence[AlertNotice],
    held: Sequence[AlertNotice],
    receivers: Collection[str],
    now_ns: int,
) -> Reconciliation:
    """Compare the store with the evaluator.

    Args:
        stored_firing: every alert firing in the store.
        stored_held: the store's rows (any status) of the alerts in ``held``.
        held: the evaluator's firing alerts (:meth:`AlertEvaluator.active`).
        receivers: the configured receiver names.
        now_ns: when the resolutions end (the restart).
    """
    out = Reconciliation()
    held_fps = {a.fingerprint for a in held}
    for a in stored_firing:
        if a.rule == META_RULE:
            receiver = a.labels.get("receiver", "")
            if receiver in receivers:
                out.broken_receivers.append(receiver)
            else:
                out.resolve.append(resolution(a, now_ns))
        elif a.fingerprint not in held_fps:
            out.resolve.append(resolution(a, now_ns))
    rows = {a.fingerprint: a for a in stored_held}
    for a in held:
        row = rows.get(a.fingerprint)
        if row is not None and row.status == "firing":
            continue
        if row is not None and row.ends_at is not None and row.ends_at >= a.starts_at:
            out.forget.append(a.fingerprint)  # the store saw this firing end after the snapshot
        else:
            out.announce.append(a)
    return out
