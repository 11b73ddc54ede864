"""Twin faults against deploy on the view-CLI platforms (the deploy tests mostly fault SONiC)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from fabric.lab.control import Lab
from tests.conftest import INVENTORIES
from tests.e2e.conftest import deploy, fabric, generate, results


def test_comware_refusing_configuration_is_reported_as_refused(tmp_path: Path,
                                                               lab_of: Callable[..., Lab]) -> None:
    """A refused view command left the session in system view, so the block's ``quit`` lines climbed out of it
    and closed the session: the deploy said "connection dropped: Socket is closed" instead of the device's
    refusal. The device must be back at its backup (nothing of the push left)."""
    inv = generate(tmp_path / "inv", "--kind", "clos", "--spines", "1", "--leaves", "1", "--servers", "1",
                   "--nics-per-server", "1", "--platforms", "comware")
    lab = lab_of(inv)
    digest = lab.status()["devices"]["leaf1"]["config_digest"]
    lab.fault("leaf1", "reject-config", 120)
    run = deploy(inv, lab, tmp_path / "runs", "--limit", "leaf1")
    assert run.returncode == 3
    result = results(run)["leaf1"]
    assert result["status"] == "failed"
    assert result["reason"].startswith("configuration refused: % "), result["reason"]
    assert "\n" not in result["reason"]
    lab.clear("leaf1")
    assert lab.status()["devices"]["leaf1"]["config_digest"] == digest


def test_verification_failure_names_the_line_not_only_its_block() -> None:
    """A hierarchical diff lists the block header first: the reason said only "interface FourHundredGigE1/0/1"."""
    from fabric.deploy.run import first_problem

    problems = ["  interface FourHundredGigE1/0/1", "+   priority-flow-control no-drop dot1p 4"]
    assert first_problem(problems) == \
        "interface FourHundredGigE1/0/1: +   priority-flow-control no-drop dot1p 4"
    assert first_problem(["~ ens1np0 pfc: 0,0,0,0,0,0,0,0 -> 0,0,0,1,0,0,0,0"]) == \
        "~ ens1np0 pfc: 0,0,0,0,0,0,0,0 -> 0,0,0,1,0,0,0,0"


def test_atomic_rollback_leaves_nxos_exactly_at_its_backup(tmp_path: Path, lab_of: Callable[..., Lab]) -> None:
    """A host refusing its login fails the run; --atomic rolls every NX-OS switch back. The rollback's
    ``no service-policy`` left an empty ``system qos`` that the twin printed, so the running configuration (and
    the lab's digest) never returned to the backup, as it does on NX-OS."""
    inv = generate(tmp_path / "inv", "--kind", "clos", "--spines", "1", "--leaves", "1", "--servers", "1",
                   "--nics-per-server", "1", "--platforms", "nxos")
    lab = lab_of(inv)
    before = {name: d["config_digest"] for name, d in lab.status()["devices"].items()}
    lab.fault("gpu01", "auth-fail", 120)
    run = deploy(inv, lab, tmp_path / "runs", "--canary", "2")
    assert run.returncode == 3
    statuses = {name: r["status"] for name, r in results(run).items()}
    assert statuses == {"spine1": "rolled-back", "leaf1": "rolled-back", "gpu01": "failed"}, statuses
    lab.clear("gpu01")
    assert {name: d["config_digest"] for name, d in lab.status()["devices"].items()} == before


def test_fault_duration_is_positive_and_status_drops_expired_faults(tmp_path: Path,
                                                                    lab_of: Callable[..., Lab]) -> None:
    """``--for 0`` injected the fault for good and ``--for -3`` one that ``lab status`` listed as active; a fault
    whose time was up stayed in ``lab status`` until some client happened to trip over it."""
    lab = lab_of(INVENTORIES / "examples" / "minimal")
    for bad in ("0", "-3"):
        refused = fabric("lab", "fault", "leaf1", "slow", "--for", bad, "--state-dir", lab.state_dir)
        assert refused.returncode == 5 and refused.stderr.count("\n") == 1, refused.stderr
        assert "positive number of seconds" in refused.stderr
    assert lab.status()["devices"]["leaf1"]["faults"] == []
    lab.fault("leaf1", "snmp-timeout", 2.0)
    assert lab.status()["devices"]["leaf1"]["faults"] == ["snmp-timeout"]
    time.sleep(2.5)
    assert lab.status()["devices"]["leaf1"]["faults"] == []
