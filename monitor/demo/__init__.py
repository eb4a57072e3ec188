"""``riskmon demo``: a stress scenario played through the simulator and the full daemon, offline.

:mod:`~monitor.demo.run` starts the exchange simulator on 127.0.0.1, points a real
:class:`~monitor.daemon.Daemon` at it over websockets and plays the scenario compressed in time;
:mod:`~monitor.demo.view` is the live terminal view (rich) of what the daemon computes and fires.
"""

from __future__ import annotations

__all__: list[str] = []
