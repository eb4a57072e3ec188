"""riskmon monitor: the daemon around ``streams`` and ``alerts``, its offline tools and the CLI.

The daemon's parts, in the order data flows through them:

- :mod:`~monitor.venues` — one package per venue: wire schemas, parser, subscriptions, REST polls;
- :mod:`~monitor.connection` — one websocket: reconnect with backoff, heartbeats, watchdogs;
- :mod:`~monitor.feed` — one venue's connections and polls, publishing normalized events;
- :mod:`~monitor.instruments` and :mod:`~monitor.backfill` — contract metadata, REST history;
- :mod:`~monitor.bus` — the bounded in-process queue between feeds and the pipeline;
- :mod:`~monitor.pipeline` — stream engine (signals) then rule evaluator (alert notices);
- :mod:`~monitor.daemon` — owns every task: feeds, pipeline, ticker, snapshots, /metrics;
- :mod:`~monitor.wiring` — settings → rule set, alert settings, venue streams/endpoints/feeds
  (shared by the daemon and the tools);
- :mod:`~monitor.settings`, :mod:`~monitor.logs`, :mod:`~monitor.metrics`,
  :mod:`~monitor.exporter` — configuration, structured logs, the daemon's and the signals'
  Prometheus metrics;
- :mod:`~monitor.capture` — the capture file format and the writer the daemon records with.

Offline tools (none of the daemon's modules imports them):

- :mod:`~monitor.replay` — ``riskmon capture``, ``parse`` and ``replay`` over capture files;
- :mod:`~monitor.backtest` — a scenario or capture at full speed: running, summarising, report;
- :mod:`~monitor.demo` — a scenario through the simulator and the full daemon, with a live view;
- :mod:`~monitor.simulator` — every venue's protocol on loopback, and the stress scenarios.

On top of everything, :mod:`~monitor.cli` — the ``riskmon`` command line.
"""

from __future__ import annotations

__all__: list[str] = []
