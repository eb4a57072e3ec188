"""``riskmon rules export``: the command's arguments and handler, ready to hook into any CLI.

``add_export_command(rules_subparsers)`` adds ``export`` under ``riskmon rules``; the handler is
set as ``func`` like the other leaf commands. ``python -m alerts.export`` runs it standalone.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from alerts.export.grafana import grafana_rules
from alerts.export.prometheus import prometheus_rules
from alerts.rules import RuleError, RuleSet, load_pack, load_rules, merge_rulesets

__all__ = ["add_export_arguments", "add_export_command", "main", "run_export"]

DEFAULT_PACK = "november-2025"


def add_export_arguments(p: argparse.ArgumentParser) -> None:
    """The arguments of ``rules export``."""
    p.add_argument("files", nargs="*", metavar="FILE", help="rule files (default: --pack)")
    p.add_argument("--pack", metavar="NAME", help=f"a shipped pack (default: {DEFAULT_PACK})")
    p.add_argument(
        "--format", required=True, choices=("prometheus", "grafana"), help="what to write"
    )
    p.add_argument("-o", "--output", metavar="FILE", help="write here (default: stdout)")
    p.add_argument(
        "--interval",
        metavar="DURATION",
        default=None,
        help="evaluation interval of the group (Prometheus: its global default; Grafana: 1m)",
    )


def add_export_command(rules_subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``export`` to the ``rules`` subcommands; it sets ``func`` (returns the exit code)."""
    p = rules_subparsers.add_parser(
        "export",
        help="write the rules as Prometheus or Grafana alert rules",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Export a rule pack (or rule files) as a Prometheus alerting-rule file\n"
        "or a Grafana alert-rule provisioning file. What the target cannot express\n"
        "exactly is translated to the nearest form and listed in the file's header.",
        epilog="examples:\n  riskmon rules export --format prometheus -o riskmon.rules.yml\n"
        "  riskmon rules export --pack november-2025 --format grafana -o alert-rules.yaml",
    )
    add_export_arguments(p)
    p.set_defaults(func=run_export)


def _ruleset(args: argparse.Namespace) -> RuleSet:
    if args.files:
        sets = [load_rules(f) for f in args.files]
        if args.pack:
            sets.append(load_pack(args.pack))
        return sets[0] if len(sets) == 1 else merge_rulesets(sets)
    return load_pack(args.pack or DEFAULT_PACK)


def run_export(args: argparse.Namespace) -> int:
    """Write the export; 0 on success, 1 when the rules do not load."""
    try:
        rs = _ruleset(args)
    except RuleError as e:
        for problem in e.problems:
            print(f"error: {problem}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    if args.format == "prometheus":
        text = prometheus_rules(rs, args.interval)
    else:
        text = grafana_rules(rs, args.interval or "1m")
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m alerts.export ...``."""
    p = argparse.ArgumentParser(prog="riskmon rules export")
    add_export_arguments(p)
    return run_export(p.parse_args(argv))
