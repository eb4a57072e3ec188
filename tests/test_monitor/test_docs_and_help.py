"""Issue 15 point 8: every doc link resolves inside the repository, and the `--help` examples
name real venues, rules and scenarios."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from alerts.rules import load_ruleset
from monitor.cli.app import build_parser
from monitor.simulator.scenarios import SCENARIOS
from monitor.venues import VENUE_MODULES

ROOT = Path(__file__).resolve().parents[2]
DOCS = sorted(
    [
        ROOT / "README.md",
        *ROOT.glob("docs/*.md"),
        *ROOT.glob("bench/**/*.md"),
        *ROOT.glob("deploy/**/*.md"),
        *ROOT.glob("grafana/**/*.md"),
    ]
)
_FENCE = re.compile(r"^(```|~~~).*?^\1", re.M | re.S)
_CODE = re.compile(r"`[^`\n]*`")
_INLINE = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_REFDEF = re.compile(r"^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$", re.M)


def links(md: Path) -> list[str]:
    text = _CODE.sub("", _FENCE.sub("", md.read_text(encoding="utf-8")))
    return _INLINE.findall(text) + _REFDEF.findall(text)


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    h = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", h).replace(" ", "-")


def anchors(md: Path) -> set[str]:
    text = _FENCE.sub("", md.read_text(encoding="utf-8"))
    seen: dict[str, int] = {}
    out: set[str] = set()
    for m in re.finditer(r"^#{1,6}\s+(.+?)\s*#*\s*$", text, re.M):
        s = slug(m.group(1))
        n = seen.get(s, 0)
        seen[s] = n + 1
        out.add(s if n == 0 else f"{s}-{n}")
    return out


def test_the_docs_are_found() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in DOCS}
    assert {"README.md", "docs/alerting.md", "docs/architecture.md"} <= names


@pytest.mark.parametrize("md", DOCS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_relative_link_resolves_inside_the_repository(md: Path) -> None:
    bad: list[str] = []
    for target in links(md):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):  # http:, https:, mailto:
            continue
        path_part, _, fragment = target.partition("#")
        dest = md if not path_part else (md.parent / path_part).resolve()
        if not dest.is_relative_to(ROOT):
            bad.append(f"{target}: outside the repository")
        elif not dest.exists():
            bad.append(f"{target}: no such file")
        elif fragment and dest.suffix == ".md" and fragment not in anchors(dest):
            bad.append(f"{target}: no heading #{fragment} in {dest.name}")
    assert bad == [], f"{md.relative_to(ROOT)}: {bad}"


def _parsers(p: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    out = [p]
    for action in p._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict(action.choices).values():
                out += _parsers(sub)
    return out


def helps() -> dict[str, str]:
    return {p.prog: p.format_help() for p in _parsers(build_parser())}


def test_help_examples_name_real_venues_rules_and_scenarios() -> None:
    rules = {r.name for r in load_ruleset("november-2025").rules}
    venues = set(VENUE_MODULES)
    bad: list[str] = []
    checked = 0
    for prog, text in helps().items():
        for m in re.finditer(r"(?:venue=|--venue\s+)([a-z][a-z0-9_-]*)", text):
            checked += 1
            if m.group(1) not in venues:
                bad.append(f"{prog}: venue {m.group(1)}")
        for m in re.finditer(r"(?:alertname=|--rule\s+)([a-z][a-z0-9_]*)", text):
            checked += 1
            if m.group(1) not in rules:
                bad.append(f"{prog}: rule {m.group(1)}")
        for m in re.finditer(r"--scenario\s+([a-z][a-z0-9_-]*)", text):
            checked += 1
            if m.group(1) not in SCENARIOS:
                bad.append(f"{prog}: scenario {m.group(1)}")
    assert bad == []
    assert checked >= 4  # the examples above were found at all


def test_version() -> None:
    with pytest.raises(SystemExit) as e:
        build_parser().parse_args(["--version"])
    assert e.value.code == 0
