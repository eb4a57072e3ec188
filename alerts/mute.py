"""Muting: silences and inhibition behind one :class:`Muter` interface, composed as stages.

As Alertmanager's ``notify/mute.go`` and ``notify/notify.go``: a :class:`Muter` says whether an
alert is muted; a :class:`MuteStage` drops the alerts its muter mutes (and counts them under the
muter's ``reason``); a :class:`MultiStage` runs stages in order. The dispatcher runs its firing
alerts through ``MultiStage([MuteStage(silencer), MuteStage(inhibitor)])`` when it flushes a group.

- :class:`Silencer` mutes alerts matched by an active silence. Silences live in the store (so
  ``riskmon silence add`` in another process takes effect) and are re-read at most every
  ``refresh_s``.
- :class:`Inhibitor` mutes an alert matched by an inhibition rule's ``target`` while another live
  firing alert matches its ``source`` with equal values of the rule's ``equal`` labels.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from alerts.matchers import matches_all
from alerts.route import LiveAlert
from alerts.rules.model import InhibitRule
from alerts.store import AsyncStore, Silence
from streams.clock import Clock
from streams.units import NS_PER_SECOND

__all__ = ["Inhibitor", "MultiStage", "MuteStage", "Muter", "Silencer", "Stage"]


class Muter(Protocol):
    """Decide whether an alert is muted; ``reason`` names the muter in metrics and answers."""

    @property
    def reason(self) -> str:
        """``"silenced"`` or ``"inhibited"``."""
        ...

    def mutes(self, alert: LiveAlert, now_ns: int) -> bool:
        """Whether ``alert`` is muted at ``now_ns``."""
        ...


class Stage(Protocol):
    """One step a group's alerts pass through before they are notified."""

    def exec(self, alerts: Sequence[LiveAlert], now_ns: int) -> list[LiveAlert]:
        """Return the alerts that go on to the next stage."""
        ...


class MuteStage:
    """Drop the alerts a muter mutes; tell ``on_muted`` the muter's reason for each."""

    def __init__(self, muter: Muter, on_muted: Callable[[str], None] | None = None) -> None:
        self.muter = muter
        self.on_muted = on_muted

    def exec(self, alerts: Sequence[LiveAlert], now_ns: int) -> list[LiveAlert]:
        """Return the alerts the muter does not mute."""
        kept: list[LiveAlert] = []
        for a in alerts:
            if self.muter.mutes(a, now_ns):
                if self.on_muted is not None:
                    self.on_muted(self.muter.reason)
            else:
                kept.append(a)
        return kept


class MultiStage:
    """Run stages in order, each on what the previous one kept."""

    def __init__(self, stages: Sequence[Stage]) -> None:
        self.stages = list(stages)

    def exec(self, alerts: Sequence[LiveAlert], now_ns: int) -> list[LiveAlert]:
        """Return what the last stage kept."""
        out = list(alerts)
        for stage in self.stages:
            out = stage.exec(out, now_ns)
        return out


class Silencer:
    """Mute alerts matched by a silence active at the time asked (silences read from the store).

    Args:
        store: the store the silences live in.
        refresh_s: re-read them at most this often (on the run's clock).
        wall: the clock silences are in force on. ``riskmon silence add`` writes wall-clock
            times, so a run on a scenario clock (the simulator's) passes the wall clock here;
            without it the time asked is used.
    """

    reason = "silenced"

    def __init__(
        self, store: AsyncStore, refresh_s: float = 5.0, wall: Clock | None = None
    ) -> None:
        self.store = store
        self.refresh_ns = int(refresh_s * NS_PER_SECOND)
        self.wall = wall
        self._silences: list[Silence] = []
        self._loaded_ns = -(1 << 62)

    def _at(self, now_ns: int) -> int:
        return self.wall.now_ns() if self.wall is not None else now_ns

    async def refresh(self, now_ns: int, force: bool = False) -> None:
        """Re-read the unexpired silences if the last read is older than ``refresh_s``."""
        if not force and now_ns - self._loaded_ns < self.refresh_ns:
            return
        at = self._at(now_ns)
        self._silences = await self.store.call(lambda: self.store.sync.silences(now_ns=at))
        self._loaded_ns = now_ns

    def mutes(self, alert: LiveAlert, now_ns: int) -> bool:
        """Whether an active silence matches the alert."""
        at = self._at(now_ns)
        return any(
            s.active(at) and matches_all(s.matchers, alert.match_labels) for s in self._silences
        )


class Inhibitor:
    """Mute targets of inhibition rules while a matching source alert fires.

    Args:
        rules: the inhibition rules.
        live: every live firing alert by fingerprint (the dispatcher's view, read at each call).
    """

    reason = "inhibited"

    def __init__(self, rules: Sequence[InhibitRule], live: Mapping[str, LiveAlert]) -> None:
        self.rules = list(rules)
        self.live = live

    def mutes(self, alert: LiveAlert, now_ns: int) -> bool:
        """Whether another firing alert inhibits this one."""
        target = alert.match_labels
        for rule in self.rules:
            if not matches_all(rule.target, target):
                continue
            for src in self.live.values():
                if src.alert.fingerprint == alert.alert.fingerprint:
                    continue
                if not matches_all(rule.source, src.match_labels):
                    continue
                if all(src.match_labels.get(k, "") == target.get(k, "") for k in rule.equal):
                    return True
        return False
