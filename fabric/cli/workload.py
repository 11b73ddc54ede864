"""fabric workload check FILE... [--inventory INV] [--seconds S] [--json]"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fabric.cli import exitcodes
from fabric.cli.output import err, print_json, print_report, table
from fabric.inventory.load import load_inventory
from fabric.inventory.models import Fabric
from fabric.lab.physics.offered import OfferedLoad
from fabric.lab.workload import Workload, WorkloadError, hosts_of, load_workload
from fabric.lab.workload.summary import PhaseSummary, summarise

app = typer.Typer(no_args_is_help=True, help="Workloads of the twin's congestion engine (workloads/*.yaml).")


def _fabric(inventory: Path) -> Fabric:
    result = load_inventory(inventory)
    if result.fabric is None or not result.report.ok:
        print_report(result.report)
        err.print(f"{inventory}: invalid inventory", markup=False)
        raise typer.Exit(exitcodes.INVALID)
    return result.fabric


def _load(files: list[Path]) -> list[Workload]:
    workloads, failed = [], False
    for path in files:
        try:
            workloads.append(load_workload(path))
        except WorkloadError as exc:
            failed = True
            for problem in exc.problems:
                err.print(f"error: {problem}", markup=False)
    if failed:
        raise typer.Exit(exitcodes.INVALID)
    return workloads


@app.command()
def check(
    files: Annotated[list[Path], typer.Argument(help="Workload files.")],
    inventory: Annotated[Path | None, typer.Option(
        "--inventory", help="Also generate flows on this inventory's servers and show what each phase offers.")] = None,
    seconds: Annotated[float, typer.Option("--seconds", min=0.001, max=10.0,
                                           help="Window per phase, from its start (at most 10 s).")] = 0.1,
    json_output: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Check workload files (exit 5 with one line per problem); with --inventory, check they fit it too."""
    workloads = _load(files)
    if inventory is None:
        for w in workloads:
            typer.echo(f"{w.path}: ok ({len(w.spec.phases)} phases)")
        return
    fabric = _fabric(inventory)
    hosts = hosts_of(fabric)
    place = OfferedLoad(fabric, hosts).summary
    try:
        summaries = {w.path: summarise(w, hosts, seconds, place) for w in workloads}
    except WorkloadError as exc:
        for problem in exc.problems:
            err.print(f"error: {problem}", markup=False)
        raise typer.Exit(exitcodes.INVALID) from None
    if json_output:
        print_json({path: [dict(vars(s), offered_gbps=s.offered_gbps) for s in rows]
                    for path, rows in summaries.items()})
        return
    for path, rows in summaries.items():
        table(f"{path} on {inventory} ({len(hosts)} servers), first {seconds:g} s of each phase; busiest link: "
              "the one its flows' bytes load most against its line rate, over the window, before any congestion",
              ["phase", "kind", "from s", "flows", "groups", "MB", "offered Gb/s", "busiest link", "load",
               "no path Gb/s"],
              [[s.tag, s.kind, f"{s.from_s:g}", s.flows, s.groups, f"{s.bytes / 1e6:.1f}", f"{s.offered_gbps:.1f}",
                s.placed["busiest_link"] or "-", f"{s.placed['ratio']:.2f}x", f"{s.placed['unroutable_gbps']:.1f}"]
               for s in rows])
        open_loop = next(w for w in workloads if w.path == path).timeout_s
        for s in rows:
            _warn(path, s, s.tag in open_loop)
        rate = sum(s.flows / s.seconds for s in rows)
        if rate > 3 * LIVE_FLOWS_PER_S:
            err.print(f"warning: {path}: its phases start ~{rate:.2g} flows/s on this inventory; the twin's engine "
                      f"keeps up with about {LIVE_FLOWS_PER_S:.0e} on one core, so 'fabric lab up --workload' will "
                      "lag the wall clock (see 'lag' in 'fabric lab status')", markup=False)


# flows/s the live engine follows in about real time on one core (lab-roce's incast-16to1: ~1.1e6 at ~1x); past
# three times that, a user should know the twin will lag before starting it
LIVE_FLOWS_PER_S = 1e6


def _warn(path: str, s: PhaseSummary, open_loop: bool) -> None:
    """One line per phase that overloads a link on its own, sends flows that have no path, or sends none."""
    placed, timeout = s.placed, ""
    if s.flows == 0:
        err.print(f"warning: {path}: phase {s.tag} starts no flow between servers in its first {s.seconds:g} s "
                  "(an llm_training phase with pp 1 and dp 1 keeps its traffic inside each server; a period longer "
                  "than the window launches later)", markup=False)
        return
    if open_loop:
        timeout = "; the twin abandons its flows still unfinished after timeout_s"
    if placed["ratio"] > 1:
        err.print(f"warning: {path}: phase {s.tag} alone offers {placed['offered_gbps']:.0f} Gb/s to "
                  f"{placed['busiest_link']} ({placed['ratio']:.1f}x its {placed['capacity_gbps']:.0f} Gb/s): "
                  f"its flows queue there{timeout}", markup=False)
    if placed["unroutable_gbps"] > 0:
        err.print(f"warning: {path}: phase {s.tag} sends {placed['unroutable_gbps']:.1f} Gb/s between NICs with "
                  "no path (e.g. rails whose spine planes do not meet); the twin refuses those flows", markup=False)
