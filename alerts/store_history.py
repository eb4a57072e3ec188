"""Reading the alert history of the store (part of :class:`alerts.store.Store`).

Alerts are returned as :class:`~alerts.model.AlertNotice`; :meth:`HistoryQueries.history` adds
when each alert first fired and last changed (event time), for ``riskmon alerts list``.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from alerts.model import AlertNotice, Status
from alerts.store_schema import where

__all__ = ["AlertHistoryRow", "HistoryQueries"]

_ALERT_COLS = (
    "fingerprint, rule, severity, labels, annotations, status, value, summary, starts_at, ends_at"
)
#: event time of an alert's last state change: its end when resolved, else its (re-)firing
_LAST_CHANGED = "COALESCE(CASE WHEN status='resolved' THEN ends_at END, starts_at)"


@dataclass(frozen=True, slots=True)
class AlertHistoryRow:
    """One stored alert with when it first fired and when its state last changed (event ns)."""

    alert: AlertNotice
    first_fired_ns: int
    last_changed_ns: int


def alert_from_row(row: Sequence[Any]) -> AlertNotice:
    """The :class:`AlertNotice` of a row selected with the store's alert columns."""
    return AlertNotice(
        fingerprint=row[0],
        rule=row[1],
        severity=row[2],
        labels=json.loads(row[3]),
        annotations=json.loads(row[4]),
        status=row[5],
        value=row[6],
        summary=row[7],
        starts_at=row[8],
        ends_at=row[9],
    )


class HistoryQueries:
    """The alert-history reads of the store (mixed into :class:`alerts.store.Store`)."""

    _db: sqlite3.Connection

    def alerts(
        self, status: Status | None = None, limit: int = 100, since_ns: int | None = None
    ) -> list[AlertNotice]:
        """Return stored alerts, most recently updated first (``limit`` -1: all)."""
        cond, args = where([("status=?", status), ("updated_ns>=?", since_ns)])
        q = f"SELECT {_ALERT_COLS} FROM alerts{cond}"  # noqa: S608 - constant column list
        q += " ORDER BY updated_ns DESC, fingerprint LIMIT ?"
        args.append(limit)
        return [alert_from_row(r) for r in self._db.execute(q, args).fetchall()]

    def history(
        self,
        *,
        status: Status | None = None,
        rules: Sequence[str] = (),
        severities: Sequence[str] = (),
        labels: Mapping[str, str] | None = None,
        since_ns: int | None = None,
        until_ns: int | None = None,
        limit: int = 50,
    ) -> list[AlertHistoryRow]:
        """Stored alerts whose last change lies in [since, until], most recent change first.

        ``rules`` and ``severities`` match any of the values given; every label of ``labels``
        must be equal. ``first_fired_ns`` is the earliest firing still in the history.
        """
        where: list[str] = []
        args: list[Any] = []
        if status is not None:
            where.append("status=?")
            args.append(status)
        for column, values in (("rule", rules), ("severity", severities)):
            if values:
                where.append(f"{column} IN ({','.join('?' * len(values))})")
                args.extend(values)
        for key, value in (labels or {}).items():
            where.append("json_extract(labels, ?) = ?")
            args += [f'$."{key}"', value]
        if since_ns is not None:
            where.append(f"{_LAST_CHANGED} >= ?")
            args.append(since_ns)
        if until_ns is not None:
            where.append(f"{_LAST_CHANGED} <= ?")
            args.append(until_ns)
        q = (
            f"SELECT {_ALERT_COLS}, {_LAST_CHANGED},"  # noqa: S608 - constant columns
            " (SELECT MIN(e.starts_at) FROM alert_events e"
            "  WHERE e.fingerprint=alerts.fingerprint AND e.status='firing')"
            " FROM alerts"
        )
        if where:
            q += " WHERE " + " AND ".join(where)
        q += f" ORDER BY {_LAST_CHANGED} DESC, fingerprint LIMIT ?"
        args.append(limit)
        out: list[AlertHistoryRow] = []
        for r in self._db.execute(q, args).fetchall():
            a = alert_from_row(r)
            first = r[11] if r[11] is not None else a.starts_at
            out.append(AlertHistoryRow(a, min(first, a.starts_at), int(r[10])))
        return out

    def alert(self, fingerprint_prefix: str) -> AlertNotice | None:
        """Return the alert whose fingerprint starts with the given prefix (unique), if any."""
        rows = self._db.execute(
            f"SELECT {_ALERT_COLS} FROM alerts WHERE fingerprint LIKE ? LIMIT 2",  # noqa: S608
            (fingerprint_prefix.replace("%", "") + "%",),
        ).fetchall()
        return alert_from_row(rows[0]) if len(rows) == 1 else None

    def alerts_by_fingerprint(self, fingerprints: Sequence[str]) -> list[AlertNotice]:
        """Return the stored alerts with these fingerprints (any status)."""
        out: list[AlertNotice] = []
        for i in range(0, len(fingerprints), 500):
            chunk = list(fingerprints[i : i + 500])
            q = f"SELECT {_ALERT_COLS} FROM alerts WHERE fingerprint IN"  # noqa: S608
            q += f" ({','.join('?' * len(chunk))})"
            out += [alert_from_row(r) for r in self._db.execute(q, chunk).fetchall()]
        return out

    def alert_events(self, fingerprint: str) -> list[dict[str, Any]]:
        """Return the state changes recorded for one alert, oldest first."""
        rows = self._db.execute(
            "SELECT status, value, summary, starts_at, ends_at, recorded_ns FROM alert_events"
            " WHERE fingerprint=? ORDER BY id",
            (fingerprint,),
        ).fetchall()
        keys = ("status", "value", "summary", "starts_at", "ends_at", "recorded_ns")
        return [dict(zip(keys, r, strict=True)) for r in rows]

    def live_alerts(self, resolved_since_ns: int) -> list[AlertNotice]:
        """Return firing alerts, and alerts resolved since ``resolved_since_ns`` (for restart)."""
        rows = self._db.execute(
            f"SELECT {_ALERT_COLS} FROM alerts WHERE status='firing'"  # noqa: S608
            " OR (status='resolved' AND updated_ns>=?) ORDER BY first_seen_ns, fingerprint",
            (resolved_since_ns,),
        ).fetchall()
        return [alert_from_row(r) for r in rows]
