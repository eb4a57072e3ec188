"""Label matchers in Alertmanager's syntax: ``a=v``, ``a!=v``, ``a=~re``, ``a!~re``.

Used by rule selectors, routes, inhibition rules and silences. A missing label reads as the empty
string, as in Alertmanager. Regular expressions are anchored (full match).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["MatchOp", "Matcher", "MatcherError", "matches_all", "parse_matcher"]

MatchOp = Literal["=", "!=", "=~", "!~"]

_MATCHER_RE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$")


class MatcherError(ValueError):
    """A matcher string or regular expression is malformed."""


@dataclass(frozen=True, slots=True)
class Matcher:
    """One label matcher."""

    name: str
    op: MatchOp
    value: str
    _regex: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def create(cls, name: str, op: MatchOp, value: str) -> Matcher:
        """Build a matcher, compiling the regular expression of ``=~``/``!~``.

        Raises:
            MatcherError: the regular expression does not compile.
        """
        regex = None
        if op in ("=~", "!~"):
            try:
                regex = re.compile(value)
            except re.error as e:
                raise MatcherError(f"bad regular expression {value!r}: {e}") from None
        return cls(name, op, value, regex)

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Return whether the labels satisfy this matcher (missing label = empty string)."""
        v = labels.get(self.name, "")
        if self.op == "=":
            return v == self.value
        if self.op == "!=":
            return v != self.value
        assert self._regex is not None
        hit = self._regex.fullmatch(v) is not None
        return hit if self.op == "=~" else not hit

    def __str__(self) -> str:
        return f"{self.name}{self.op}{self.value}"


def parse_matcher(text: str) -> Matcher:
    """Parse ``name=value``, ``name!=value``, ``name=~re`` or ``name!~re``; quotes are optional.

    Raises:
        MatcherError: the text is not a matcher.
    """
    m = _MATCHER_RE.match(text)
    if m is None:
        raise MatcherError(f"not a matcher: {text!r} (expected name=value, !=, =~ or !~)")
    name, op, value = m.group(1), m.group(2), m.group(3)
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1]
    return Matcher.create(name, op, value)  # type: ignore[arg-type]


def matches_all(matchers: Iterable[Matcher], labels: Mapping[str, str]) -> bool:
    """Return whether every matcher matches the labels."""
    return all(m.matches(labels) for m in matchers)
