"""``riskmon backtest``: a scenario or a capture file through the full pipeline, at full speed.

A scenario's events are rendered by each venue's simulator and parsed back by the venue's real
parser, so a backtest exercises the parsers exactly as the demo does, without sockets; the parsed
events then run through the daemon's :class:`~monitor.pipeline.Pipeline` in event time. The same
scenario and seed (or the same capture) always give the same alerts and JSON.

Running:
    :mod:`~monitor.backtest.run` (``backtest_scenario``, ``backtest_capture``),
    :mod:`~monitor.backtest.bridge` (a simulated venue wired to its parser),
    :mod:`~monitor.backtest.recorder` (the per-minute figures the charts draw),
    :mod:`~monitor.backtest.result` (``BacktestResult``).
Summarising:
    :mod:`~monitor.backtest.summary` (the alert table of ``TableRow``, alerts per day, the JSON
    summary and the text table).
The report:
    :mod:`~monitor.backtest.report` (the HTML page) and :mod:`~monitor.backtest.charts`
    (matplotlib PNGs).
"""

from __future__ import annotations

__all__: list[str] = []
