"""Shared output helpers: problems to stderr, tables, JSON to stdout."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console
from rich.table import Table

from fabric.core.problems import ValidationReport

# no markup, no emoji: messages carry user text (a key "smile" printed as "defaults.yaml:smile:" became an emoji)
err = Console(stderr=True, highlight=False, soft_wrap=True, markup=False, emoji=False)
# Without a terminal rich assumes 80 columns; tables read better in a log or a pipe when wider.
out = Console(highlight=False, soft_wrap=True, markup=False, emoji=False,
              width=None if sys.stdout.isatty() else 132)


def print_report(report: ValidationReport) -> None:
    """One line per problem on stderr, errors first."""
    for problem in report:
        label = "error" if problem.severity == "error" else "warning"
        err.print(f"{label}: {problem}", markup=False)


def print_json(document: Any) -> None:
    sys.stdout.write(json.dumps(document, indent=2, sort_keys=True) + "\n")


def table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    """A rich table on stdout (plain text without a TTY)."""
    grid = Table(title=title, title_justify="left")
    for column in columns:
        grid.add_column(column, justify="right" if column in ("files", "lines", "errors") else "left")
    for row in rows:
        grid.add_row(*(str(c) for c in row))
    out.print(grid)
