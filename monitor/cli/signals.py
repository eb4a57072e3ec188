"""``riskmon rules signals``: the signal catalogue (streams/catalogue.py) rules are checked against.

Without options: one line per signal (name, unit, labels with their allowed values).
``--markdown`` prints docs/signals.md's generated tables; ``--write-doc FILE`` rewrites them in
FILE (docs/signals.md) in place.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from monitor.cli.common import CliError

__all__ = ["add_signals_command"]


def _cmd_signals(args: argparse.Namespace) -> int:
    from streams.catalogue import FAMILIES, markdown_tables, render_doc

    if args.write_doc:
        path = Path(args.write_doc)
        try:
            text = path.read_text(encoding="utf-8")
            path.write_text(render_doc(text), encoding="utf-8")
        except OSError as e:
            raise CliError(f"cannot update {path}: {e.strerror or e}") from e
        except ValueError as e:
            raise CliError(f"{path}: {e}") from e
        return 0
    if args.markdown:
        for key, table in markdown_tables().items():
            sys.stdout.write(f"### {key}\n\n{table}\n\n")
        return 0
    for fam in FAMILIES:
        for s in fam.signals:
            labels = ",".join(
                lbl.name if lbl.values is None else f"{lbl.name}={'|'.join(lbl.values)}"
                for lbl in s.labels
            )
            sys.stdout.write(f"{s.name}\t{s.unit}\t{labels}\n")
    return 0


def add_signals_command(rsub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``signals`` to the ``rules`` subcommands."""
    p = rsub.add_parser(
        "signals",
        help="list the signals rules can use (name, unit, labels and their values)",
        description="List the signal catalogue that `rules check` validates rules against.",
    )
    g = p.add_mutually_exclusive_group()
    g.add_argument("--markdown", action="store_true", help="print the docs/signals.md tables")
    g.add_argument(
        "--write-doc", metavar="FILE", help="rewrite the generated tables in FILE (docs/signals.md)"
    )
    p.set_defaults(func=_cmd_signals)
