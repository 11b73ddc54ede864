"""Arista EOS eos.cfg: what leaf3 gets, read back the way EOS merges re-entered config modes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fabric.intent.models import DeviceIntent
from fabric.render import render_device
from tests.conftest import INVENTORIES, edit_yaml
from tests.unit.render.cliparse import Blocks, blocks, intents

PROFILE = "qos profile QOS_ROCE_roce_ecn_400g"


def eos_cfg(intent: DeviceIntent) -> str:
    return render_device(intent).files["eos.cfg"]


@pytest.fixture(scope="module")
def leaf3() -> DeviceIntent:
    return intents(INVENTORIES / "lab-roce")["leaf3"]


@pytest.fixture(scope="module")
def cfg(leaf3: DeviceIntent) -> Blocks:
    return blocks(eos_cfg(leaf3))


def test_every_dscp_is_mapped_once(cfg: Blocks) -> None:
    maps = [line.split() for line in cfg if line.startswith("qos map dscp ")]
    mapped = [int(d) for words in maps for d in words[3:words.index("to")]]
    assert sorted(mapped) == list(range(64))
    assert "qos map dscp 26 to traffic-class 3" in cfg
    assert "qos map dscp 48 to traffic-class 6" in cfg
    assert "qos map traffic-class 3 to tx-queue 3" in cfg
    assert not any(line.startswith("qos map traffic-class 3 to dscp") for line in cfg)


def test_profile_trusts_dscp_and_schedules_ets(cfg: Blocks) -> None:
    assert "qos trust dscp" in cfg[PROFILE]
    assert cfg[f"{PROFILE} > uc-tx-queue 0"][:2] == ["no priority", "bandwidth percent 50"]
    assert cfg[f"{PROFILE} > uc-tx-queue 3"][:2] == ["no priority", "bandwidth percent 50"]
    assert cfg[f"{PROFILE} > uc-tx-queue 6"] == ["priority strict"]


def test_profile_pfc_no_drop_on_priority_3_with_watchdog(cfg: Blocks) -> None:
    assert [line for line in cfg[PROFILE] if line.startswith("priority-flow-control")] == [
        "priority-flow-control on",
        "priority-flow-control priority 3 no-drop",
        "priority-flow-control pause watchdog",
        "priority-flow-control pause watchdog port action drop",
    ]


def test_global_watchdog_timers_in_seconds(cfg: Blocks) -> None:
    assert [line for line in cfg if line.startswith("priority-flow-control pause watchdog")] == [
        "priority-flow-control pause watchdog default timeout 0.2",
        "priority-flow-control pause watchdog default recovery-time 0.4",
        "priority-flow-control pause watchdog default polling-interval 0.1",
        "priority-flow-control pause watchdog action drop",
    ]


def test_ecn_on_lossless_queue_in_bytes(cfg: Blocks) -> None:
    assert cfg[f"{PROFILE} > uc-tx-queue 3"][2:] == [
        "random-detect ecn minimum-threshold 800000 bytes maximum-threshold 3200000 bytes "
        "max-mark-probability 20 weight 0",
        "random-detect ecn count",
    ]


def test_interfaces_get_mtu_profile_and_no_link_pause(cfg: Blocks, leaf3: DeviceIntent) -> None:
    for port in leaf3.interfaces:
        assert cfg[f"interface {port.name}"] == [
            f"description {port.description}", "mtu 9214", "service-profile QOS_ROCE_roce_ecn_400g",
            "flowcontrol send off", "flowcontrol receive off",
        ]


def test_buffers_is_one_comment_line(leaf3: DeviceIntent) -> None:
    section = eos_cfg(leaf3).split("! buffers:")[1].split("! ecn:")[0]
    assert section.count("\n") == 1


def test_cli_indentation_is_three_spaces(leaf3: DeviceIntent) -> None:
    indents = {len(line) - len(line.lstrip()) for line in eos_cfg(leaf3).splitlines()}
    assert indents == {0, 3, 6}


def test_render_is_deterministic(leaf3: DeviceIntent) -> None:
    assert eos_cfg(leaf3) == eos_cfg(leaf3)


def test_absent_features_leave_only_interfaces(leaf3: DeviceIntent) -> None:
    bare = leaf3.model_copy(update={"qos": None, "pfc": None, "buffers": None, "ecn": None})
    cfg = blocks(eos_cfg(bare))
    assert all(line.startswith("interface ") for line in cfg)
    assert cfg["interface Ethernet1/1"] == ["description to spine1:Ethernet1/3", "mtu 9214"]


def test_one_profile_per_ecn_profile_and_lossy_port_unbound(lab_roce: Path) -> None:
    def fabric(f: Any) -> None:
        f["ecn"]["profiles"] = {"uplink": {"kmin_bytes": 400000, "kmax_bytes": 1600000, "pmax_percent": 50}}

    def hosts(h: Any) -> None:
        ports = h["leaf3"]["data"]["interfaces"]
        ports["Ethernet1/1"]["ecn_profile"] = "uplink"
        ports["Ethernet10/1"]["lossless"] = False
        h["gpu12"]["data"]["interfaces"]["ens2np0"]["lossless"] = False

    edit_yaml(lab_roce / "fabric.yaml", fabric)
    edit_yaml(lab_roce / "hosts.yaml", hosts)
    cfg = blocks(eos_cfg(intents(lab_roce)["leaf3"]))
    assert "service-profile QOS_ROCE_uplink" in cfg["interface Ethernet1/1"]
    assert "service-profile QOS_ROCE_roce_ecn_400g" in cfg["interface Ethernet2/1"]
    assert cfg["interface Ethernet10/1"] == ["description to gpu12:ens2np0", "mtu 9214"]
    assert cfg["qos profile QOS_ROCE_uplink > uc-tx-queue 3"][2] == (
        "random-detect ecn minimum-threshold 400000 bytes maximum-threshold 1600000 bytes "
        "max-mark-probability 50 weight 0")
    assert "priority-flow-control priority 3 no-drop" in cfg["qos profile QOS_ROCE_uplink"]
    assert "priority-flow-control priority 3 no-drop" in cfg[PROFILE]


def test_non_default_priority_watchdog_and_explicit_ecn_profile(lab_roce: Path) -> None:
    def change(f: Any) -> None:
        f["qos"].update(lossless_priority=4, roce_dscp=[24, 26], lossless_bandwidth_percent=60)
        f["pfc"].update(priorities=[4])
        f["pfc"]["watchdog"].update(detect_ms=300, restore_ms=600, poll_ms=150, action="alert")
        f["ecn"] = {"mode": "explicit", "default_profile": "tight",
                    "profiles": {"tight": {"kmin_bytes": 150000, "kmax_bytes": 1500000, "pmax_percent": 10}}}

    edit_yaml(lab_roce / "fabric.yaml", change)
    cfg = blocks(eos_cfg(intents(lab_roce)["leaf3"]))
    profile = "qos profile QOS_ROCE_tight"
    assert "qos map dscp 24 26 to traffic-class 4" in cfg
    assert "qos map traffic-class 4 to tx-queue 4" in cfg
    assert "priority-flow-control priority 4 no-drop" in cfg[profile]
    assert "priority-flow-control pause watchdog port action notify-only" in cfg[profile]
    assert "priority-flow-control pause watchdog action drop" not in cfg
    assert "priority-flow-control pause watchdog default timeout 0.3" in cfg
    assert "priority-flow-control pause watchdog default recovery-time 0.6" in cfg
    assert "priority-flow-control pause watchdog default polling-interval 0.15" in cfg
    assert cfg[f"{profile} > uc-tx-queue 4"] == [
        "no priority", "bandwidth percent 60",
        "random-detect ecn minimum-threshold 150000 bytes maximum-threshold 1500000 bytes "
        "max-mark-probability 10 weight 0",
        "random-detect ecn count",
    ]
    assert cfg[f"{profile} > uc-tx-queue 0"] == ["no priority", "bandwidth percent 40"]
    assert PROFILE not in cfg
    assert "service-profile QOS_ROCE_tight" in cfg["interface Ethernet3/1"]


def test_watchdog_off_keeps_pfc(lab_roce: Path) -> None:
    edit_yaml(lab_roce / "fabric.yaml", lambda f: f["pfc"]["watchdog"].update(enabled=False))
    cfg = blocks(eos_cfg(intents(lab_roce)["leaf3"]))
    assert not [line for mode, lines in cfg.items() for line in [mode, *lines] if "watchdog" in line]
    assert "priority-flow-control priority 3 no-drop" in cfg[PROFILE]
