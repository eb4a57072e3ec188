"""Rule-file problems: each located by file, line, column and field, all raised together."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["RuleError", "RuleProblem"]


@dataclass(frozen=True, slots=True)
class RuleProblem:
    """One validation problem, located in its file."""

    file: str
    line: int
    column: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}" if self.line else self.file
        fld = f" {self.field}:" if self.field else ""
        return f"{where}:{fld} {self.message}"


class RuleError(ValueError):
    """A rule file is invalid; ``problems`` lists every problem found, each with file and line."""

    def __init__(self, problems: Sequence[RuleProblem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))
