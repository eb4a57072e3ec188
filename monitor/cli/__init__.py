"""The ``riskmon`` command line: the top layer, on top of the daemon, the tools and the alerts.

:mod:`~monitor.cli.app` builds the parser and holds :func:`main` (the ``riskmon`` console
script); one module per command group adds its verbs:

- :mod:`~monitor.cli.run`: ``run`` (the daemon);
- :mod:`~monitor.cli.captures`: ``capture``, ``parse``, ``replay``;
- :mod:`~monitor.cli.backtest`: ``backtest``;
- :mod:`~monitor.cli.simulator`: ``demo``, ``simulate``;
- :mod:`~monitor.cli.alerts`: ``rules check``, ``silence``, ``alerts``;
- :mod:`~monitor.cli.config`: ``config show``;
- :mod:`~monitor.cli.common`: the one-line user error, rule loading, input files.

Nothing below this package imports it.
"""

from __future__ import annotations

from monitor.cli.app import main

__all__ = ["main"]
