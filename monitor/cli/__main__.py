"""``python -m monitor.cli``: the same as the ``riskmon`` console script."""

from __future__ import annotations

from monitor.cli.app import main

raise SystemExit(main())
