"""Problems a user can cause are values: one line each, naming where and how to fix it."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["error", "warning"]
_ONE_LINE = str.maketrans({"\n": "\\n", "\r": "\\r", "\t": " "})


@dataclass(frozen=True, order=True)
class Problem:
    """One finding: ``where`` is ``file:key`` or ``device:interface``; ``fix`` says what to do.

    >>> str(Problem("fabric.yaml:ecn.profiles.p1.kmin_bytes", "Kmin must be below Kmax", "lower kmin_bytes"))
    'fabric.yaml:ecn.profiles.p1.kmin_bytes: Kmin must be below Kmax; fix: lower kmin_bytes'
    """

    where: str
    message: str
    fix: str = ""
    severity: Severity = "error"
    line: int | None = None

    def __str__(self) -> str:
        text = f"{self.where}: {self.message}"
        if self.line is not None:
            text += f" (line {self.line})"
        if self.fix:
            text += f"; fix: {self.fix}"
        return text.translate(_ONE_LINE)  # a key or value from YAML may hold a newline


@dataclass
class ValidationReport:
    """Every problem found in one inventory, errors and warnings alike."""

    problems: list[Problem] = field(default_factory=list)

    def add(self, where: str, message: str, fix: str = "", *, severity: Severity = "error",
            line: int | None = None) -> None:
        self.problems.append(Problem(where, message, fix, severity, line))

    def extend(self, problems: Iterable[Problem]) -> None:
        self.problems.extend(problems)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def __iter__(self) -> Iterator[Problem]:
        return iter(sorted(set(self.problems), key=lambda p: (p.severity != "error", p.where, p.message)))
