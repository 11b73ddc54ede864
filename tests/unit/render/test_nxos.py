"""Cisco NX-OS nxos.cfg: what spine1 gets, read back the way NX-OS merges re-entered config modes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fabric.intent.models import DeviceIntent
from fabric.render import render_device
from tests.conftest import INVENTORIES, edit_yaml
from tests.unit.render.cliparse import Blocks, blocks, intents

EGRESS_400G = "policy-map type queuing QOS_EGRESS_roce_ecn_400g"


def nxos_cfg(intent: DeviceIntent) -> str:
    return render_device(intent).files["nxos.cfg"]


@pytest.fixture(scope="module")
def spine1() -> DeviceIntent:
    return intents(INVENTORIES / "lab-roce")["spine1"]


@pytest.fixture(scope="module")
def cfg(spine1: DeviceIntent) -> Blocks:
    return blocks(nxos_cfg(spine1))


def test_classification_to_qos_groups(cfg: Blocks) -> None:
    assert cfg["class-map type qos match-any ROCE"] == ["match dscp 26"]
    assert cfg["class-map type qos match-any CNP"] == ["match dscp 48"]
    policy = "policy-map type qos QOS_CLASSIFICATION"
    assert cfg[f"{policy} > class ROCE"] == ["set qos-group 3"]
    assert cfg[f"{policy} > class CNP"] == ["set qos-group 6"]
    assert cfg[f"{policy} > class class-default"] == ["set qos-group 0"]


def test_network_qos_makes_queue_3_no_drop(cfg: Blocks) -> None:
    policy = "policy-map type network-qos QOS_NETWORK"
    assert cfg[f"{policy} > class type network-qos c-8q-nq3"] == ["mtu 9216", "pause pfc-cos 3"]
    assert cfg[f"{policy} > class type network-qos c-8q-nq-default"] == ["mtu 9216"]
    assert cfg["system qos"] == [
        "service-policy type queuing output QOS_EGRESS_PORT",
        "service-policy type network-qos QOS_NETWORK",
    ]


def test_egress_ets_names_all_eight_queues(cfg: Blocks) -> None:
    for policy in ("QOS_EGRESS_PORT", "QOS_EGRESS_roce_ecn_100g", "QOS_EGRESS_roce_ecn_400g"):
        queues = {mode.split(" > ")[1]: lines for mode, lines in cfg.items()
                  if mode.startswith(f"policy-map type queuing {policy} > ")}
        assert len(queues) == 8
        assert queues["class type queuing c-out-8q-q3"][0] == "bandwidth remaining percent 50"
        assert queues["class type queuing c-out-8q-q-default"] == ["bandwidth remaining percent 50"]
        assert queues["class type queuing c-out-8q-q6"] == ["priority level 1"]
        assert queues["class type queuing c-out-8q-q7"] == ["bandwidth remaining percent 0"]


def test_ecn_thresholds_in_kbytes_per_port_speed(cfg: Blocks) -> None:
    assert cfg[f"{EGRESS_400G} > class type queuing c-out-8q-q3"][1] == (
        "random-detect minimum-threshold 782 kbytes maximum-threshold 3125 kbytes drop-probability 20 weight 0 ecn")
    assert cfg["policy-map type queuing QOS_EGRESS_roce_ecn_100g > class type queuing c-out-8q-q3"][1] == (
        "random-detect minimum-threshold 391 kbytes maximum-threshold 1563 kbytes drop-probability 20 weight 0 ecn")
    assert cfg["policy-map type queuing QOS_EGRESS_PORT > class type queuing c-out-8q-q3"] == [
        "bandwidth remaining percent 50"]


def test_interfaces_get_policies_pfc_and_watchdog(cfg: Blocks, spine1: DeviceIntent) -> None:
    assert "priority-flow-control watch-dog-interval on" in cfg
    for port in spine1.interfaces:
        egress = "roce_ecn_100g" if port.speed_gbps == 100 else "roce_ecn_400g"
        assert cfg[f"interface {port.name}"] == [
            f"description {port.description}", "mtu 9216",
            "service-policy type qos input QOS_CLASSIFICATION",
            "priority-flow-control mode on", "priority-flow-control watch-dog-interval on",
            f"service-policy type queuing output QOS_EGRESS_{egress}",
        ]


def test_no_pause_buffer_at_or_below_100m(spine1: DeviceIntent) -> None:
    text = nxos_cfg(spine1)
    assert max(p.cable_length_m for p in spine1.interfaces) == 100
    assert "pause buffer-size" not in text and "! buffers:" not in text


def test_cli_indentation_is_two_spaces(spine1: DeviceIntent) -> None:
    indents = {len(line) - len(line.lstrip()) for line in nxos_cfg(spine1).splitlines()}
    assert indents == {0, 2, 4}


def test_render_is_deterministic(spine1: DeviceIntent) -> None:
    assert nxos_cfg(spine1) == nxos_cfg(spine1)


def test_absent_features_leave_only_interfaces(spine1: DeviceIntent) -> None:
    bare = spine1.model_copy(update={"qos": None, "pfc": None, "buffers": None, "ecn": None})
    cfg = blocks(nxos_cfg(bare))
    assert all(line.startswith("interface ") for line in cfg)
    assert cfg["interface Ethernet1/3"] == ["description to leaf3:Ethernet1/1", "mtu 9216"]


def test_long_cable_gets_an_ingress_pause_buffer_in_bytes(lab_roce: Path) -> None:
    def hosts(h: Any) -> None:
        h["spine1"]["data"]["interfaces"]["Ethernet1/3"]["cable_length_m"] = 300
        h["leaf3"]["data"]["interfaces"]["Ethernet1/1"]["cable_length_m"] = 300

    edit_yaml(lab_roce / "hosts.yaml", hosts)
    spine1 = intents(lab_roce)["spine1"]
    assert spine1.buffers is not None
    port = next(p for p in spine1.buffers.ports if p.interface == "Ethernet1/3")
    cfg = blocks(nxos_cfg(spine1))
    assert cfg["policy-map type queuing QOS_PAUSE_Ethernet1_3 > class type queuing c-in-q3"] == [
        f"pause buffer-size {port.pause_buffer_bytes} pause-threshold {port.pause_threshold_bytes} "
        f"resume-threshold {port.resume_threshold_bytes}"]
    # the buffer left above the pause point absorbs what is in flight after PAUSE (the port's xoff)
    assert port.pause_buffer_bytes - port.pause_threshold_bytes >= port.xoff_bytes
    assert 0 < port.resume_threshold_bytes < port.pause_threshold_bytes
    assert port.pause_buffer_bytes % 208 == 0
    assert "service-policy type queuing input QOS_PAUSE_Ethernet1_3" in cfg["interface Ethernet1/3"]
    assert [mode for mode in cfg if mode.startswith("policy-map type queuing QOS_PAUSE_") and ">" not in mode] == [
        "policy-map type queuing QOS_PAUSE_Ethernet1_3"]


def test_non_default_priority_watchdog_and_explicit_ecn_profile(lab_roce: Path) -> None:
    def change(f: Any) -> None:
        f["qos"].update(lossless_priority=4, roce_dscp=[24, 25, 26], lossless_bandwidth_percent=60)
        f["pfc"].update(priorities=[4])
        f["ecn"] = {"mode": "explicit", "default_profile": "tight",
                    "profiles": {"tight": {"kmin_bytes": 150000, "kmax_bytes": 1500000, "pmax_percent": 10}}}

    edit_yaml(lab_roce / "fabric.yaml", change)
    cfg = blocks(nxos_cfg(intents(lab_roce)["spine1"]))
    assert cfg["class-map type qos match-any ROCE"] == ["match dscp 24-26"]
    assert cfg["policy-map type qos QOS_CLASSIFICATION > class ROCE"] == ["set qos-group 4"]
    assert cfg["policy-map type network-qos QOS_NETWORK > class type network-qos c-8q-nq4"] == [
        "mtu 9216", "pause pfc-cos 4"]
    assert cfg["policy-map type queuing QOS_EGRESS_tight > class type queuing c-out-8q-q4"] == [
        "bandwidth remaining percent 60",
        "random-detect minimum-threshold 147 kbytes maximum-threshold 1465 kbytes drop-probability 10 weight 0 ecn"]
    assert cfg["policy-map type queuing QOS_EGRESS_tight > class type queuing c-out-8q-q3"] == [
        "bandwidth remaining percent 0"]
    assert EGRESS_400G not in cfg
    assert cfg["interface Ethernet1/4"][-1] == "service-policy type queuing output QOS_EGRESS_tight"


def test_watchdog_off_keeps_pfc_mode_on(lab_roce: Path) -> None:
    edit_yaml(lab_roce / "fabric.yaml", lambda f: f["pfc"]["watchdog"].update(enabled=False))
    cfg = blocks(nxos_cfg(intents(lab_roce)["spine1"]))
    assert not [line for mode, lines in cfg.items() for line in [mode, *lines] if "watch-dog" in line]
    assert "priority-flow-control mode on" in cfg["interface Ethernet1/1"]


def test_lossless_queue_0_is_the_default_class(lab_roce: Path) -> None:
    # NX-OS names queue 0 c-8q-nq-default / c-out-8q-q-default / c-in-q-default in every policy type; there is no
    # c-8q-nq0, c-out-8q-q0 or c-in-q0 (rendered for lossless priority 0, and refused by the switch)
    edit_yaml(lab_roce / "fabric.yaml", lambda f: (f["qos"].update(lossless_priority=0, default_priority=1),
                                                   f["pfc"].update(priorities=[0])))

    def long_cable(h: Any) -> None:
        h["spine1"]["data"]["interfaces"]["Ethernet1/3"]["cable_length_m"] = 300
        h["leaf3"]["data"]["interfaces"]["Ethernet1/1"]["cable_length_m"] = 300

    edit_yaml(lab_roce / "hosts.yaml", long_cable)
    text = nxos_cfg(intents(lab_roce)["spine1"])
    assert not any(name in text for name in ("c-8q-nq0", "c-out-8q-q0", "c-in-q0"))
    cfg = blocks(text)
    assert cfg["policy-map type network-qos QOS_NETWORK > class type network-qos c-8q-nq-default"] == [
        "mtu 9216", "pause pfc-cos 0"]
    assert cfg[f"{EGRESS_400G} > class type queuing c-out-8q-q-default"][-1].startswith(
        "random-detect minimum-threshold 782 kbytes")
    assert "policy-map type queuing QOS_PAUSE_Ethernet1_3 > class type queuing c-in-q-default" in cfg
