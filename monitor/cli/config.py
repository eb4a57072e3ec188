"""``riskmon config show``: the effective configuration, as the daemon would run it.

Defaults, the YAML file and ``RISKMON_*`` variables are merged exactly as ``riskmon run`` merges
them (:func:`monitor.settings.load_settings`, :func:`monitor.wiring.alert_settings`); each
venue's symbol list, its streams by channel and its endpoints are resolved from its defaults, so
a desk sees what is and is not monitored. Secrets (``SecretStr`` fields: webhook URLs,
passwords, HMAC keys) print as ``**********``; secret *files* print as their paths.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

import yaml

from monitor.cli.common import add_command_group, add_config_option, load_daemon_settings

if TYPE_CHECKING:
    from monitor.venues.base import Stream

__all__ = ["add_config", "effective_config"]


def effective_config(config: str | None) -> dict[str, Any]:
    """The merged settings of ``config`` (None: defaults and environment) as plain data.

    Raises:
        CliError: the file or the environment gives invalid settings.
    """
    from monitor.venues import get_venue
    from monitor.venues.base import CHANNELS
    from monitor.wiring import venue_endpoints, venue_streams

    settings, alerting = load_daemon_settings(config)
    out = settings.model_dump(mode="json", exclude={"venues", "alerting"})
    venues: dict[str, Any] = {}
    for vid, vs in settings.venues.items():
        if not vs.enabled:
            venues[vid] = {"enabled": False}
            continue
        spec = get_venue(vid)
        streams = venue_streams(spec, vs)
        ep = venue_endpoints(settings, spec, vs)
        venues[vid] = {
            "enabled": True,
            "kind": spec.kind,
            "symbols": vs.symbols or list(spec.default_symbols),
            "symbols_source": "config" if vs.symbols else "venue defaults",
            "all_market": vs.all_market,
            "streams": _by_channel(streams),
            "endpoints": {"ws": ep.ws, "rest": ep.rest},
            "poll_interval_s": vs.poll_interval_s,
            "not_published": sorted(set(CHANNELS) - set(spec.channels)),
        }
    out["venues"] = venues
    out["alerting"] = alerting.model_dump(mode="json")
    return out


def _by_channel(streams: list[Stream]) -> dict[str, list[str]]:
    """Each subscribed channel with its symbols (``*``: the venue's all-market stream)."""
    out: dict[str, list[str]] = {}
    for s in streams:
        out.setdefault(s.channel, []).append(s.symbol)
    return out


def _cmd_config_show(args: argparse.Namespace) -> int:
    data = effective_config(args.config)
    yaml.safe_dump(data, sys.stdout, sort_keys=False, default_flow_style=None, width=100)
    return 0


def add_config(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``riskmon config show``."""
    csub = add_command_group(
        sub,
        "config",
        help="show the effective configuration",
        description="Work with the daemon's configuration.",
    )
    show = csub.add_parser(
        "show",
        help="print the effective configuration as YAML",
        description="Print the configuration `riskmon run` would use: built-in defaults, the "
        "file and RISKMON_* variables merged (variables win), each venue's symbols, channels "
        "and endpoints resolved, secrets redacted.",
        epilog="examples:\n  riskmon config show\n  riskmon config show --config "
        "deploy/riskmon.yaml\n  RISKMON_METRICS__PORT=9500 riskmon config show",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_config_option(show, "YAML settings file (default: built-ins)")
    show.set_defaults(func=_cmd_config_show)
