"""fabric render INV -o DIR [--limit PATTERN]"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fabric.cli import exitcodes
from fabric.cli.output import err, print_json, print_report, table
from fabric.intent.check import validate_inventory
from fabric.inventory.select import select_devices
from fabric.render import render_fabric, write_rendered


def render(
    inventory: Annotated[Path, typer.Argument(help="Inventory folder.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Directory for DIR/<device>/<file>.")],
    limit: Annotated[list[str] | None, typer.Option(
        "--limit", help="Host pattern (leaf*), group (group:leaves), role (role:spine), platform "
        "(platform:eos); !PATTERN excludes; repeatable.")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Validate, then render every selected device's configuration files."""
    result = validate_inventory(str(inventory))
    print_report(result.report)
    if result.fabric is None or not result.report.ok:
        err.print(f"{inventory}: invalid inventory; nothing rendered", markup=False)
        raise typer.Exit(exitcodes.INVALID)
    names = select_devices(result.fabric, limit or [])
    if not names:
        err.print(f"--limit {' '.join(limit or [])}: matches no device", markup=False)
        raise typer.Exit(exitcodes.INVALID)
    configs = render_fabric({n: result.intents[n] for n in names})
    write_rendered(configs, output)
    rows = [[c.device, c.platform, len(c.files), c.lines] for c in configs.values()]
    if json_output:
        print_json({"output": str(output), "devices": [
            {"device": c.device, "platform": c.platform, "files": sorted(c.files), "lines": c.lines}
            for c in configs.values()]})
    else:
        table(f"rendered {len(configs)} devices into {output}", ["device", "platform", "files", "lines"], rows)
