"""fabric inventory schema | generate"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from fabric.inventory.schema import inventory_schema

app = typer.Typer(no_args_is_help=True, help="Inventory tools: JSON Schema export, fabric generator.")


@app.command()
def schema(
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.")] = None,
) -> None:
    """Export the JSON Schema of every inventory file (for editors: yaml-language-server)."""
    text = json.dumps(inventory_schema(), indent=2, sort_keys=True) + "\n"
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
