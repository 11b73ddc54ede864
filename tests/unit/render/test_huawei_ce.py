"""Huawei CloudEngine huawei_ce.cfg: what spine2 gets, checked line by line against its intent (lossless.md §5.2)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fabric.intent.models import DeviceIntent
from fabric.render import render_device
from tests.conftest import INVENTORIES, copy_inventory, edit_yaml
from tests.unit.render.cliparse import SYSTEM, Blocks, intents, views

Views = Blocks
PHB = ["be", "af1", "af2", "af3", "af4", "ef", "cs6", "cs7"]


def render(intent: DeviceIntent) -> str:
    return render_device(intent).files["huawei_ce.cfg"]


@pytest.fixture(scope="module")
def spine2() -> DeviceIntent:
    return intents(INVENTORIES / "lab-roce")["spine2"]


@pytest.fixture(scope="module")
def text(spine2: DeviceIntent) -> str:
    return render(spine2)


@pytest.fixture(scope="module")
def cfg(text: str) -> Views:
    return views(text)


@pytest.fixture(scope="module")
def nondefault(tmp_path_factory: pytest.TempPathFactory) -> Views:
    """Lossless priority 4, an explicit ECN profile, longer watchdog timers."""
    folder = copy_inventory("lab-roce", tmp_path_factory.mktemp("inv"))

    def change(data: Any) -> None:
        data["qos"]["lossless_priority"] = 4
        data["pfc"]["priorities"] = [4]
        data["pfc"]["watchdog"].update(detect_ms=300, restore_ms=600, action="forward")
        data["ecn"] = {"mode": "explicit", "default_profile": "tight",
                       "profiles": {"tight": {"kmin_bytes": 50000, "kmax_bytes": 150000,
                                              "pmax_percent": 10, "weight": 2}}}

    edit_yaml(folder / "fabric.yaml", change)
    return views(render(intents(folder)["spine2"]))


def test_every_line_is_closed_and_no_template_leaks(text: str) -> None:
    assert text.endswith("quit\n")
    assert "{" not in text and "}" not in text
    assert "" not in text.splitlines()
    assert not {"system-view", "commit", "return", "save"} & set(text.splitlines())  # deploy adds these
    assert text.splitlines()[0].startswith("# interfaces: reference/lossless.md §5.2")


def test_ports_jumbo_and_description(cfg: Views, spine2: DeviceIntent) -> None:
    for port in spine2.interfaces:
        assert f"description {port.description}" in cfg[f"interface {port.name}"]
        assert "jumboframe enable 9216" in cfg[f"interface {port.name}"]
    assert "description to leaf4:HundredGigE1/0/2" in cfg["interface 100GE1/0/4"]


def test_diffserv_domain_maps_all_64_dscp(cfg: Views) -> None:
    lines = cfg["diffserv domain roce"]
    assert len(lines) == 64
    assert "ip-dscp-inbound 26 phb af3 green" in lines
    assert "ip-dscp-inbound 48 phb cs6 green" in lines
    assert all(line.endswith("phb be green") for line in lines if line.split()[1] not in ("26", "48"))


def test_trust_and_drr_on_every_port(cfg: Views, spine2: DeviceIntent) -> None:
    for port in spine2.interfaces:
        lines = cfg[f"interface {port.name}"]
        assert "trust dscp" in lines
        assert "trust upstream roce" in lines
        assert "qos drr 0 3" in lines  # queue 6 (CNP) stays PQ, the default
        assert "qos queue 0 drr weight 50" in lines
        assert "qos queue 3 drr weight 50" in lines
        assert not [line for line in lines if line.startswith("qos queue 6 drr")]


def test_pfc_profile_and_ports(cfg: Views, spine2: DeviceIntent) -> None:
    assert cfg["dcb pfc"] == ["priority 3"]
    assert spine2.pfc is not None
    assert len(spine2.pfc.ports) == 4
    for port in spine2.pfc.ports:
        lines = cfg[f"interface {port}"]
        assert "undo flow-control" in lines
        assert "dcb pfc enable mode manual" in lines


def test_deadlock_timers_in_ms(cfg: Views) -> None:
    assert "dcb pfc deadlock-detect timer 200" in cfg[SYSTEM]
    assert "dcb pfc deadlock-recovery timer 400" in cfg[SYSTEM]


def test_headroom_is_xoff_in_kbytes(cfg: Views, spine2: DeviceIntent) -> None:
    assert spine2.buffers is not None
    for port in spine2.buffers.ports:
        kbytes = -(-port.xoff_bytes // 1024)
        assert f"dcb pfc buffer 3 hdrm {kbytes} kbytes" in cfg[f"interface {port.interface}"]
    assert "dcb pfc buffer 3 hdrm 120 kbytes" in cfg["interface 400GE1/0/1"]  # 40 m, 400G
    assert "dcb pfc buffer 3 hdrm 160 kbytes" in cfg["interface 400GE1/0/3"]  # 100 m, 400G
    assert "dcb pfc buffer 3 hdrm 52 kbytes" in cfg["interface 100GE1/0/4"]  # 10 m, 100G


def test_ecn_drop_profiles_in_bytes(cfg: Views) -> None:
    assert cfg["drop-profile roce_ecn_100g"] == [
        "ecn buffer-size low-limit 400000 high-limit 1600000 discard-percentage 20"]
    assert cfg["drop-profile roce_ecn_400g"] == [
        "ecn buffer-size low-limit 800000 high-limit 3200000 discard-percentage 20"]


def test_ecn_applied_per_port_speed(cfg: Views) -> None:
    assert cfg["interface 400GE1/0/1"][-2:] == ["qos queue 3 wred roce_ecn_400g", "qos queue 3 ecn"]
    assert cfg["interface 100GE1/0/4"][-2:] == ["qos queue 3 wred roce_ecn_100g", "qos queue 3 ecn"]


def test_features_off_render_only_ports(spine2: DeviceIntent) -> None:
    bare = spine2.model_copy(update={"qos": None, "pfc": None, "buffers": None, "ecn": None})
    cfg = views(render(bare))
    assert cfg[SYSTEM] == [f"interface {p.name}" for p in spine2.interfaces]
    assert all(lines == [f"description {p.description}", "jumboframe enable 9216"]
               for p in spine2.interfaces for lines in [cfg[f"interface {p.name}"]])


def test_lossless_priority_4_moves_every_feature(nondefault: Views) -> None:
    assert "ip-dscp-inbound 26 phb af4 green" in nondefault["diffserv domain roce"]
    assert nondefault["dcb pfc"] == ["priority 4", "undo priority 3"]
    port = nondefault["interface 400GE1/0/1"]
    assert "qos drr 0 4" in port
    assert "qos queue 4 drr weight 50" in port
    assert "dcb pfc buffer 4 hdrm 120 kbytes" in port
    assert port[-2:] == ["qos queue 4 wred tight", "qos queue 4 ecn"]
    assert "dcb pfc deadlock-detect timer 300" in nondefault[SYSTEM]
    assert "dcb pfc deadlock-recovery timer 600" in nondefault[SYSTEM]


def test_explicit_ecn_profile(nondefault: Views) -> None:
    assert nondefault["drop-profile tight"] == [
        "ecn buffer-size low-limit 50000 high-limit 150000 discard-percentage 10"]
    assert "drop-profile roce_ecn_400g" not in nondefault[SYSTEM]


def test_watchdog_disabled_leaves_deadlock_timers_alone(spine2: DeviceIntent) -> None:
    assert spine2.pfc is not None
    off = spine2.pfc.watchdog.model_copy(update={"enabled": False})
    cfg = views(render(spine2.model_copy(update={"pfc": spine2.pfc.model_copy(update={"watchdog": off})})))
    assert not [line for line in cfg[SYSTEM] if "deadlock" in line]
    assert "dcb pfc" in cfg[SYSTEM]


def test_trust_pcp_maps_8021p(spine2: DeviceIntent) -> None:
    assert spine2.qos is not None
    cfg = views(render(spine2.model_copy(update={"qos": spine2.qos.model_copy(update={"trust": "pcp"})})))
    assert cfg["diffserv domain roce"] == [f"8021p-inbound {p} phb {PHB[p]} green" for p in range(8)]
    assert "trust 8021p outer" in cfg["interface 400GE1/0/1"]


def test_rendering_is_deterministic(spine2: DeviceIntent, text: str) -> None:
    assert render(spine2) == text


def test_drr_queues_listed_in_queue_order(lab_roce: Path) -> None:
    # the CE lists "qos drr" queues ascending: "qos drr 1 0" (default class above the lossless one) read back as
    # "qos drr 0 1", so deploy's verification reported a change and rolled the device back
    edit_yaml(lab_roce / "fabric.yaml", lambda f: (f["qos"].update(lossless_priority=0, default_priority=1),
                                                   f["pfc"].update(priorities=[0])))
    port = views(render(intents(lab_roce)["spine2"]))["interface 400GE1/0/1"]
    assert "qos drr 0 1" in port
