"""Hand-edited inventories (settings the shipped ones never use) through validate, render and deploy."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fabric.lab.control import Lab
from tests.conftest import edit_yaml
from tests.e2e.conftest import deploy, fabric, generate, results


def watchdog_off(data: Any) -> None:
    data["pfc"]["watchdog"]["enabled"] = False


def test_sonic_with_the_watchdog_off_deploys(tmp_path: Path, lab_of: Callable[..., Lab]) -> None:
    """With the PFC watchdog off the SONiC render held an empty PFC_WD table, which config apply-patch refuses
    ("Table PFC_WD is empty, which is not allowed in ConfigDb"): every SONiC switch failed and, atomic, the whole
    fabric was rolled back."""
    inv = generate(tmp_path / "inv", "--kind", "clos", "--spines", "1", "--leaves", "1", "--servers", "1",
                   "--nics-per-server", "1", "--platforms", "sonic")
    edit_yaml(inv / "fabric.yaml", watchdog_off)
    checked = fabric("validate", inv)
    assert checked.returncode == 0 and "watchdog is off" in checked.stdout + checked.stderr
    rendered = fabric("render", inv, "-o", tmp_path / "out")
    assert rendered.returncode == 0, rendered.stderr
    tables = json.loads((tmp_path / "out" / "spine1" / "config_db.json").read_text())
    assert "PFC_WD" not in tables and all(entries != {} for entries in tables.values())

    lab = lab_of(inv)
    first = deploy(inv, lab, tmp_path / "runs", "--limit", "spine1", "--limit", "leaf1")
    assert first.returncode == 0, first.stdout[-2000:]
    assert {r["status"] for r in results(first).values()} == {"changed"}
    again = deploy(inv, lab, tmp_path / "runs", "--limit", "spine1", "--limit", "leaf1")
    assert {r["status"] for r in results(again).values()} == {"unchanged"}


def to_priority_4(data: Any) -> None:
    data["qos"].update(roce_dscp=[24], lossless_priority=4)
    data["pfc"]["priorities"] = [4]


def pfc_priorities(platform: str, running: str) -> set[int]:
    """The priorities the device's running configuration holds PFC no-drop on (each platform's own form)."""
    from fabric.deploy.diff import parse_tree
    from fabric.deploy.nvue import applied_tree

    tree = parse_tree(running)
    if platform == "eos":
        return {int(m.group(1)) for profile in tree.children.values() for line in profile.children
                if (m := re.fullmatch(r"priority-flow-control priority (\d) no-drop", line))}
    if platform == "comware":
        return {int(p) for port in tree.children.values() for line in port.children
                if line.startswith("priority-flow-control no-drop dot1p ") for p in line.split()[3:]}
    if platform == "nxos":
        return {int(line.split()[-1]) for policy in tree.children.values() for cls in policy.children.values()
                for line in cls.children if line.startswith("pause pfc-cos ")}
    if platform == "huawei_ce":
        return {int(p) for line in tree.children["dcb pfc"].children if line.startswith("priority ")
                for p in line.split()[1:]}
    if platform == "sonic":
        ports = json.loads(running)["PORT_QOS_MAP"].values()
        return {int(p) for port in ports for p in port.get("pfc_enable", "").split(",") if p}
    assert platform == "nvue"
    profiles = applied_tree(running)["qos"]["pfc"].values()
    return {int(p) for profile in profiles for p in profile["switch-priority"]}


@pytest.mark.parametrize("platforms", [
    "eos,comware",
    pytest.param("nxos,huawei_ce", marks=pytest.mark.slow),
    pytest.param("sonic,nvue", marks=pytest.mark.slow),
])
def test_moving_the_lossless_class_leaves_no_pfc_on_the_old_priority(tmp_path: Path, lab_of: Callable[..., Lab],
                                                                     platforms: str) -> None:
    """Deploy used to merge only: a lossless class moved from priority 3 to 4 kept PFC no-drop on 3 (EOS) or
    failed verification and rolled back (Comware). Now the old priority's lines are removed, the dry run lists
    them, and a second deploy changes nothing."""
    inv = generate(tmp_path / "inv", "--kind", "clos", "--spines", "1", "--leaves", "1", "--servers", "1",
                   "--nics-per-server", "1", "--platforms", platforms)
    lab = lab_of(inv)
    assert deploy(inv, lab, tmp_path / "runs").returncode == 0
    edit_yaml(inv / "fabric.yaml", to_priority_4)
    switches = ("--limit", "spine1", "--limit", "leaf1")
    planned = results(deploy(inv, lab, tmp_path / "runs", "--dry-run", *switches))
    for name, result in planned.items():
        assert result["status"] == "would-change" and any(line.startswith("-") for line in result["diff"]), name
    moved = deploy(inv, lab, tmp_path / "runs")
    assert moved.returncode == 0, moved.stdout[-2000:]
    for device, (platform, running) in running_configs(inv, lab, ("spine1", "leaf1")).items():
        assert pfc_priorities(platform, running) == {4}, device
    again = deploy(inv, lab, tmp_path / "runs", *switches)
    assert {r["status"] for r in results(again).values()} == {"unchanged"}, again.stdout[-2000:]


def running_configs(inv: Path, lab: Lab, names: tuple[str, ...]) -> dict[str, tuple[str, str]]:
    """Each named device's (platform, running config), read from the twin through its production driver."""
    from fabric.cli.deploy import lab_targets
    from fabric.deploy.drivers import make_driver
    from fabric.inventory.load import load_inventory

    fabric_ = load_inventory(str(inv)).fabric
    assert fabric_ is not None
    out = {}
    for target in lab_targets([fabric_.devices[name] for name in names], lab.state_dir, 30.0):
        driver = make_driver(target)
        driver.open()
        try:
            out[target.device] = (target.platform, driver.get_running())
        finally:
            driver.close()
    return out


def pfc_on(*priorities: int) -> Callable[[Any], None]:
    def change(data: Any) -> None:
        data["pfc"]["priorities"] = list(priorities)
    return change


def test_nvue_dropping_one_of_two_pfc_priorities_keeps_the_other(tmp_path: Path, lab_of: Callable[..., Lab]) -> None:
    """NVUE's PFC ``switch-priority`` is a collection (``nv unset qos pfc P switch-priority 4`` removes one
    member). Going from 3,4 to 3, the twin's diff said ``nv unset qos pfc P switch-priority``, which cleared
    both: verification failed and the deploy rolled back."""
    inv = generate(tmp_path / "inv", "--kind", "clos", "--spines", "1", "--leaves", "1", "--servers", "1",
                   "--nics-per-server", "1", "--platforms", "nvue")
    edit_yaml(inv / "fabric.yaml", pfc_on(3, 4))
    lab = lab_of(inv)
    switches = ("--limit", "spine1", "--limit", "leaf1")
    first = deploy(inv, lab, tmp_path / "runs", *switches)
    assert first.returncode == 0, first.stdout[-2000:]
    edit_yaml(inv / "fabric.yaml", pfc_on(3))
    planned = results(deploy(inv, lab, tmp_path / "runs", "--dry-run", *switches))
    for name, result in planned.items():
        diff = result["diff"]
        assert diff and all(re.fullmatch(r"- nv unset qos pfc \S+ switch-priority 4", d) for d in diff), (name, diff)
    moved = deploy(inv, lab, tmp_path / "runs", *switches)
    assert moved.returncode == 0, moved.stdout[-2000:]
    for device, (platform, running) in running_configs(inv, lab, ("spine1", "leaf1")).items():
        assert pfc_priorities(platform, running) == {3}, device
    again = deploy(inv, lab, tmp_path / "runs", *switches)
    assert {r["status"] for r in results(again).values()} == {"unchanged"}, again.stdout[-2000:]


def trust_pcp(data: Any) -> None:
    data["qos"]["trust"] = "pcp"


def test_huawei_ce_trust_from_dscp_to_pcp_keeps_the_diffserv_domain(tmp_path: Path,
                                                                    lab_of: Callable[..., Lab]) -> None:
    """The deploy negates the stale ``trust dscp`` (``undo trust dscp``) and adds ``trust 8021p outer``; the
    twin's undo removed every statement starting with ``trust``, ``trust upstream`` too, so verification
    failed and the deploy rolled back."""
    inv = generate(tmp_path / "inv", "--kind", "clos", "--spines", "1", "--leaves", "1", "--servers", "1",
                   "--nics-per-server", "1", "--platforms", "huawei_ce")
    lab = lab_of(inv)
    switches = ("--limit", "spine1", "--limit", "leaf1")
    assert deploy(inv, lab, tmp_path / "runs", *switches).returncode == 0
    edit_yaml(inv / "fabric.yaml", trust_pcp)
    moved = deploy(inv, lab, tmp_path / "runs", *switches)
    assert moved.returncode == 0, moved.stdout[-2000:]
    assert {r["status"] for r in results(moved).values()} == {"changed"}
    again = deploy(inv, lab, tmp_path / "runs", *switches)
    assert {r["status"] for r in results(again).values()} == {"unchanged"}, again.stdout[-2000:]


def slow_watchdog(data: Any) -> None:
    data["pfc"]["watchdog"].update(detect_ms=1200, restore_ms=1500)


def test_huawei_ce_deadlock_timers_up_to_1500_ms_deploy(tmp_path: Path, lab_of: Callable[..., Lab]) -> None:
    """``fabric validate`` allows CloudEngine deadlock timers up to 1500 ms, Huawei's range; the twin refused
    anything above 1000 ("Wrong parameter") and the deploy failed."""
    inv = generate(tmp_path / "inv", "--kind", "clos", "--spines", "1", "--leaves", "1", "--servers", "1",
                   "--nics-per-server", "1", "--platforms", "huawei_ce")
    edit_yaml(inv / "fabric.yaml", slow_watchdog)
    assert fabric("validate", inv).returncode == 0
    lab = lab_of(inv)
    first = deploy(inv, lab, tmp_path / "runs", "--limit", "spine1", "--limit", "leaf1")
    assert first.returncode == 0, first.stdout[-2000:]
    assert {r["status"] for r in results(first).values()} == {"changed"}


@pytest.mark.parametrize("platform", ["comware", "huawei_ce"])
def test_50g_servers_and_800g_uplinks_deploy(tmp_path: Path, lab_of: Callable[..., Lab], platform: str) -> None:
    """``inventory generate`` names 50G and 800G ports ``FiftyGigE``/``EightHundredGigE`` (Comware) and
    ``50GE``/``800GE`` (CloudEngine); the twin knew neither Comware name nor ``800GE``, so the deploy failed
    with "Wrong parameter" at ``interface ...``."""
    inv = generate(tmp_path / "inv", "--kind", "clos", "--spines", "1", "--leaves", "1", "--servers", "1",
                   "--nics-per-server", "1", "--platforms", platform, "--server-speed", "50",
                   "--uplink-speed", "800")
    lab = lab_of(inv)
    switches = ("--limit", "spine1", "--limit", "leaf1")
    first = deploy(inv, lab, tmp_path / "runs", *switches)
    assert first.returncode == 0, first.stdout[-2000:]
    assert {r["status"] for r in results(first).values()} == {"changed"}
    again = deploy(inv, lab, tmp_path / "runs", *switches)
    assert {r["status"] for r in results(again).values()} == {"unchanged"}, again.stdout[-2000:]
