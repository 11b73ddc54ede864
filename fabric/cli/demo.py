"""fabric demo: the main job on the shipped lab inventory, end to end on the twin.

Validate and render; then one twin under a congesting workload: collect (factory-fresh, lossy), deploy (dry run,
deploy, idempotent re-deploy), collect again (lossless with ECN), twin down.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from fabric.cli import exitcodes
from fabric.cli.output import err, print_report, table
from fabric.intent.check import validate_inventory
from fabric.inventory.models import Device
from fabric.render import render_fabric, write_rendered

if TYPE_CHECKING:
    from fabric.lab.control import Lab

ROOT = Path(__file__).resolve().parents[2]
LAB_ROCE = ROOT / "inventories" / "lab-roce"
DEMO_WORKLOAD = ROOT / "workloads" / "incast-16to1.yaml"


def demo(
    inventory: Annotated[Path, typer.Option(help="Inventory to run the demo on.")] = LAB_ROCE,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Keep rendered files here.")] = None,
    workload: Annotated[Path, typer.Option(help="Workload the twin runs while the demo deploys and collects.")]
    = DEMO_WORKLOAD,
) -> None:
    """Validate and render the lab fabric; on its twin under a workload, collect, deploy, collect again."""
    err.print(f"[1/2] validate {inventory}", markup=False)
    result = validate_inventory(str(inventory))
    print_report(result.report)
    if result.fabric is None or not result.report.ok:
        raise typer.Exit(exitcodes.INVALID)
    err.print(f"      {len(result.intents)} devices, {len(result.report.warnings)} warnings", markup=False)
    configs = render_fabric(result.intents)
    with tempfile.TemporaryDirectory(prefix="fabric-demo-") as scratch:
        target = output or Path(scratch)
        written = write_rendered(configs, target)
        err.print(f"[2/2] rendered {len(written)} files into {target}", markup=False)
    rows = []
    for name, intent in result.intents.items():
        ecn = intent.ecn.profiles[0] if intent.ecn and intent.ecn.profiles else None
        rows.append([
            name, intent.platform, intent.role, sum(p.lossless for p in intent.interfaces),
            ",".join(map(str, intent.pfc.priorities)) if intent.pfc else "-",
            f"{ecn.kmin_bytes // 1000}/{ecn.kmax_bytes // 1000} KB" if ecn else "-",
            f"{intent.buffers.total_headroom_bytes // 1024} KiB" if intent.buffers else "-",
            configs[name].lines,
        ])
    table(f"{result.fabric.spec.name}: lossless intent per device",
          ["device", "platform", "role", "lossless ports", "pfc", "ecn kmin/kmax", "headroom", "lines"], rows)
    if result.fabric.spec.transport == "roce":
        on_twin(inventory, workload, result.intents, list(result.fabric.devices.values()))


def on_twin(inventory: Path, workload: Path, intents: dict[str, Any], devices: list[Device]) -> None:
    """The twin part: up under ``workload``, the congestion before and after the deploy, down."""
    from fabric.cli.collect import demo_collect
    from fabric.cli.deploy import demo_deploy
    from fabric.lab.control import Lab, LabError

    with tempfile.TemporaryDirectory(prefix="fabric-demo-") as scratch:
        lab = Lab(Path(scratch) / "twin")
        try:
            lab.up(inventory, free_ports=True, workload=workload)
        except LabError as exc:
            err.print(f"error: lab: {exc}", markup=False, emoji=False)
            raise typer.Exit(exitcodes.UNREACHABLE) from None
        try:
            err.print(f"[+] twin up: {len(devices)} devices on loopback addresses, workload {workload.stem}",
                      markup=False)
            settle(lab)
            err.print("[+] collect: factory-fresh fabric (lossy, no ECN), 3 cycles into a local sink "
                      "(and InfluxDB if FABRIC_INFLUX_URL)", markup=False)
            demo_collect(inventory, lab.state_dir, "before deploy")
            demo_deploy(lab.state_dir, intents, devices)
            settle(lab)
            err.print("[+] collect: the same workload on the deployed lossless fabric", markup=False)
            demo_collect(inventory, lab.state_dir, "after deploy")
        finally:
            lab.down()
            err.print("[+] twin down", markup=False)


SETTLE_MODEL_S = 0.3


def settle(lab: Lab) -> None:
    """Let the twin run the workload on what is applied now (``SETTLE_MODEL_S`` of model time: ~60 incasts of
    the demo's workload) before counters are read, however far the engine lags the wall clock."""
    from fabric.lab.control import LabError

    try:
        model = lab.wait_model(SETTLE_MODEL_S)
    except LabError as exc:
        err.print(f"error: lab: {exc}", markup=False, emoji=False)
        raise typer.Exit(exitcodes.UNREACHABLE) from None
    err.print(f"[+] twin at {model:.1f} s of workload (model time)", markup=False)
