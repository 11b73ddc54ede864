"""Faults the twin cannot act on are refused, naming what would: found by injecting every fault kind on every
kind of device (each was accepted, listed in `lab status`, and changed no counter)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fabric.lab.serve import Twin, build_devices
from tests.conftest import INVENTORIES


@pytest.fixture(scope="module")
def devices() -> dict[str, Any]:
    return build_devices(str(INVENTORIES / "lab-roce"))


def _twin(devices: dict[str, Any], tmp_path: Path, engine: bool) -> Twin:
    twin = Twin(devices, None, tmp_path)  # type: ignore[arg-type]  # control() needs no secrets
    twin.engine = object() if engine else None
    for device in devices.values():
        device.faults.clear()
        device.link_down.clear()
    return twin


@pytest.mark.parametrize(("device", "kind", "words"), [
    ("leaf1", "pfc-storm", "acts on a server's ports, and leaf1 is a leaf"),
    ("spine1", "slow-receiver", "acts on a server's ports, and spine1 is a spine"),
    ("gpu01", "headroom-short", "acts on a switch's ports, and gpu01 is a server"),
])
def test_a_physics_fault_on_a_device_it_cannot_act_on_is_refused(devices: dict[str, Any], tmp_path: Path,
                                                                 device: str, kind: str, words: str) -> None:
    twin = _twin(devices, tmp_path, engine=True)
    reply = twin.control({"op": "fault", "device": device, "kind": kind})
    assert not reply["ok"] and words in reply["error"], reply
    assert not devices[device].faults.until


@pytest.mark.parametrize(("device", "kind"), [("gpu01", "pfc-storm"), ("gpu01", "slow-receiver"),
                                              ("leaf1", "headroom-short")])
def test_physics_faults_need_a_workload_and_act_where_they_should(devices: dict[str, Any], tmp_path: Path,
                                                                   device: str, kind: str) -> None:
    idle = _twin(devices, tmp_path, engine=False).control({"op": "fault", "device": device, "kind": kind})
    assert not idle["ok"] and "--workload" in idle["error"]
    assert _twin(devices, tmp_path, engine=True).control({"op": "fault", "device": device, "kind": kind})["ok"]
    assert devices[device].faults.active(kind)


def test_clear_refuses_an_unknown_kind_and_clears_only_the_kind_named(devices: dict[str, Any],
                                                                       tmp_path: Path) -> None:
    twin = _twin(devices, tmp_path, engine=True)
    assert twin.control({"op": "fault", "device": "leaf1", "kind": "link-down", "port": "Ethernet16"})["ok"]
    assert twin.control({"op": "fault", "device": "leaf1", "kind": "slow"})["ok"]
    bogus = twin.control({"op": "clear", "device": "leaf1", "kind": "bogus"})
    assert not bogus["ok"] and "unknown fault 'bogus'" in bogus["error"]
    assert twin.control({"op": "clear", "device": "leaf1", "kind": "slow"})["ok"]
    assert devices["leaf1"].link_down == {"Ethernet16"}  # clearing 'slow' left the port down
    assert twin.control({"op": "clear", "device": "leaf1", "kind": "link-down"})["ok"]
    assert not devices["leaf1"].link_down
