"""Links every notification carries: the alert's runbook and, optionally, its dashboard.

Rule packs give ``runbook_url`` relative to the repository (``docs/runbooks.md#liquidations``),
so it resolves on GitHub and in a checkout; ``alerting.runbook_base_url`` makes it absolute for
Slack and email (``https://github.com/org/riskmon/blob/main/`` + the relative path).
``alerting.dashboard_url_template`` is a ``str.format`` template over the alert's labels plus
``alertname`` (``https://grafana.example.com/d/riskmon-overview?var-asset={asset}``), values
URL-encoded; a label the alert lacks renders empty.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urljoin

__all__ = ["Links", "dashboard_url", "runbook_url"]

_formatter = string.Formatter()


@dataclass(frozen=True, slots=True)
class Links:
    """Where relative runbook links point, and the dashboard link template (empty: none)."""

    runbook_base_url: str = ""
    dashboard_url_template: str = ""


def runbook_url(url: str, base: str) -> str:
    """``url`` made absolute against ``base`` when it is relative and a base is set."""
    if not url or not base or "://" in url:
        return url
    return urljoin(base if base.endswith("/") else base + "/", url)


class _Quoted(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return ""


def dashboard_url(template: str, rule: str, labels: Mapping[str, str]) -> str:
    """The dashboard link of an alert (empty without a template or when it does not parse)."""
    if not template:
        return ""
    fields = _Quoted({k: quote(v, safe="") for k, v in labels.items()})
    fields["alertname"] = quote(rule, safe="")
    try:
        return _formatter.vformat(template, (), fields)
    except (ValueError, IndexError, KeyError, AttributeError):
        return ""
