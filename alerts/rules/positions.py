"""Where things are in a YAML document: line and column of every key, for error messages.

Rule files are read twice: :func:`compose` builds the plain data (with YAML 1.2 booleans, so
``on``/``off``/``yes``/``no`` stay strings) and a :class:`Positions` map from each document path
(``("rules", 0, "threshold")``) to its 1-based line and column, plus the duplicate keys PyYAML
would silently merge. :func:`clean_loc` turns a pydantic error location into a document path and
:func:`field_name` renders one for humans (``rules[0](liquidations_1h).threshold``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import yaml

__all__ = ["DocPath", "Positions", "YamlLoader", "clean_loc", "compose", "field_name"]


class YamlLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans: ``on``/``off``/``yes``/``no`` stay strings."""


YamlLoader.yaml_implicit_resolvers = {
    ch: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for ch, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
YamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)

DocPath = tuple[str | int, ...]


class Positions:
    """Line and column (1-based) of every node of a document, and its duplicate keys."""

    def __init__(self) -> None:
        self.marks: dict[DocPath, tuple[int, int]] = {}
        self.duplicates: list[tuple[DocPath, tuple[int, int]]] = []

    def walk(self, node: yaml.Node, path: DocPath) -> None:
        """Record the positions of ``node`` (at ``path``) and everything below it."""
        self.marks[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for k, v in node.value:
                key = str(k.value)
                if key in seen:
                    self.duplicates.append(((*path, key), (k.start_mark.line + 1, 1)))
                seen.add(key)
                self.marks[(*path, key)] = (k.start_mark.line + 1, k.start_mark.column + 1)
                self.walk(v, (*path, key))
                # the key's line, not the value's, locates "field: value" best
                self.marks[(*path, key)] = (k.start_mark.line + 1, k.start_mark.column + 1)
        elif isinstance(node, yaml.SequenceNode):
            for i, v in enumerate(node.value):
                self.walk(v, (*path, i))

    def locate(self, path: DocPath) -> tuple[int, int]:
        """Line and column of ``path``, or of its nearest recorded ancestor (``(0, 0)``: none)."""
        p = path
        while p:
            if p in self.marks:
                return self.marks[p]
            p = p[:-1]
        return self.marks.get((), (0, 0))


def field_name(path: DocPath, data: object) -> str:
    """Render a document path for humans, naming list items by their ``name`` when they have one."""
    out = ""
    node = data
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
            if isinstance(node, list) and 0 <= part < len(node):
                node = node[part]
                if isinstance(node, dict) and isinstance(node.get("name"), str):
                    out += f"({node['name']})"
            else:
                node = None
        else:
            out += ("." if out else "") + part
            node = node.get(part) if isinstance(node, dict) else None
    return out


def clean_loc(loc: Sequence[str | int], data: object) -> DocPath:
    """Keep the parts of a pydantic error location that exist in the YAML document."""
    out: list[str | int] = []
    node = data
    for part in loc:
        if isinstance(node, list):
            if not (isinstance(part, int) and 0 <= part < len(node)):
                break
            node = node[part]
            out.append(part)
        elif isinstance(node, dict):
            key = part if part in node else str(part).rstrip("_")
            if key in node:
                node = node[key]
                out.append(key)
            elif isinstance(part, str) and not part.startswith("function"):
                out.append(part)  # a missing field: locate it at its parent
                break
        else:
            break
    return tuple(out)


def compose(text: str) -> tuple[object, Positions]:
    """Parse YAML text into plain data and the positions of its nodes.

    Raises:
        yaml.YAMLError: the text is not valid YAML (``MarkedYAMLError`` carries the position).
    """
    node = yaml.compose(text, Loader=YamlLoader)
    data = yaml.load(text, Loader=YamlLoader)  # noqa: S506 - YamlLoader is a SafeLoader
    pos = Positions()
    if node is not None:
        pos.walk(node, ())
    return data, pos
