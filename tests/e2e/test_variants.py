"""Hand-edited inventories (settings the shipped ones never use) through validate, render and deploy."""

from __future__ import annotations

import json
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


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason="deploy only adds lines: a lossless class moved from priority 3 to 4 keeps "
                                       "PFC no-drop on 3 (EOS) or fails verification and rolls back (Comware)")
def test_moving_the_lossless_class_leaves_no_pfc_on_the_old_priority(tmp_path: Path,
                                                                     lab_of: Callable[..., Lab]) -> None:
    inv = generate(tmp_path / "inv", "--kind", "clos", "--spines", "1", "--leaves", "1", "--servers", "1",
                   "--nics-per-server", "1", "--platforms", "eos")
    lab = lab_of(inv)
    assert deploy(inv, lab, tmp_path / "runs").returncode == 0
    edit_yaml(inv / "fabric.yaml", to_priority_4)
    moved = deploy(inv, lab, tmp_path / "runs")
    assert moved.returncode == 0, moved.stdout[-2000:]
    from fabric.cli.deploy import lab_targets
    from fabric.deploy.drivers import make_driver
    from fabric.inventory.load import load_inventory

    fabric_ = load_inventory(str(inv)).fabric
    assert fabric_ is not None
    [target] = lab_targets([fabric_.devices["leaf1"]], lab.state_dir, 30.0)
    driver = make_driver(target)
    driver.open()
    try:
        running = driver.get_running()
    finally:
        driver.close()
    assert "priority-flow-control priority 4 no-drop" in running
    assert "priority-flow-control priority 3 no-drop" not in running
