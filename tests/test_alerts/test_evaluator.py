"""Tests for the event-time alert evaluator."""

from __future__ import annotations

import io
import json

from alerts.evaluator import AlertEvaluator
from alerts.model import AlertNotice
from alerts.notify.console import write_notices
from alerts.rules import fingerprint, load_rules_text
from streams.signals import Signal

S = 1_000_000_000
T0 = 1_763_700_000 * S

RULES = """\
rules:
  - name: liq
    signal: liq_usd
    match: {asset: all, window: 1h}
    op: ">="
    for: 2m
    keep_firing_for: 1m
    annotations: {summary: "liq {value_h} >= {threshold_h} ({asset})"}
    levels:
      - {level: warning, threshold: 100, clear: 50}
  - name: event
    level: critical
    on: [asset]
    all_of:
      - {id: z, signal: liq_burst_z, op: ">=", threshold: 3.5, clear: 2}
      - {id: oi, signal: oi_drawdown_pct, op: "<=", threshold: -25}
    value_from: oi
    annotations: {summary: "{asset} z={z:.1f} oi={oi:.0f}%"}
"""

ABSENT = """\
rules:
  - name: silent
    level: warning
    absent: {signal: price_ref, after: 5m}
    annotations: {summary: "{asset} silent {value:.0f}s"}
"""


def liq(v: float, t: int) -> Signal:
    return Signal("liq_usd", {"asset": "all", "window": "1h"}, v, t)


def make(text: str = RULES) -> AlertEvaluator:
    return AlertEvaluator(load_rules_text(text))


def test_for_duration_delays_firing_until_condition_held() -> None:
    """An alert fires only once its condition has held for `for`, at that event time."""
    ev = make()
    assert ev.on_signals([liq(150, T0)]) == []
    assert ev.on_tick(T0 + 119 * S) == []
    out = ev.on_tick(T0 + 120 * S)
    assert [(n.status, n.rule, n.severity, n.starts_at) for n in out] == [
        ("firing", "liq", "warning", T0 + 120 * S)
    ]
    assert out[0].summary == "liq $150 >= $100 (all)"
    assert out[0].fingerprint == fingerprint("liq", out[0].labels)


def test_pending_alert_that_clears_never_fires() -> None:
    """A condition that stops holding during `for` produces no notice."""
    ev = make()
    ev.on_signals([liq(150, T0)])
    assert ev.on_signals([liq(10, T0 + 60 * S)]) == []
    assert ev.on_tick(T0 + 600 * S) == []


def test_hysteresis_keeps_alert_until_clear_threshold() -> None:
    """Between the clear and fire thresholds a firing alert stays firing."""
    ev = make()
    ev.on_signals([liq(150, T0)])
    ev.on_tick(T0 + 120 * S)
    assert ev.on_signals([liq(60, T0 + 130 * S)]) == []
    assert ev.on_tick(T0 + 1000 * S) == []
    assert ev.on_signals([liq(40, T0 + 1001 * S)]) == []  # keep_firing_for starts now
    out = ev.on_tick(T0 + 1061 * S)
    assert [(n.status, n.ends_at, n.value) for n in out] == [("resolved", T0 + 1061 * S, 40.0)]


def test_keep_firing_for_absorbs_a_brief_dip() -> None:
    """A dip shorter than keep_firing_for does not resolve the alert."""
    ev = make()
    ev.on_signals([liq(150, T0)])
    ev.on_tick(T0 + 120 * S)
    ev.on_signals([liq(10, T0 + 200 * S)])
    assert ev.on_signals([liq(150, T0 + 230 * S)]) == []
    assert ev.on_tick(T0 + 400 * S) == []
    assert [n.status for n in ev.active()] == ["firing"]


def test_composite_joins_conditions_on_shared_labels() -> None:
    """A composite fires per asset only when all its conditions hold for that asset."""
    ev = make()
    out = ev.on_signals(
        [
            Signal("liq_burst_z", {"asset": "BTC"}, 5.0, T0),
            Signal("oi_drawdown_pct", {"asset": "ETH"}, -30.0, T0),
        ]
    )
    assert out == []
    out = ev.on_signals([Signal("oi_drawdown_pct", {"asset": "BTC"}, -30.0, T0 + S)])
    assert [(n.rule, n.labels, n.value, n.summary) for n in out] == [
        ("event", {"asset": "BTC", "severity": "critical"}, -30.0, "BTC z=5.0 oi=-30%")
    ]


def test_composite_condition_latches_until_its_clear_threshold() -> None:
    """A composite condition with `clear` stays true between clear and threshold."""
    ev = make()
    ev.on_signals([Signal("liq_burst_z", {"asset": "BTC"}, 5.0, T0)])
    ev.on_signals([Signal("oi_drawdown_pct", {"asset": "BTC"}, -30.0, T0)])
    assert ev.on_signals([Signal("liq_burst_z", {"asset": "BTC"}, 2.5, T0 + S)]) == []
    out = ev.on_signals([Signal("liq_burst_z", {"asset": "BTC"}, 1.0, T0 + 2 * S)])
    assert [n.status for n in out] == ["resolved"]


def test_absence_rule_fires_for_a_silent_series_and_resolves_on_data() -> None:
    """A series silent for `after` fires; a new sample resolves it."""
    ev = make(ABSENT)
    ev.on_signals([Signal("price_ref", {"asset": "BTC"}, 1.0, T0)])
    assert ev.on_tick(T0 + 299 * S) == []
    out = ev.on_tick(T0 + 300 * S)
    assert [(n.rule, n.labels["asset"], n.summary) for n in out] == [
        ("silent", "BTC", "BTC silent 300s")
    ]
    out = ev.on_signals([Signal("price_ref", {"asset": "BTC"}, 1.0, T0 + 301 * S)])
    assert [n.status for n in out] == ["resolved"]


def test_absence_rule_fires_when_nothing_was_ever_seen() -> None:
    """With no selected series at all, the absence rule fires after `after` from start."""
    ev = make(ABSENT)
    ev.on_tick(T0)
    out = ev.on_tick(T0 + 301 * S)
    assert [(n.rule, n.labels.get("signal")) for n in out] == [("silent", "price_ref")]


def test_same_stream_gives_same_notices_and_restore_continues_identically() -> None:
    """Replays are deterministic, and a restored snapshot continues exactly as the original."""
    stream = [liq(150, T0), Signal("liq_burst_z", {"asset": "BTC"}, 5.0, T0 + S)]
    later = [Signal("oi_drawdown_pct", {"asset": "BTC"}, -30.0, T0 + 2 * S), liq(10, T0 + 200 * S)]

    def run(restart: bool) -> list[AlertNotice]:
        ev = make()
        out = ev.on_signals(stream)
        out += ev.on_tick(T0 + 130 * S)
        if restart:
            snap = json.loads(json.dumps(ev.snapshot()))
            ev = make()
            ev.restore(snap)
        out += ev.on_signals(later)
        out += ev.on_tick(T0 + 400 * S)
        return out

    plain, restarted = run(False), run(True)
    assert plain == restarted
    assert [(n.rule, n.status) for n in plain] == [
        ("liq", "firing"),
        ("event", "firing"),
        ("liq", "resolved"),
    ]


def test_console_notifier_writes_the_contract_json_line() -> None:
    """The console notifier prints exactly the issue's JSON shape, one line per notice."""
    ev = make()
    ev.on_signals([liq(150, T0)])
    notices = ev.on_tick(T0 + 120 * S)
    buf = io.StringIO()
    assert write_notices(notices, buf) == 1
    line = buf.getvalue()
    assert line.endswith("\n")
    obj = json.loads(line)
    assert list(obj) == [
        "status",
        "rule",
        "severity",
        "labels",
        "value",
        "starts_at",
        "ends_at",
        "fingerprint",
        "summary",
    ]
    assert obj["ends_at"] is None
    assert obj["starts_at"] == T0 + 120 * S


def test_never_seen_absence_alert_resolves_when_data_arrives() -> None:
    """The "nothing ever seen" absence alert resolves once a selected series shows up."""
    ev = make(ABSENT)
    ev.on_tick(T0)
    assert [n.status for n in ev.on_tick(T0 + 301 * S)] == ["firing"]
    ev.on_signals([Signal("price_ref", {"asset": "ETH"}, 1.0, T0 + 302 * S)])
    out = ev.on_tick(T0 + 303 * S)
    assert [(n.status, n.labels.get("signal")) for n in out] == [("resolved", "price_ref")]
    assert ev.active() == []


GATED = """\
rules:
  - name: short
    signal: liq_usd
    match: {side: all, window: 5m}
    op: ">="
    annotations: {summary: "{asset} 5m"}
    levels:
      - {level: warning, threshold: 100}
  - name: long
    signal: liq_usd
    match: {side: all, window: 1h, asset: all}
    op: ">="
    annotations: {summary: "{asset} 1h"}
    levels:
      - {level: warning, threshold: 100}
  - name: any_window
    signal: liq_count
    match: {side: all}
    op: ">="
    annotations: {summary: "{asset} {window} count"}
    levels:
      - {level: warning, threshold: 5}
  - name: one_window
    signal: liq_count
    match: {window: 1m}
    op: ">="
    annotations: {summary: "{asset} {window} count"}
    levels:
      - {level: warning, threshold: 5}
"""


def test_series_selected_by_some_rule_are_evaluated_and_the_rest_skipped() -> None:
    """Labels every rule of a signal pins (side, window of liq_usd) skip the series no rule
    selects; a label only some rules pin (liq_count's side, window) skips nothing they select."""
    ev = make(GATED)

    def usd(asset: str, side: str, window: str) -> Signal:
        return Signal("liq_usd", {"asset": asset, "side": side, "window": window}, 500.0, T0)

    def count(side: str, window: str) -> Signal:
        return Signal("liq_count", {"asset": "BTC", "side": side, "window": window}, 9.0, T0)

    out = ev.on_signals(
        [
            usd("BTC", "all", "5m"),  # short
            usd("BTC", "long", "5m"),  # no rule: side
            usd("BTC", "all", "1m"),  # no rule: window
            usd("BTC", "all", "1h"),  # no rule: long wants asset all
            usd("all", "all", "1h"),  # long, and not short (window)
            count("long", "1m"),  # one_window only
            count("all", "24h"),  # any_window only
            count("short", "1h"),  # none
        ]
    )
    fired = sorted((n.rule, n.labels["asset"], n.labels["side"], n.labels["window"]) for n in out)
    assert fired == [
        ("any_window", "BTC", "all", "24h"),
        ("long", "all", "all", "1h"),
        ("one_window", "BTC", "long", "1m"),
        ("short", "BTC", "all", "5m"),
    ]
