"""Routes and aggregation groups: which receiver gets an alert, and with which other alerts.

As Alertmanager's ``dispatch/route.go``: routes are tried in order; an alert goes to the first
route whose matchers all match its labels (plus ``alertname``), and to later ones too while the
matched route has ``continue``. Within a route, alerts with the same values of the route's
``group_by`` labels form one group (``("...",)`` = every label, i.e. one group per alert), which
is notified as one message.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from alerts.matchers import Matcher, matches_all
from alerts.model import AlertNotice

__all__ = ["GROUP_BY_ALL", "LiveAlert", "Route", "match_labels", "route_groups"]

#: ``group_by`` value that makes every alert its own group
GROUP_BY_ALL = ("...",)


@dataclass(frozen=True, slots=True)
class Route:
    """Send alerts matching ``matchers`` to ``receiver``, grouped by ``group_by``.

    ``group_by=("...",)`` disables grouping (one group per alert). ``continue_`` lets later
    routes match too. Durations are in seconds. ``mute=False`` sends every firing alert, silenced
    or inhibited: routes to Alertmanager, which does its own muting and must never see an alert
    resolved (by its ``endsAt`` running out) while it fires here.
    """

    receiver: str
    matchers: tuple[Matcher, ...] = ()
    group_by: tuple[str, ...] = ("alertname", "asset")
    group_wait_s: float = 30.0
    group_interval_s: float = 300.0
    repeat_interval_s: float = 4 * 3600.0
    send_resolved: bool = True
    continue_: bool = False
    mute: bool = True


@dataclass(slots=True)
class LiveAlert:
    """An alert as the dispatcher holds it: the notice and the labels matchers see."""

    alert: AlertNotice
    match_labels: dict[str, str]  # labels + alertname


def match_labels(rule: str, labels: Mapping[str, str]) -> dict[str, str]:
    """The labels routes, silences and inhibition rules match: the alert's plus ``alertname``."""
    out = dict(labels)
    out["alertname"] = rule
    return out


def route_groups(
    routes: Sequence[Route], labels: Mapping[str, str]
) -> Iterator[tuple[int, Route, str, dict[str, str]]]:
    """Yield ``(route index, route, group key, group labels)`` for every route an alert takes."""
    for ri, route in enumerate(routes):
        if not matches_all(route.matchers, labels):
            continue
        if route.group_by == GROUP_BY_ALL:
            glabels = dict(labels)
        else:
            glabels = {k: labels[k] for k in route.group_by if k in labels}
        key = f"{ri}:{route.receiver}:" + ",".join(f"{k}={v}" for k, v in sorted(glabels.items()))
        yield ri, route, key, glabels
        if not route.continue_:
            break
