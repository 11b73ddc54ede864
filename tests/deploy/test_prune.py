"""Deploy converges within fabric's scope, on the twin over eAPI (EOS) and SSH (Comware): owned lines the rendered
configuration lacks are removed, lines fabric does not own survive, a dry run lists the removals and writes
nothing, a second deploy changes nothing, and a rollback brings the removed lines back."""

from __future__ import annotations

import json
from pathlib import Path

from fabric.cli.deploy import lab_targets
from fabric.deploy.drivers import make_driver
from fabric.deploy.napalm import NapalmDriver
from fabric.deploy.views import ViewCliDriver
from fabric.inventory.load import load_inventory
from fabric.lab.control import Lab
from tests.deploy.test_deploy_twin import INV, digests, equals_backup, limit, results, run

# leaf3 (eos): fabric's lines that the render does not have (a priority, an old profile, an interface's PFC
# bindings) next to lines fabric does not own (another profile, a cos map, the management interface, an address)
EOS_BEFORE = """\
qos map cos 1 to traffic-class 1
qos profile CUSTOM
   priority-flow-control priority 5 no-drop
qos profile QOS_ROCE_old
   priority-flow-control on
qos profile QOS_ROCE_roce_ecn_400g
   priority-flow-control priority 5 no-drop
interface Management1
   mtu 1500
   ip address 192.0.2.5/24
interface Ethernet1/1
   ip address 10.1.1.1/31
   service-profile QOS_ROCE_old
"""
EOS_GONE = [("qos profile QOS_ROCE_roce_ecn_400g", "priority-flow-control priority 5 no-drop"),
            ("", "qos profile QOS_ROCE_old"), ("interface Ethernet1/1", "service-profile QOS_ROCE_old")]
EOS_KEPT = [("", "qos map cos 1 to traffic-class 1"),
            ("qos profile CUSTOM", "priority-flow-control priority 5 no-drop"),
            ("interface Management1", "mtu 1500"), ("interface Management1", "ip address 192.0.2.5/24"),
            ("interface Ethernet1/1", "ip address 10.1.1.1/31")]

# leaf4 (comware): a headroom on an unused priority and an old WRED table applied to a port are fabric's; another
# WRED table, the deadlock precision and a port's deadlock recover mode are not
COMWARE_BEFORE = ["qos wred queue table OLD", " queue 1 ecn", " quit", "qos wred queue table OTHER", " queue 2 ecn",
                  " quit", "priority-flow-control deadlock precision high", "interface HundredGigE1/0/3",
                  " priority-flow-control dot1p 5 headroom 100", " qos wred apply OLD",
                  " priority-flow-control deadlock recover-mode manual", " quit"]
COMWARE_GONE = [("interface HundredGigE1/0/3", "priority-flow-control dot1p 5 headroom 100"),
                ("interface HundredGigE1/0/3", "qos wred apply OLD"), ("", "qos wred queue table OLD")]
COMWARE_KEPT = [("", "qos wred queue table OTHER"), ("qos wred queue table OTHER", "queue 2 ecn"),
                ("", "priority-flow-control deadlock precision high"),
                ("interface HundredGigE1/0/3", "priority-flow-control deadlock recover-mode manual")]


def driver_for(lab: Lab, device: str) -> NapalmDriver | ViewCliDriver:
    fabric = load_inventory(str(INV)).fabric
    assert fabric is not None
    [target] = lab_targets([fabric.devices[device]], lab.state_dir, 30.0)
    driver = make_driver(target)
    assert isinstance(driver, NapalmDriver | ViewCliDriver)
    driver.open()
    return driver


def configure(lab: Lab) -> None:
    """Type the 'before' lines as an operator would (a merge on EOS, system view on Comware)."""
    eos = driver_for(lab, "leaf3")
    assert isinstance(eos, NapalmDriver)
    try:
        eos.device.load_merge_candidate(config=EOS_BEFORE)
        eos.device.commit_config()
    finally:
        eos.close()
    comware = driver_for(lab, "leaf4")
    assert isinstance(comware, ViewCliDriver)
    try:
        comware._apply(COMWARE_BEFORE, "setup")
    finally:
        comware.close()


def running(lab: Lab, device: str) -> dict[str, set[str]]:
    """The device's running configuration as block header -> its lines ("" for the top level)."""
    from fabric.deploy.diff import flatten

    driver = driver_for(lab, device)
    try:
        text = driver.get_running()
    finally:
        driver.close()
    blocks: dict[str, set[str]] = {}
    for path, line in flatten(text):
        blocks.setdefault(path[-1] if path else "", set()).add(line)
    return blocks


def has(blocks: dict[str, set[str]], header: str, line: str) -> bool:
    return line in blocks.get(header, set())


def test_deploy_removes_stale_owned_lines_keeps_the_rest_and_rolls_back(fresh_twin: Lab, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    configure(fresh_twin)
    for device, gone, kept in (("leaf3", EOS_GONE, EOS_KEPT), ("leaf4", COMWARE_GONE, COMWARE_KEPT)):
        blocks = running(fresh_twin, device)
        assert all(has(blocks, *entry) for entry in gone + kept), (device, blocks)
    before = digests(fresh_twin)

    dry = run(fresh_twin, runs, "--dry-run", "--json", *limit("leaf3", "leaf4"))
    assert dry.returncode == 0, dry.stderr
    assert digests(fresh_twin) == before  # a dry run writes nothing
    planned = results(dry)
    eos_removed = {line[1:].strip() for line in planned["leaf3"]["diff"] if line.startswith("-")}
    assert {"priority-flow-control priority 5 no-drop", "qos profile QOS_ROCE_old",
            "service-profile QOS_ROCE_old"} <= eos_removed, planned["leaf3"]["diff"]
    assert "- qos wred queue table OLD" in planned["leaf4"]["diff"]
    assert "-   priority-flow-control dot1p 5 headroom 100" in planned["leaf4"]["diff"]
    for r in planned.values():  # the unmanaged lines are not in any plan
        assert not any("CUSTOM" in line or "OTHER" in line or "recover-mode" in line or "precision" in line
                       or "192.0.2.5" in line or "10.1.1.1" in line for line in r["diff"]), r["diff"]

    real = run(fresh_twin, runs, "--json", *limit("leaf3", "leaf4"))
    assert real.returncode == 0, real.stderr
    assert {r["status"] for r in results(real).values()} == {"changed"}
    for device, gone, kept in (("leaf3", EOS_GONE, EOS_KEPT), ("leaf4", COMWARE_GONE, COMWARE_KEPT)):
        blocks = running(fresh_twin, device)
        assert not any(has(blocks, *entry) for entry in gone), (device, blocks)
        assert all(has(blocks, *entry) for entry in kept), (device, blocks)

    again = run(fresh_twin, runs, *limit("leaf3", "leaf4"))
    assert again.returncode == 0 and "0 changed, 2 unchanged, 0 failed" in again.stderr, again.stderr

    back = run(fresh_twin, runs, "--json", "--rollback", json.loads(real.stdout)["run_id"], *limit("leaf3", "leaf4"))
    assert back.returncode == 0, back.stdout
    for device, result in results(real).items():
        assert equals_backup(fresh_twin, device, result["backup"]), device
        blocks = running(fresh_twin, device)
        assert all(has(blocks, *entry) for entry in (EOS_GONE if device == "leaf3" else COMWARE_GONE)), device
