"""fabric deploy INV: diff, push, verify and roll back the rendered configuration, device by device.

Credentials: ``FABRIC_SSH_PASSWORD`` from the environment, else SSH keys / the agent; never a flag. Host keys
are checked against ``~/.ssh/known_hosts`` (``--known-hosts FILE`` for another file); ``--lab STATE_DIR``
deploys to a running twin with the twin's own password and known_hosts.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import Progress

from fabric.cli import exitcodes
from fabric.cli.output import err, out, print_json, print_report, table
from fabric.deploy.driver import Target
from fabric.deploy.drivers import DRIVERS, candidate_text
from fabric.deploy.run import Options, RunReport, deploy, rollback_run
from fabric.deploy.store import DEFAULT_RUNS_DIR
from fabric.inventory.models import Device


def _say(message: str) -> None:
    err.print(message, markup=False, emoji=False, highlight=False)


def _fail(message: str, code: int) -> typer.Exit:
    _say(f"error: {message}")
    return typer.Exit(code)


def lab_targets(devices: list[Device], lab_dir: Path, timeout_s: float) -> list[Target]:
    """Targets on a running twin: its endpoints, its password, its known_hosts (strict checking stays on)."""
    from fabric.lab.control import Lab, LabError

    lab = Lab(lab_dir)
    try:
        password, known_hosts = lab.password, lab.known_hosts
        targets = []
        for d in devices:
            ep = lab.endpoint(d.name, "eapi" if d.platform == "eos" else "ssh")
            targets.append(Target(d.name, d.platform, ep["address"], int(ep["port"]), ep["username"], password,
                                  known_hosts, timeout_s=timeout_s, api_port=int(ep["port"]), api_transport="http"))
    except (LabError, OSError, KeyError) as exc:
        raise _fail(f"--lab {lab_dir}: {exc}; start it with 'fabric lab up INV'", exitcodes.INVALID) from None
    return targets


def inventory_targets(devices: list[Device], known_hosts: Path | None, timeout_s: float) -> list[Target]:
    """Targets from the inventory: management address and port, password from FABRIC_SSH_PASSWORD (else
    keys/agent), host keys from ``known_hosts`` or the user's own."""
    password = os.environ.get("FABRIC_SSH_PASSWORD") or None
    return [Target(d.name, d.platform, d.hostname, d.port or 22, d.username or "admin", password, known_hosts,
                   timeout_s=timeout_s, api_port=d.port if d.platform == "eos" and d.port != 22 else 443)
            for d in devices]


def _progress(total: int) -> tuple[Progress | None, Options | None]:
    """A rich progress bar on stderr when it is a terminal (None otherwise)."""
    if not sys.stderr.isatty():
        return None, None
    progress = Progress(console=err, transient=True)
    task = progress.add_task("deploy", total=total)

    def event(device: str, step: str) -> None:
        done = step.split(":")[0] in ("unchanged", "changed", "would-change", "failed")
        progress.update(task, advance=1 if done else 0, description=f"{device}: {step.split(':')[0]}")

    progress.start()
    return progress, Options(on_event=event)


def _print(report: RunReport, json_output: bool, show_diff: bool) -> None:
    if json_output:
        print_json(report.document())
        return
    if show_diff:
        for r in report.results:
            if r.diff:
                out.print(f"--- {r.device} ({r.platform}): {len(r.diff)} change(s)", markup=False)
                for line in r.diff:
                    out.print(line, markup=False, highlight=False)
    table(f"deploy run {report.run_id}" + (" (dry run: nothing pushed)" if report.dry_run else ""),
          ["device", "platform", "changed lines", "result", "seconds"],
          [[r.device, r.platform, r.changed_lines, r.status, f"{r.seconds:.1f}"] for r in report.results])
    for r in report.results:
        if r.reason:
            _say(f"{r.device}: {r.reason}")
    counts = {status: sum(r.status == status for r in report.results) for status in
              ("would-change" if report.dry_run else "changed", "unchanged", "rolled-back", "restored", "skipped",
               "failed")}
    shown = [f"{n} {status.replace('-', ' ')}"
             for status, n in counts.items() if n or status in ("changed", "would-change", "unchanged", "failed")]
    _say(f"{', '.join(shown)}; run {report.run_id} in {report.run_dir}")


def deploy_command(
    inventory: Annotated[Path, typer.Argument(help="Inventory folder.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the diffs; change nothing.")] = False,
    limit: Annotated[list[str] | None, typer.Option(
        "--limit", help="Host pattern, group:, role:, platform:; !PATTERN excludes; repeatable.")] = None,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Devices in flight at once.")] = 10,
    canary: Annotated[int, typer.Option("--canary", min=0, help="Deploy and verify N devices first.")] = 0,
    atomic: Annotated[bool, typer.Option("--atomic/--no-atomic",
                                         help="On any failure roll back every device this run changed.")] = True,
    timeout: Annotated[float, typer.Option("--timeout", min=0.5, help="Per-device time limit, seconds.")] = 180.0,
    json_output: Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")] = False,
    lab: Annotated[Path | None, typer.Option("--lab", help="Deploy to the running twin of this state dir.")] = None,
    known_hosts: Annotated[Path | None, typer.Option(
        "--known-hosts", help="known_hosts file to check host keys against (default ~/.ssh/known_hosts).")] = None,
    runs_dir: Annotated[Path, typer.Option("--runs-dir", help="Where runs keep backups, diffs, results "
                                           "(or FABRIC_RUNS_DIR).")] = DEFAULT_RUNS_DIR,
    rollback: Annotated[str | None, typer.Option("--rollback", help="Restore the backups of run RUN_ID.")] = None,
) -> None:
    """Deploy the rendered configuration: diff, back up, push, verify; roll back on failure."""
    from fabric.intent.check import validate_inventory
    from fabric.inventory.select import select_devices
    from fabric.render import render_fabric

    result = validate_inventory(str(inventory))
    if result.fabric is None or not result.report.ok:
        print_report(result.report)
        raise _fail(f"{inventory}: invalid inventory; nothing deployed (run 'fabric validate {inventory}')",
                    exitcodes.INVALID)
    names = select_devices(result.fabric, limit or [])
    if not names:
        raise _fail(f"--limit {' '.join(limit or [])}: matches no device", exitcodes.INVALID)
    skipped = [n for n in names if result.fabric.devices[n].platform not in DRIVERS]
    for name in skipped:
        _say(f"warning: {name}: no deploy driver for platform {result.fabric.devices[name].platform}; skipped")
    devices = [result.fabric.devices[n] for n in names if n not in skipped]
    targets = (lab_targets(devices, lab, timeout) if lab is not None
               else inventory_targets(devices, known_hosts, timeout))
    progress, options = _progress(len(targets))
    options = options or Options()
    options.dry_run, options.workers, options.canary, options.atomic = dry_run, workers, canary, atomic
    try:
        if rollback is not None:
            run_dir = runs_dir / rollback
            if not (run_dir / "result.json").exists():
                raise _fail(f"--rollback {rollback}: no such run in {runs_dir}", exitcodes.INVALID)
            report = rollback_run(run_dir, {t.device: t for t in targets}, runs_dir, options)
        else:
            configs = render_fabric({d.name: result.intents[d.name] for d in devices})
            candidates = {name: candidate_text(c.files) for name, c in configs.items()}
            report = deploy(targets, candidates, runs_dir, options)
    finally:
        if progress is not None:
            progress.stop()
    _print(report, json_output, dry_run)
    if report.exit_code:
        raise typer.Exit(report.exit_code)


def demo_deploy(lab_dir: Path, intents: dict[str, Any], devices: list[Device]) -> None:
    """The demo's deploy step on a running twin: a dry run's diff summary, the deploy, an idempotent re-deploy."""
    import tempfile
    from collections import Counter

    from fabric.render import render_fabric

    devices = [d for d in devices if d.platform in DRIVERS]
    configs = render_fabric({d.name: intents[d.name] for d in devices})
    candidates = {name: candidate_text(c.files) for name, c in configs.items()}
    with tempfile.TemporaryDirectory(prefix="fabric-demo-deploy-") as scratch:
        targets = lab_targets(devices, lab_dir, 60.0)
        runs = Path(scratch) / "runs"
        dry = deploy(targets, candidates, runs, Options(dry_run=True))
        per_platform: Counter[str] = Counter()
        for r in dry.results:
            per_platform[r.platform] += r.changed_lines
        _say("[+] deploy --dry-run: " + ", ".join(f"{p} {n} lines" for p, n in sorted(per_platform.items()))
             + f"; {sum(r.status == 'would-change' for r in dry.results)} devices would change, nothing pushed")
        real = deploy(targets, candidates, runs, Options())
        _print(real, json_output=False, show_diff=False)
        again = deploy(targets, candidates, runs, Options())
        if again.exit_code:
            _print(again, json_output=False, show_diff=False)
        changed = sum(r.status == "changed" for r in again.results)
        _say(f"[+] re-deploy: {changed} changed, {sum(r.status == 'unchanged' for r in again.results)} unchanged"
             + (" (idempotent)" if not changed and not again.exit_code else " (NOT idempotent)"))
    if real.exit_code or again.exit_code:
        raise typer.Exit(real.exit_code or again.exit_code)
