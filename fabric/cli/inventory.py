"""fabric inventory schema | generate"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from fabric.cli import exitcodes
from fabric.cli.output import err
from fabric.core.problems import Problem
from fabric.inventory.generate import ShapeError, generate
from fabric.inventory.schema import inventory_schema
from fabric.inventory.write import AUTO_JSON_HOSTS, Style, write_inventory

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


def _fail(problems: list[Problem]) -> typer.Exit:
    for problem in problems:
        err.print(f"error: {problem}", markup=False)
    return typer.Exit(exitcodes.INVALID)


def _output_problem(output: Path, force: bool) -> Problem | None:
    if output.exists() and not output.is_dir():
        return Problem(str(output), "exists and is not a folder", "pass a folder with -o")
    if output.is_dir() and any(output.iterdir()) and not force:
        return Problem(str(output), "folder is not empty", "pass --force to overwrite its inventory files")
    return None


@app.command("generate")
def generate_command(
    kind: Annotated[str, typer.Option("--kind", help="clos (every leaf to every spine) or rail (rail-optimised).")],
    spines: Annotated[int, typer.Option("--spines", help="Number of spine switches.")],
    leaves: Annotated[int, typer.Option("--leaves", help="Number of leaf switches (rail: pods x NICs).")],
    servers: Annotated[int, typer.Option("--servers", help="Number of GPU servers.")],
    nics_per_server: Annotated[int, typer.Option("--nics-per-server", help="RDMA NICs per server (rails).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Inventory folder to write.")],
    platforms: Annotated[str, typer.Option(
        "--platforms", help="Switch platforms, comma-separated, assigned round-robin (sonic,eos,...).")] = "",
    transport: Annotated[str, typer.Option("--transport", help="roce or infiniband (switches: ib_switch).")] = "roce",
    name: Annotated[str | None, typer.Option("--name", help="Fabric name (default KIND-TRANSPORT).")] = None,
    server_speed: Annotated[int, typer.Option("--server-speed", help="Server port speed, Gb/s.")] = 400,
    uplink_speed: Annotated[int, typer.Option("--uplink-speed", help="Leaf-spine link speed, Gb/s.")] = 400,
    servers_per_leaf: Annotated[int | None, typer.Option(
        "--servers-per-leaf", help="Rail: servers per pod (default: spread evenly over the pods).")] = None,
    spine_planes: Annotated[int, typer.Option(
        "--spine-planes", help="Rail: spine groups; rail k's leaves reach every spine of plane k mod N.")] = 1,
    force: Annotated[bool, typer.Option("--force", help="Overwrite the inventory files of a non-empty folder.")]
    = False,
    style: Annotated[Style, typer.Option(
        "--style", help="hosts.yaml as block YAML, or YAML's JSON subset (loads ~50x faster); auto: JSON "
        f"subset above {AUTO_JSON_HOSTS} hosts.")] = "auto",
) -> None:
    """Generate a two-tier CLOS or rail-optimised inventory (same arguments, byte-identical files)."""
    problem = _output_problem(output, force)
    if problem is not None:
        raise _fail([problem])
    names = [p.strip() for p in platforms.split(",") if p.strip()]
    try:
        files = generate(kind, spines, leaves, servers, nics_per_server, names, transport, name,
                         server_speed, uplink_speed, servers_per_leaf, spine_planes)
    except ShapeError as exc:
        raise _fail(exc.problems) from None
    write_inventory(files, output, style)
    hosts = files["hosts.yaml"]
    links = sum(len(h["data"]["interfaces"]) for h in hosts.values()) // 2
    typer.echo(f"wrote {output}: {spines} spines, {leaves} leaves, {servers} servers, {links} links")
