"""The whole user loop on inventories of other shapes and settings, through the CLI as a user runs it:
validate, render (deterministic), ``lab up --detach --free-ports``, deploy dry run (nothing written), deploy,
re-deploy ("0 changed"), ``collect --once`` into a jsonl sink (samples for every polled device), ``lab down``
(no process left). One mixed fabric runs in ``make test``; the matrix is ``slow``."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from fabric.lab.control import Lab
from tests.conftest import edit_yaml
from tests.e2e.conftest import deploy, fabric, generate, results

POLLED = {"sonic", "eos", "nvue", "comware", "nxos", "huawei_ce", "linux_mlx5"}  # what collect reaches


def platforms(inv: Path) -> dict[str, str]:
    """Device -> platform, inheritance from groups and defaults included (as the generator writes them)."""
    hosts = yaml.safe_load((inv / "hosts.yaml").read_text())
    groups = yaml.safe_load((inv / "groups.yaml").read_text()) or {}
    found = {}
    for name, host in hosts.items():
        platform = host.get("platform") or next((groups[g].get("platform") for g in host.get("groups", [])
                                                 if groups.get(g, {}).get("platform")), None)
        found[name] = str(platform)
    return found


def group_alive(pid: int) -> bool:
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return False
    return True


def full_cycle(inv: Path, tmp: Path) -> None:
    checked = fabric("validate", inv)
    assert checked.returncode == 0, checked.stderr
    for out in ("r1", "r2"):
        rendered = fabric("render", inv, "-o", tmp / out)
        assert rendered.returncode == 0, rendered.stderr
    files = sorted(p.relative_to(tmp / "r1") for p in (tmp / "r1").rglob("*") if p.is_file())
    assert files and files == sorted(p.relative_to(tmp / "r2") for p in (tmp / "r2").rglob("*") if p.is_file())
    assert all((tmp / "r1" / f).read_bytes() == (tmp / "r2" / f).read_bytes() for f in files)

    state, runs = tmp / "lab", tmp / "runs"
    up = fabric("lab", "up", inv, "--detach", "--free-ports", "--state-dir", state)
    assert up.returncode == 0, up.stderr
    lab = Lab(state)
    pid = lab.pid
    assert pid is not None
    try:
        digests = {n: d["config_digest"] for n, d in lab.status()["devices"].items()}
        dry = deploy(inv, lab, runs, "--dry-run")
        assert dry.returncode == 0, dry.stdout[-3000:]
        assert {r["status"] for r in results(dry).values()} <= {"would-change", "unchanged"}
        assert {n: d["config_digest"] for n, d in lab.status()["devices"].items()} == digests
        real = deploy(inv, lab, runs)
        assert real.returncode == 0, json.dumps({n: r.get("reason") for n, r in results(real).items()})
        again = deploy(inv, lab, runs)
        assert again.returncode == 0
        assert {r["status"] for r in results(again).values()} == {"unchanged"}, again.stdout[-3000:]
        sink = tmp / "samples.jsonl"
        collected = fabric("collect", inv, "--lab", state, "--once", "--deadline", "30", "--sink", f"jsonl:{sink}")
        assert collected.returncode == 0, collected.stderr[-3000:]
        rows: list[dict[str, Any]] = [json.loads(line) for line in sink.read_text().splitlines()]
        seen = {row["tags"].get("device") for row in rows}
        assert {n for n, p in platforms(inv).items() if p in POLLED} <= seen
    finally:
        down = fabric("lab", "down", "--state-dir", state)
    assert down.returncode == 0
    assert not group_alive(pid), "lab down left a process of the lab behind"


def test_six_platform_clos_full_cycle(tmp_path: Path) -> None:
    inv = generate(tmp_path / "inv", "--kind", "clos", "--spines", "1", "--leaves", "5", "--servers", "2",
                   "--nics-per-server", "2", "--platforms", "sonic,eos,nvue,comware,nxos,huawei_ce")
    full_cycle(inv, tmp_path)


SHAPES = {
    **{f"clos-{p}": ("--kind", "clos", "--spines", "1", "--leaves", "3", "--servers", "1", "--nics-per-server",
                     "1", "--platforms", p) for p in ("sonic", "eos", "nvue", "comware", "nxos", "huawei_ce")},
    "rail-nxos-huawei-8nic": ("--kind", "rail", "--spines", "2", "--leaves", "8", "--servers", "2",
                              "--nics-per-server", "8", "--platforms", "nxos,huawei_ce"),
    "rail-mixed-planes": ("--kind", "rail", "--spines", "4", "--leaves", "4", "--servers", "4", "--nics-per-server",
                          "2", "--spine-planes", "2", "--platforms", "sonic,eos,nvue,comware"),
    "clos-100g": ("--kind", "clos", "--spines", "1", "--leaves", "2", "--servers", "2", "--nics-per-server", "1",
                  "--server-speed", "100", "--uplink-speed", "100", "--platforms", "sonic,eos"),
    "clos-200g": ("--kind", "clos", "--spines", "1", "--leaves", "2", "--servers", "2", "--nics-per-server", "2",
                  "--server-speed", "200", "--uplink-speed", "400", "--platforms", "nvue,comware"),
    "ib-rail": ("--kind", "rail", "--spines", "2", "--leaves", "4", "--servers", "2", "--nics-per-server", "4",
                "--transport", "infiniband"),
}


@pytest.mark.slow
@pytest.mark.parametrize("shape", list(SHAPES))
def test_generated_shapes_full_cycle(tmp_path: Path, shape: str) -> None:
    full_cycle(generate(tmp_path / "inv", *SHAPES[shape]), tmp_path)


def _links(change: Callable[[str, str, dict[str, Any]], None]) -> Callable[[Any], None]:
    def edit(hosts: Any) -> None:
        for name, host in hosts.items():
            for interface in host["data"]["interfaces"].values():
                change(name, interface["peer"].split(":")[0], interface)
    return edit


def _cables(name: str, peer: str, interface: dict[str, Any]) -> None:
    interface["cable_length_m"] = 1 if "gpu" in (name + peer) else 300


def _speeds(name: str, peer: str, interface: dict[str, Any]) -> None:
    interface["speed_gbps"] = 100 if "gpu" in (name + peer) else 200


FABRIC_EDITS: dict[str, Callable[[Any], None]] = {
    "mtu-9000-host-4200": lambda f: f.update(mtu=9000, host_mtu=4200),
    "dscp-24-priority-4": lambda f: f.update(qos={**f["qos"], "roce_dscp": [24], "lossless_priority": 4,
                                                  "cnp_dscp": 46, "cnp_priority": 7},
                                             pfc={**f["pfc"], "priorities": [4]}),
    "explicit-ecn": lambda f: f.update(ecn={"mode": "explicit", "default_profile": "roce", "profiles": {
        "roce": {"kmin_bytes": "100KB", "kmax_bytes": "1MB", "pmax_percent": 10}}}),
    "traditional-buffers": lambda f: f["buffers"].update(model="traditional"),
    "watchdog-off": lambda f: f["pfc"]["watchdog"].update(enabled=False),
}
HOST_EDITS: dict[str, Callable[[Any], None]] = {"cables-1m-300m": _links(_cables), "speeds-100-200": _links(_speeds)}


@pytest.mark.slow
@pytest.mark.parametrize("edit", [*FABRIC_EDITS, *HOST_EDITS])
def test_hand_edited_settings_full_cycle(tmp_path: Path, edit: str) -> None:
    inv = generate(tmp_path / "inv", "--kind", "clos", "--spines", "2", "--leaves", "4", "--servers", "2",
                   "--nics-per-server", "2", "--platforms", "sonic,eos,nvue,comware,nxos,huawei_ce")
    if edit in FABRIC_EDITS:
        edit_yaml(inv / "fabric.yaml", FABRIC_EDITS[edit])
    else:
        edit_yaml(inv / "hosts.yaml", HOST_EDITS[edit])
    full_cycle(inv, tmp_path)
