"""The `fabric` command: a thin Typer app; each command lives in its own module."""

from __future__ import annotations

import sys

import typer

from fabric.cli import exitcodes
from fabric.cli.collect import collect
from fabric.cli.demo import demo
from fabric.cli.deploy import deploy_command
from fabric.cli.inventory import app as inventory_app
from fabric.cli.lab import app as lab_app
from fabric.cli.render import render
from fabric.cli.validate import validate
from fabric.cli.workload import app as workload_app

app = typer.Typer(
    name="fabric", no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
    help="Provision, observe and tune the lossless RDMA fabric of an AI training cluster.",
)
app.command()(validate)
app.command()(render)
app.command()(demo)
app.command()(collect)
app.command("deploy")(deploy_command)
app.add_typer(inventory_app, name="inventory")
app.add_typer(lab_app, name="lab")
app.add_typer(workload_app, name="workload")


def main() -> None:
    """Console entry point; usage errors exit 2 (click's convention), never with a traceback."""
    try:
        app()
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(exitcodes.SOME_FAILED)
    except OSError as exc:  # a path given by the user that cannot serve: a file where a folder goes, no parent...
        if exc.filename is None:
            raise  # not about a path (a socket error that escaped its handler): not the user's input to fix
        where = " -> ".join(str(name) for name in (exc.filename, exc.filename2) if name)
        sys.stderr.write(f"error: {where}: {exc.strerror or exc}; fix: check the path (a folder where a folder is "
                         "expected, an existing parent folder, write permission)\n")
        sys.exit(exitcodes.INVALID)
