"""fabric validate INV"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fabric.cli import exitcodes
from fabric.cli.output import err, print_json, print_report
from fabric.intent.check import validate_inventory


def validate(
    inventory: Annotated[Path, typer.Argument(help="Inventory folder (hosts.yaml, fabric.yaml, ...).")],
    json_output: Annotated[bool, typer.Option("--json", help="Print problems as one JSON document.")] = False,
) -> None:
    """Check the whole inventory; print every problem on one line with its file, key and fix. Exit 5 if invalid."""
    result = validate_inventory(str(inventory))
    report = result.report
    if json_output:
        print_json({"ok": report.ok, "problems": [
            {"where": p.where, "message": p.message, "fix": p.fix, "severity": p.severity, "line": p.line}
            for p in report]})
    else:
        print_report(report)
        devices = len(result.fabric.devices) if result.fabric else 0
        err.print(f"{inventory}: {devices} devices, {len(report.errors)} errors, "
                  f"{len(report.warnings)} warnings", markup=False)
    raise typer.Exit(exitcodes.OK if report.ok else exitcodes.INVALID)
