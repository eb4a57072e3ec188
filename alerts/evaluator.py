"""The rule evaluator: signals in, alert state changes out. Pure, deterministic, in event time.

For each rule and each alert identity (the series' labels, or the ``on`` labels of a composite
rule) the evaluator keeps the last value of every selected series and walks the Prometheus state
machine, with hysteresis added::

    inactive --condition true--> pending --true for `for`--> FIRING (notice "firing")
    pending --condition false--> inactive (no notice)
    firing --condition false for `keep_firing_for`--> RESOLVED (notice "resolved")

A condition with a ``clear`` threshold latches: it stays true until the value crosses ``clear``.
Texts quote each condition at its most extreme value since it latched (the value that made it
true, never one between ``clear`` and the threshold), and every alert keeps its peak (the most
extreme value since it went pending) and when it was reached; a resolution says what the alert
peaked at and when it cleared instead of re-rendering the firing text with the cleared value.
A condition with ``scale_by`` compares ``value / scale`` with its threshold and ``clear``, the
scale being the latest value of the named label-less signal (1.0 until one arrives): liquidation
USD seen against a whole-market ladder, divided by the covered share. That scaled value (the
whole-market estimate) is what latches, what the extremes and the peak record and the alert's
value; the texts also get ``coverage`` (the scale) and ``estimate``, with ``value`` the USD seen.
Series keep their last value until a new sample arrives (processors emit on change), so time only
moves through sample timestamps and :meth:`AlertEvaluator.on_tick`. Absence rules fire when a
selected series has sent nothing for ``after`` (or none was ever seen since the evaluator started).

The records this walks (alerts, series, peaks) and their snapshot encoding are in
:mod:`alerts.alert_state`. Nothing here does I/O or reads a clock: the same signals give the same
notices, every time.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import Any

from alerts.alert_state import (
    FIRING,
    INACTIVE,
    PENDING,
    AlertState,
    LabelKey,
    RuleState,
    Series,
    more_extreme,
)
from alerts.model import AlertNotice
from alerts.notice_text import resolved_summary, rule_units, scale_fields
from alerts.rules.model import Condition, Rule, RuleSet
from alerts.rules.template import render
from streams.signals import Signal
from streams.units import NS_PER_SECOND

__all__ = ["AlertEvaluator"]

_SNAPSHOT_VERSION = 1

#: a label and the values that a signal's label must have for some rule to select it
Gate = tuple[str, frozenset[str]]


def _value_id(rule: Rule) -> str:
    """The id of the condition whose value is the alert's value (rules with conditions)."""
    return rule.value_from or rule.conditions[0].id


def _gates(rules: Sequence[Rule], refs: list[tuple[int, int]]) -> tuple[Gate, ...]:
    """The labels that every rule condition (or absence) in ``refs`` pins with ``=``, each with
    the values they pin it to: a series whose label is none of them is selected by none.

    A cheap test before the selection (most liquidation series, e.g. ``side="long"`` or
    ``window="1m"``, are selected by no rule of the default pack).
    """
    pinned: list[dict[str, set[str]]] = []
    for ri, ci in refs:
        r = rules[ri]
        if ci >= 0:
            matchers = r.conditions[ci].matchers
        else:
            assert r.absent is not None
            matchers = r.absent.matchers
        eq: dict[str, set[str]] = {}
        for m in matchers:
            if m.op == "=":
                eq.setdefault(m.name, set()).add(m.value)
        pinned.append(eq)
    common = set.intersection(*(set(eq) for eq in pinned)) if pinned else set()
    return tuple((lbl, frozenset(v for eq in pinned for v in eq[lbl])) for lbl in sorted(common))


def _value_condition(rule: Rule) -> Condition:
    """The condition whose value is the alert's value (rules with conditions)."""
    vf = _value_id(rule)
    return next((c for c in rule.conditions if c.id == vf), rule.conditions[0])


class AlertEvaluator:
    """Evaluate rules over a stream of signals, in event time.

    Args:
        rules: a :class:`RuleSet` or a sequence of :class:`Rule`.
        start_ns: event time at which absence rules start counting for series never seen;
            defaults to the timestamp of the first signal or tick.
    """

    def __init__(self, rules: RuleSet | Sequence[Rule], start_ns: int | None = None) -> None:
        self.rules: tuple[Rule, ...] = tuple(rules.rules if isinstance(rules, RuleSet) else rules)
        self._states = [RuleState(r) for r in self.rules]
        self._by_signal: dict[str, list[tuple[int, int]]] = {}
        self._absent: list[int] = []
        for i, r in enumerate(self.rules):
            for j, c in enumerate(r.conditions):
                self._by_signal.setdefault(c.signal, []).append((i, j))
            if r.absent is not None:
                self._by_signal.setdefault(r.absent.signal, []).append((i, -1))
                self._absent.append(i)
        self._gates = {name: _gates(self.rules, refs) for name, refs in self._by_signal.items()}
        # (name, labels as emitted) -> (sorted labels, the (rule, condition) pairs selecting it)
        self._select_cache: dict[tuple[str, LabelKey], tuple[LabelKey, list[tuple[int, int]]]] = {}
        self._scale_names = frozenset(
            c.scale_by for r in self.rules for c in r.conditions if c.scale_by is not None
        )
        self._scales: dict[str, float] = {}
        self.now_ns = 0
        self.start_ns = start_ns
        self.evaluations = 0

    # --- public API ------------------------------------------------------------------------

    def on_signals(self, signals: Iterable[Signal]) -> list[AlertNotice]:
        """Fold signals in (each evaluated at its own timestamp); return the state changes."""
        out: list[AlertNotice] = []
        by_signal = self._by_signal
        gates = self._gates
        scale_names = self._scale_names
        cache = self._select_cache
        for s in signals:
            if s.ts > self.now_ns:
                self.now_ns = s.ts
            if self.start_ns is None:
                self.start_ns = s.ts
            name = s.name
            if name in scale_names:
                self._scales[name] = s.value
            refs = by_signal.get(name)
            if refs is None:
                continue
            labels = s.labels
            for lbl, allowed in gates[name]:
                if labels.get(lbl, "") not in allowed:
                    break  # no rule can select this series
            else:
                # keyed by the labels as emitted (another order of the same labels gets its own
                # entry with the same sorted key), which saves sorting them for every signal
                ckey = (name, tuple(labels.items()))
                cached = cache.get(ckey)
                if cached is None:
                    lkey: LabelKey = tuple(sorted(labels.items()))
                    cached = (lkey, self._select(refs, labels))
                    if len(cache) > 1_000_000:
                        cache.clear()
                    cache[ckey] = cached
                lkey, selected = cached
                for ri, ci in selected:
                    self._update(ri, ci, s, lkey, out)
        return out

    def on_tick(self, now_ns: int) -> list[AlertNotice]:
        """Advance event time to ``now_ns``; run the `for`/`keep_firing_for` and absence timers."""
        if now_ns > self.now_ns:
            self.now_ns = now_ns
        if self.start_ns is None:
            self.start_ns = now_ns
        now = self.now_ns
        out: list[AlertNotice] = []
        for i, st in enumerate(self._states):
            if st.rule.absent is not None:
                continue
            if st.timers:
                for key in sorted(st.timers):
                    a = st.alerts.get(key)
                    if a is not None:
                        self._evaluate(i, st, key, a, now, out)
        for i in self._absent:
            self._evaluate_absent(i, now, out)
        return out

    def active(self) -> list[AlertNotice]:
        """Return a "firing" notice for every alert currently firing (e.g. to re-send)."""
        return [
            self._notice(st.rule, a, "firing", None)
            for st in self._states
            for a in st.alerts.values()
            if a.phase == FIRING
        ]

    def forget(self, fingerprints: Collection[str]) -> int:
        """Make firing alerts with these fingerprints inactive, without a notice; return how many.

        For a restart from a snapshot older than the store's record: the store saw the alert
        resolve after the snapshot was taken, so the evaluator must not hold it as firing. Its
        latches are released too; a condition that still holds fires again (``for`` included).
        """
        n = 0
        for st in self._states:
            for key, a in st.alerts.items():
                if a.phase != FIRING or a.fingerprint not in fingerprints:
                    continue
                a.phase = INACTIVE
                a.inactive_since = None
                for series in a.conds:
                    for s in series.values():
                        s.latched = False
                st.timers.discard(key)
                n += 1
        return n

    def snapshot(self) -> dict[str, Any]:
        """Return the state as a JSON-serialisable dict (see :meth:`restore`)."""
        rules = {st.rule.id: st.encode() for st in self._states if st.alerts}
        return {
            "version": _SNAPSHOT_VERSION,
            "now_ns": self.now_ns,
            "start_ns": self.start_ns,
            "rules": rules,
            "scales": dict(self._scales),
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Load a state produced by :meth:`snapshot`; state of rules no longer loaded is dropped.

        Raises:
            ValueError: the snapshot has an unknown version.
        """
        if state.get("version") != _SNAPSHOT_VERSION:
            raise ValueError(f"unsupported evaluator snapshot version {state.get('version')!r}")
        self.now_ns = int(state["now_ns"])
        start = state.get("start_ns")
        self.start_ns = None if start is None else int(start)
        self._scales = {str(k): float(v) for k, v in state.get("scales", {}).items()}
        by_id = {st.rule.id: st for st in self._states}
        for st in self._states:
            st.alerts.clear()
            st.timers.clear()
        for rid, alerts in state["rules"].items():
            rst = by_id.get(rid)
            if rst is not None:
                rst.decode(alerts)

    # --- internals -------------------------------------------------------------------------

    def _select(self, refs: list[tuple[int, int]], labels: dict[str, str]) -> list[tuple[int, int]]:
        out: list[tuple[int, int]] = []
        for ri, ci in refs:
            r = self.rules[ri]
            if ci < 0:
                assert r.absent is not None
                if r.absent.selects(labels):
                    out.append((ri, ci))
                continue
            if not r.conditions[ci].selects(labels):
                continue
            if r.on is not None and any(lbl not in labels for lbl in r.on):
                continue
            out.append((ri, ci))
        return out

    def _update(self, ri: int, ci: int, s: Signal, lkey: LabelKey, out: list[AlertNotice]) -> None:
        st = self._states[ri]
        rule = st.rule
        if ci < 0:  # absence rule: remember when the series was last seen
            a = st.alerts.get(lkey) or st.new_alert(lkey)
            a.conds[0][()] = Series(s.value, s.ts, False)
            self._evaluate_absent_one(st, lkey, a, s.ts, out)
            return
        key: LabelKey = lkey if rule.on is None else tuple((lbl, s.labels[lbl]) for lbl in rule.on)
        a = st.alerts.get(key) or st.new_alert(key)
        series = a.conds[ci]
        cond = rule.conditions[ci]
        prev = series.get(lkey)
        value = s.value if cond.scale_by is None else s.value / self._scale(cond.scale_by)
        latched = cond.step(prev.latched if prev is not None else False, value)
        extreme = value
        if latched and prev is not None and prev.latched:
            extreme = more_extreme(cond.op, prev.extreme, value)
        if prev is None:
            series[lkey] = Series(value, s.ts, latched, extreme)
        else:
            prev.value, prev.ts, prev.latched, prev.extreme = value, s.ts, latched, extreme
        self._evaluate(ri, st, key, a, s.ts if s.ts > 0 else self.now_ns, out)

    def _scale(self, name: str) -> float:
        """The latest value of a scale signal (1.0 before any; NaN if not positive)."""
        scale = self._scales.get(name, 1.0)
        return scale if scale > 0.0 else float("nan")

    @staticmethod
    def _cond_true(
        cond: Condition, series: dict[LabelKey, Series]
    ) -> tuple[bool, float | None, float | None]:
        """Truth, the current value, and the value for texts (the latched extreme)."""
        best: float | None = None
        text: float | None = None
        hit = False
        for s in series.values():
            if s.latched:
                ext = s.value if s.extreme != s.extreme else s.extreme  # NaN: none recorded
                if not hit:
                    hit, best, text = True, s.value, ext
                else:
                    assert best is not None
                    assert text is not None
                    best = more_extreme(cond.op, best, s.value)
                    text = more_extreme(cond.op, text, ext)
            elif best is None and not hit:
                best = text = s.value
        return hit, best, text

    def _evaluate(
        self,
        ri: int,
        st: RuleState,
        key: LabelKey,
        a: AlertState,
        now: int,
        out: list[AlertNotice],
    ) -> None:
        self.evaluations += 1
        rule = st.rule
        values: dict[str, float] = {}
        texts: dict[str, float] = {}
        truths: list[bool] = []
        for cond, series in zip(rule.conditions, a.conds, strict=True):
            t, v, x = self._cond_true(cond, series)
            truths.append(t)
            if v is not None and x is not None:
                values[cond.id] = v
                texts[cond.id] = x
        active = all(truths) if rule.mode == "all" else any(truths)
        if values:
            a.value = values.get(_value_id(rule), next(iter(values.values())))
            a.texts = texts
        self._advance(st, key, a, active, now, out)

    def _advance(
        self,
        st: RuleState,
        key: LabelKey,
        a: AlertState,
        active: bool,
        now: int,
        out: list[AlertNotice],
    ) -> None:
        rule = st.rule
        if active:
            a.inactive_since = None
            if a.phase == INACTIVE:
                a.phase = PENDING
                a.pending_since = now
                a.peak = None
            self._track_peak(rule, a, now)
            if a.phase == PENDING:
                if now - a.pending_since >= rule.for_ns:
                    a.phase = FIRING
                    a.fired_at = now
                    st.timers.discard(key)
                    out.append(self._notice(rule, a, "firing", None))
                else:
                    st.timers.add(key)
            else:
                st.timers.discard(key)
            return
        if a.phase == PENDING:
            a.phase = INACTIVE
            st.timers.discard(key)
        elif a.phase == FIRING:
            if a.inactive_since is None:
                a.inactive_since = now
            if now - a.inactive_since >= rule.keep_firing_for_ns:
                a.phase = INACTIVE
                st.timers.discard(key)
                out.append(self._notice(rule, a, "resolved", now))
                a.inactive_since = None
            else:
                st.timers.add(key)

    @staticmethod
    def _value_op(rule: Rule) -> str:
        if not rule.conditions:
            return ">"  # absence: seconds of silence
        return _value_condition(rule).op

    def _track_peak(self, rule: Rule, a: AlertState, now: int) -> None:
        v = self._text_value(rule, a)
        if a.peak is None or more_extreme(self._value_op(rule), a.peak, v) != a.peak:
            a.peak, a.peak_at = v, now

    @staticmethod
    def _text_value(rule: Rule, a: AlertState) -> float:
        """The alert's value for texts: its value condition at the latched extreme."""
        if not rule.conditions:
            return a.value
        return a.texts.get(_value_id(rule), a.value)

    def _evaluate_absent_one(
        self, st: RuleState, key: LabelKey, a: AlertState, now: int, out: list[AlertNotice]
    ) -> None:
        self.evaluations += 1
        assert st.rule.absent is not None
        last = a.conds[0].get(())
        since = last.ts if last is not None else (self.start_ns or now)
        silent_ns = max(0, now - since)
        a.value = silent_ns / NS_PER_SECOND
        self._advance(st, key, a, silent_ns >= st.rule.absent.after_ns, now, out)

    def _evaluate_absent(self, ri: int, now: int, out: list[AlertNotice]) -> None:
        st = self._states[ri]
        rule = st.rule
        assert rule.absent is not None
        if not st.alerts:
            # nothing selected was ever seen: one alert labelled with the equality matchers
            key: LabelKey = tuple(
                sorted((m.name, m.value) for m in rule.absent.matchers if m.op == "=")
            )
            st.new_alert(key, {"signal": rule.absent.signal})
        for key in sorted(st.alerts):
            a = st.alerts[key]
            if not a.conds[0] and len(st.alerts) > 1:
                # a "never seen" placeholder, superseded by real series: resolve, then drop it
                if a.phase != INACTIVE:
                    self._advance(st, key, a, False, now, out)
                if a.phase == INACTIVE:
                    del st.alerts[key]
                    st.timers.discard(key)
                continue
            self._evaluate_absent_one(st, key, a, now, out)

    def _notice(
        self,
        rule: Rule,
        a: AlertState,
        status: str,
        ends_at: int | None,
    ) -> AlertNotice:
        units = rule_units(rule)
        peak = a.peak if a.peak is not None else self._text_value(rule, a)
        peak_at = a.peak_at if a.peak is not None else a.fired_at
        if status == "firing":
            fields: dict[str, float] = dict(a.texts)
            fields["value"] = self._text_value(rule, a)
            if rule.conditions:
                fields["threshold"] = _value_condition(rule).threshold
            if rule.absent is not None:
                fields["after"] = rule.absent.after_ns / NS_PER_SECOND
                fields["threshold"] = fields["after"]
            fields["peak"] = peak
            scale_fields(rule, fields, {n: self._scale(n) for n in self._scale_names})
            summary = render(rule.annotations.get("summary", rule.name), a.labels, fields, units)
        else:
            summary = resolved_summary(rule, a.labels, peak, peak_at, ends_at or a.fired_at)
        return AlertNotice(
            status="firing" if status == "firing" else "resolved",
            rule=rule.name,
            severity=rule.severity,
            labels=dict(a.labels),
            value=a.value,
            starts_at=a.fired_at,
            ends_at=ends_at,
            fingerprint=a.fingerprint,
            summary=summary,
            peak=peak,
            peak_at=peak_at,
            unit=units.get("value", ""),
        )
