"""fabric demo: the main job on the shipped lab inventory (grows with the twin, deploy and tuner)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import typer

from fabric.cli import exitcodes
from fabric.cli.output import err, print_report, table
from fabric.intent.check import validate_inventory
from fabric.render import render_fabric, write_rendered

LAB_ROCE = Path(__file__).resolve().parents[2] / "inventories" / "lab-roce"


def demo(
    inventory: Annotated[Path, typer.Option(help="Inventory to run the demo on.")] = LAB_ROCE,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Keep rendered files here.")] = None,
) -> None:
    """Validate and render the lab fabric, then summarise what each device would get."""
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
        from fabric.cli.deploy import demo_deploy

        err.print("[+] deploy: the twin up, dry run, deploy, idempotent re-deploy, twin down", markup=False)
        demo_deploy(inventory, result.intents, list(result.fabric.devices.values()))
    demo_telemetry(inventory, result.fabric.spec.transport)


def demo_telemetry(inventory: Path, transport: str) -> None:
    """Telemetry step: the twin under load, a few cycles of `fabric collect`, the congestion at a glance."""
    if transport != "roce":
        return
    from fabric.cli.collect import demo_collect

    err.print("[+] collect: the twin under load, 3 cycles into a local sink (and InfluxDB if FABRIC_INFLUX_URL)",
              markup=False)
    demo_collect(inventory)
