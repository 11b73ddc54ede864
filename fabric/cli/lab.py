"""fabric lab up | down | status | fault | truth: the digital twin of an inventory."""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from fabric.cli import exitcodes
from fabric.cli.output import err, print_json, table
from fabric.lab.control import DEFAULT_STATE_DIR, Lab, LabError
from fabric.lab.device import FAULTS

app = typer.Typer(no_args_is_help=True, help="The digital twin: every device as real SSH/eAPI/SNMP endpoints.")

StateDir = Annotated[Path, typer.Option("--state-dir", help="Where the lab keeps its PID, keys and state.",
                                        envvar="FABRIC_LAB_DIR")]


def _fail(exc: LabError) -> typer.Exit:
    err.print(f"error: {exc}", markup=False)
    return typer.Exit(exitcodes.INVALID)


@app.command()
def up(
    inventory: Annotated[Path, typer.Argument(help="Inventory folder to bring up.")],
    state_dir: StateDir = DEFAULT_STATE_DIR,
    detach: Annotated[bool, typer.Option("--detach", help="Return once the lab is up; stop it with 'lab down'.")]
    = False,
    free_ports: Annotated[bool, typer.Option(
        "--free-ports", help="Listen on free ports of each device address instead of the inventory's.")] = False,
    load: Annotated[float, typer.Option("--load", min=0.0, max=1.0, help="Steady traffic on every link, fraction "
                                        "of line rate (no physics; --workload runs the congestion engine).")] = 0.0,
    workload: Annotated[Path | None, typer.Option(
        "--workload", help="workloads/*.yaml: the congestion engine turns it and the applied config into counters.")]
    = None,
) -> None:
    """Bring every device of INVENTORY up on its own loopback address; Ctrl-C (or 'lab down') stops it."""
    lab = Lab(state_dir)
    started = time.monotonic()
    if workload is not None:
        _check_workload(inventory, workload)
    try:
        lab.up(inventory, free_ports=free_ports, load=load, workload=workload)
        devices = lab.status()["devices"]
    except LabError as exc:
        raise _fail(exc) from None
    endpoints = sum(len(d["endpoints"]) for d in devices.values())
    err.print(f"lab up: {len(devices)} devices, {endpoints} endpoints in {time.monotonic() - started:.1f} s "
              f"(state {state_dir}, pid {lab.pid})", markup=False)
    if detach:
        return
    err.print("serving; Ctrl-C stops the lab", markup=False)
    try:
        signal.sigwait({signal.SIGINT, signal.SIGTERM})
    finally:
        lab.down()
        err.print("lab down", markup=False)


def _check_workload(inventory: Path, workload: Path) -> None:
    """A bad workload file (or one this inventory cannot run) is a one-line error before anything starts."""
    from fabric.intent.check import validate_inventory
    from fabric.lab.workload import WorkloadError, hosts_of, load_workload

    fabric = validate_inventory(str(inventory)).fabric
    try:
        loaded = load_workload(workload)
        if fabric is not None:
            loaded.generators(hosts_of(fabric))
    except WorkloadError as exc:
        err.print(f"error: {exc}", markup=False)
        raise typer.Exit(exitcodes.INVALID) from None


@app.command()
def down(state_dir: StateDir = DEFAULT_STATE_DIR) -> None:
    """Stop the lab (by PID) and every process it started."""
    stopped = Lab(state_dir).down()
    err.print("lab down" if stopped else f"no lab was running from {state_dir}", markup=False)


@app.command()
def status(
    state_dir: StateDir = DEFAULT_STATE_DIR,
    json_output: Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")] = False,
    show_credentials: Annotated[bool, typer.Option(
        "--show-credentials", help="Also print the lab password and client key path (secrets!).")] = False,
) -> None:
    """Devices, endpoints (protocol, address, port, credentials reference), config digests, faults."""
    lab = Lab(state_dir)
    try:
        state: dict[str, Any] = lab.status()
    except LabError as exc:
        raise _fail(exc) from None
    if show_credentials:
        state["credentials"] = {"password": lab.password, "client_key": str(lab.client_key),
                                "known_hosts": str(lab.known_hosts)}
    if json_output:
        print_json(state)
        return
    rows = [[name, d["platform"], " ".join(f"{e['protocol']}://{e['address']}:{e['port']}" for e in d["endpoints"]),
             d["config_digest"], ",".join(d["faults"]) or "-"] for name, d in state["devices"].items()]
    table(f"lab {state_dir} (pid {state['pid']})", ["device", "platform", "endpoints", "config", "faults"], rows)
    if "engine" in state:
        _engine_table(state["engine"])
    if show_credentials:
        err.print(f"password: {lab.password}  client key: {lab.client_key}  known_hosts: {lab.known_hosts}",
                  markup=False)


@app.command()
def fault(
    device: Annotated[str, typer.Argument(help="Device name.")],
    kind: Annotated[str, typer.Argument(help=f"One of: {', '.join(FAULTS)}.")],
    seconds: Annotated[float | None, typer.Option("--for", help="Clear by itself after this many seconds.")] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Clear this fault kind ('all' clears every fault).")]
    = False,
    port: Annotated[str | None, typer.Option("--port", help="link-down: only this port (until cleared).")] = None,
    state_dir: StateDir = DEFAULT_STATE_DIR,
) -> None:
    """Inject (or --clear) a fault on one device of the running lab."""
    lab = Lab(state_dir)
    try:
        if clear:
            lab.clear(device, None if kind == "all" else kind)
        else:
            lab.fault(device, kind, seconds, port)
    except LabError as exc:
        raise _fail(exc) from None
    action = "cleared" if clear else f"injected{f' for {seconds:g} s' if seconds else ''}"
    err.print(f"{device}: {kind} {action}", markup=False)


def _engine_table(engine: dict[str, Any]) -> None:
    """Counters moving since up, per device: what the congestion engine has written."""
    rows = [[name, f"{d['tx_gbps']:.1f}", f"{d['tx_pause']:.0f}", f"{d['rx_pause']:.0f}", f"{d['ecn_marked']:.0f}",
             f"{d['drops']:.0f}"] for name, d in engine["devices"].items()]
    title = (f"congestion engine: workload {engine['workload']}, model {engine['model_s']:.1f} s "
             f"(lag {engine['lag_s']:.1f} s, epoch {engine['epoch_ms']:.1f} ms), {engine['flows']} flows live")
    table(title, ["device", "tx Gb/s", "pause tx", "pause rx", "ECN marked", "drops"], rows)
    if engine.get("failed"):
        err.print(f"error: the congestion engine stopped at model {engine['model_s']:.1f} s: {engine['failed']} "
                  "(the counters stay where they were; details in the lab's log)", markup=False)


@app.command()
def truth(
    state_dir: StateDir = DEFAULT_STATE_DIR,
    json_output: Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")] = False,
) -> None:
    """Ground truth of the running workload: FCT slowdown by flow size, collective completion times, goodput,
    per-flow rates. For tests and benchmarks: the tuner never reads it (a real fabric cannot tell it)."""
    try:
        doc = Lab(state_dir).truth()
    except LabError as exc:
        raise _fail(exc) from None
    if json_output:
        print_json(doc)
        return
    print_truth(doc)


def print_truth(doc: dict[str, Any]) -> None:
    """``fabric lab truth`` without ``--json``: a twin's truth document as tables."""
    rows = [[bucket, s["count"], f"{s['p50']:.2f}", f"{s['p99']:.2f}", f"{s['mean']:.2f}"]
            for bucket, s in doc["fct_slowdown"].items()]
    table(f"FCT slowdown, workload {doc['workload']} at {doc['model_s']:.1f} s "
          f"(goodput {doc['goodput_gbps']:.1f} Gb/s, {doc['flows']['completed']} flows done, "
          f"{doc['flows']['active']} active)",
          ["size", "flows", "p50", "p99", "mean"], rows)
    cct = doc["collectives"]["cct_s"]
    if cct:
        last = list(cct.items())[-10:]
        table(f"collective completion (last {len(last)} of {doc['collectives']['completed']})", ["group", "ms"],
              [[g, f"{s * 1e3:.2f}"] for g, s in last])
    launches = doc["collectives"].get("launches", {})
    if launches.get("time_s"):
        last = list(launches["time_s"].items())[-10:]
        table(f"whole collectives (last {len(last)} of {launches['completed']}: every step or stage of a launch)",
              ["launch", "ms"], [[g, f"{s * 1e3:.2f}"] for g, s in last])
    dropped = [[phase, why, got["flows"], f"{got['bytes'] / 1e9:.2f}"]
               for why, key in (("past its deadline", "abandoned"), ("no route", "unroutable"))
               for phase, got in doc.get(key, {}).items()]
    dropped += [[phase, f"{got['launches']} launches overtaken", got["flows"], f"{got['bytes'] / 1e9:.2f}"]
                for phase, got in doc["collectives"].get("skipped", {}).items()]
    if dropped:
        table("flows given up (an open-loop phase the fabric cannot carry, endpoints with no path, or a "
              "collective slower than its period)", ["phase", "why", "flows", "GB undelivered"], dropped)
    flows = doc["per_flow"][:10]
    if flows:
        table("fastest active flows", ["src", "dst", "phase", "Gb/s"],
              [[f["src"], f["dst"], f["tag"], f"{f['rate_gbps']:.2f}"] for f in flows])

