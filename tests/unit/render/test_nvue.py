"""Cumulus Linux nvue.cfg: the `nv set` lines leaf2 gets, checked against its intent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fabric.intent.models import DeviceIntent
from fabric.render import render_device
from tests.conftest import INVENTORIES, edit_yaml
from tests.unit.render.cliparse import intents


def nvue_lines(intent: DeviceIntent) -> list[str]:
    return render_device(intent).files["nvue.cfg"].splitlines()


@pytest.fixture(scope="module")
def leaf2() -> DeviceIntent:
    return intents(INVENTORIES / "lab-roce")["leaf2"]


@pytest.fixture(scope="module")
def lines(leaf2: DeviceIntent) -> list[str]:
    return nvue_lines(leaf2)


def test_only_nv_commands_and_comments(lines: list[str]) -> None:
    assert lines
    assert all(line.startswith(("nv set ", "nv unset ", "# ")) for line in lines)
    assert not any("config apply" in line for line in lines)  # deploy applies


def test_interface_speed_and_mtu(lines: list[str]) -> None:
    assert "nv set interface swp1 link speed 400G" in lines
    assert "nv set interface swp3 link speed 200G" in lines
    assert "nv set interface swp1 link mtu 9216" in lines
    assert 'nv set interface swp1 description "to spine1:Ethernet1/2"' in lines


def test_dscp_trust_and_mapping(lines: list[str]) -> None:
    assert "nv set qos mapping default-global trust l3" in lines
    assert "nv set qos mapping default-global dscp 26 switch-priority 3" in lines
    assert "nv set qos mapping default-global dscp 48 switch-priority 6" in lines
    (rest,) = [line for line in lines if line.endswith("switch-priority 0") and "mapping" in line]
    dscps = {int(d) for d in rest.split()[6].split(",")}
    assert dscps == set(range(64)) - {26, 48}
    assert "nv set qos egress-queue-mapping default-global switch-priority 3 traffic-class 3" in lines


def test_ets(lines: list[str]) -> None:
    sched = [line for line in lines if "egress-scheduler" in line]
    assert sched == [
        "nv set qos egress-scheduler default-global traffic-class 0 mode dwrr",
        "nv set qos egress-scheduler default-global traffic-class 0 bw-percent 50",
        "nv set qos egress-scheduler default-global traffic-class 3 mode dwrr",
        "nv set qos egress-scheduler default-global traffic-class 3 bw-percent 50",
        "nv set qos egress-scheduler default-global traffic-class 6 mode strict",
    ]


def test_one_pfc_profile_per_cable_length(lines: list[str]) -> None:
    pfc = [line for line in lines if line.startswith("nv set qos pfc ")]
    assert pfc == [
        "nv set qos pfc lossless_3m switch-priority 3",
        "nv set qos pfc lossless_3m tx enable",
        "nv set qos pfc lossless_3m rx enable",
        "nv set qos pfc lossless_3m cable-length 3",
        "nv set qos pfc lossless_40m switch-priority 3",
        "nv set qos pfc lossless_40m tx enable",
        "nv set qos pfc lossless_40m rx enable",
        "nv set qos pfc lossless_40m cable-length 40",
    ]
    assert "nv set interface swp1 qos pfc profile lossless_40m" in lines
    assert "nv set interface swp10 qos pfc profile lossless_3m" in lines
    assert "nv unset interface swp1 qos link-pause" in lines


def test_pfc_watchdog(lines: list[str], leaf2: DeviceIntent) -> None:
    assert "nv set qos pfc-watchdog polling-interval 100" in lines
    for port in leaf2.interfaces:
        assert f"nv set interface {port.name} qos pfc-watchdog" in lines


def test_lossless_alpha(lines: list[str]) -> None:
    assert "nv set qos advance-buffer-config default-global ingress-lossless-buffer shared-alpha alpha_1" in lines


def test_ecn_thresholds_are_intent_bytes(lines: list[str], leaf2: DeviceIntent) -> None:
    assert leaf2.ecn is not None
    for p in leaf2.ecn.profiles:
        prefix = f"nv set qos congestion-control {p.name} traffic-class 3"
        assert f"{prefix} min-threshold {p.kmin_bytes}" in lines
        assert f"{prefix} max-threshold {p.kmax_bytes}" in lines
        assert f"{prefix} probability 20" in lines
        assert f"{prefix} ecn enable" in lines
    assert "nv set qos congestion-control roce_ecn_400g traffic-class 3 min-threshold 800000" in lines
    assert "nv set interface swp1 qos congestion-control profile roce_ecn_400g" in lines
    assert "nv set interface swp3 qos congestion-control profile roce_ecn_200g" in lines


def test_render_is_deterministic(leaf2: DeviceIntent) -> None:
    assert render_device(leaf2).files == render_device(leaf2).files


def test_absent_features_render_nothing(leaf2: DeviceIntent) -> None:
    bare = leaf2.model_copy(update={"qos": None, "pfc": None, "buffers": None, "ecn": None, "interfaces": []})
    assert render_device(bare).files["nvue.cfg"] == ""


def test_lossy_port_has_no_pfc_or_ecn(lab_roce: Path) -> None:
    def lossy(h: Any) -> None:  # both ends of the link: the validator refuses a half-lossless link
        h["leaf2"]["data"]["interfaces"]["swp3"]["lossless"] = False
        h["gpu01"]["data"]["interfaces"]["ens2np0"]["lossless"] = False

    edit_yaml(lab_roce / "hosts.yaml", lossy)
    lines = nvue_lines(intents(lab_roce)["leaf2"])
    assert "nv set interface swp3 link mtu 9216" in lines
    assert not [line for line in lines if line.startswith("nv set interface swp3 qos")]


def test_non_default_priority_watchdog_and_ecn_profile(lab_roce: Path) -> None:
    def change(f: Any) -> None:
        f["qos"].update(lossless_priority=4, roce_dscp=[24, 26], lossless_bandwidth_percent=60)
        f["pfc"].update(priorities=[4])
        f["pfc"]["watchdog"].update(poll_ms=200)
        f["buffers"].update(dynamic_th=1)
        f["ecn"] = {"mode": "explicit", "default_profile": "tight",
                    "profiles": {"tight": {"kmin_bytes": 150000, "kmax_bytes": 1500000, "pmax_percent": 10}}}

    edit_yaml(lab_roce / "fabric.yaml", change)
    lines = nvue_lines(intents(lab_roce)["leaf2"])
    assert "nv set qos mapping default-global dscp 24,26 switch-priority 4" in lines
    assert "nv set qos egress-scheduler default-global traffic-class 4 bw-percent 60" in lines
    assert "nv set qos egress-scheduler default-global traffic-class 0 bw-percent 40" in lines
    assert "nv set qos pfc lossless_40m switch-priority 4" in lines
    assert "nv set qos pfc-watchdog polling-interval 200" in lines
    assert "nv set qos advance-buffer-config default-global ingress-lossless-buffer shared-alpha alpha_2" in lines
    assert "nv set qos congestion-control tight traffic-class 4 min-threshold 150000" in lines
    assert "nv set qos congestion-control tight traffic-class 4 max-threshold 1500000" in lines
    assert "nv set qos congestion-control tight traffic-class 4 probability 10" in lines
    assert "nv set interface swp1 qos congestion-control profile tight" in lines
    assert not [line for line in lines if "roce_ecn_" in line]


def test_watchdog_off(lab_roce: Path) -> None:
    edit_yaml(lab_roce / "fabric.yaml", lambda f: f["pfc"]["watchdog"].update(enabled=False))
    lines = nvue_lines(intents(lab_roce)["leaf2"])
    assert not [line for line in lines if "pfc-watchdog" in line]
    assert "nv set interface swp1 qos pfc profile lossless_40m" in lines


def test_alpha_without_an_nvue_name_is_left_at_default(lab_roce: Path) -> None:
    edit_yaml(lab_roce / "fabric.yaml", lambda f: f["buffers"].update(dynamic_th=8))
    lines = nvue_lines(intents(lab_roce)["leaf2"])
    assert not [line for line in lines if "shared-alpha" in line]
    assert "# dynamic_th 8 has no NVUE alpha name: the lossless alpha stays at the Cumulus default." in lines
