"""``python -m alerts.export``: ``riskmon rules export`` without the rest of the CLI."""

from __future__ import annotations

import sys

from alerts.export.cli import main

sys.exit(main())
