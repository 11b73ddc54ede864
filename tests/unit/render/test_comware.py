"""H3C Comware 7 comware.cfg: what leaf4 gets, checked line by line against its intent (lossless.md §5.1)."""

from __future__ import annotations

from typing import Any

import pytest

from fabric.intent.models import DeviceIntent
from fabric.render import render_device
from tests.conftest import INVENTORIES, copy_inventory, edit_yaml
from tests.unit.render.cliparse import SYSTEM, Blocks, intents, views

Views = Blocks


def render(intent: DeviceIntent) -> str:
    return render_device(intent).files["comware.cfg"]


@pytest.fixture(scope="module")
def leaf4() -> DeviceIntent:
    return intents(INVENTORIES / "lab-roce")["leaf4"]


@pytest.fixture(scope="module")
def text(leaf4: DeviceIntent) -> str:
    return render(leaf4)


@pytest.fixture(scope="module")
def cfg(text: str) -> Views:
    return views(text)


@pytest.fixture(scope="module")
def nondefault(tmp_path_factory: pytest.TempPathFactory) -> Views:
    """Lossless priority 4, an explicit ECN profile, a forwarding watchdog."""
    folder = copy_inventory("lab-roce", tmp_path_factory.mktemp("inv"))

    def change(data: Any) -> None:
        data["qos"]["lossless_priority"] = 4
        data["pfc"]["priorities"] = [4]
        data["pfc"]["watchdog"].update(detect_ms=300, restore_ms=600, action="forward")
        data["ecn"] = {"mode": "explicit", "default_profile": "tight",
                       "profiles": {"tight": {"kmin_bytes": 50000, "kmax_bytes": 150000,
                                              "pmax_percent": 10, "weight": 2}}}

    edit_yaml(folder / "fabric.yaml", change)
    return views(render(intents(folder)["leaf4"]))


def test_every_line_is_closed_and_no_template_leaks(text: str) -> None:
    assert text.endswith("quit\n")
    assert "{" not in text and "}" not in text
    assert "" not in text.splitlines()
    assert not {"system-view", "return", "save"} & set(text.splitlines())  # deploy adds these
    assert text.splitlines()[0].startswith("# interfaces: reference/lossless.md §5.1")


def test_ports_jumbo_and_description(cfg: Views, leaf4: DeviceIntent) -> None:
    for port in leaf4.interfaces:
        assert f"description {port.description}" in cfg[f"interface {port.name}"]
        assert "jumboframe enable 9216" in cfg[f"interface {port.name}"]
    assert "description to spine1:Ethernet1/4" in cfg["interface HundredGigE1/0/1"]


def test_dscp_to_dot1p_map_covers_all_64(cfg: Views) -> None:
    imports = cfg["qos map-table dscp-dot1p"]
    assert len(imports) == 64
    assert "import 26 export 3" in imports
    assert "import 48 export 6" in imports
    others = [line for line in imports if line.split()[1] not in ("26", "48")]
    assert all(line.endswith("export 0") for line in others)


def test_dot1p_to_local_precedence_is_explicit_identity(cfg: Views) -> None:
    assert cfg["qos map-table dot1p-lp"] == [f"import {p} export {p}" for p in range(8)]


def test_trust_and_ets_on_every_port(cfg: Views, leaf4: DeviceIntent) -> None:
    for port in leaf4.interfaces:
        lines = cfg[f"interface {port.name}"]
        assert "qos trust dscp" in lines
        assert "qos wfq byte-count" in lines
        assert "qos wfq 0 group 1 byte-count 50" in lines
        assert "qos wfq 3 group 1 byte-count 50" in lines
        assert "qos wfq 6 group sp" in lines


def test_pfc_no_drop_priority_3_and_link_pause_off(cfg: Views, leaf4: DeviceIntent) -> None:
    assert leaf4.pfc is not None
    assert len(leaf4.pfc.ports) == 10
    for port in leaf4.pfc.ports:
        lines = cfg[f"interface {port}"]
        assert "undo flow-control" in lines
        assert "priority-flow-control enable" in lines
        assert "priority-flow-control no-drop dot1p 3" in lines
        assert "priority-flow-control deadlock enable" in lines


def test_watchdog_drop_means_discard_during_recovery(cfg: Views) -> None:
    assert "priority-flow-control deadlock auto-recover action discard" in cfg[SYSTEM]


def test_headroom_is_xoff_in_cells(cfg: Views, leaf4: DeviceIntent) -> None:
    assert leaf4.buffers is not None
    for port in leaf4.buffers.ports:
        assert f"priority-flow-control dot1p 3 headroom {port.xoff_cells}" in cfg[f"interface {port.interface}"]
    assert "priority-flow-control dot1p 3 headroom 208" in cfg["interface HundredGigE1/0/1"]  # 10 m uplink
    assert "priority-flow-control dot1p 3 headroom 204" in cfg["interface HundredGigE1/0/3"]  # 3 m DAC


def test_ecn_wred_table_marks_queue_3(cfg: Views, leaf4: DeviceIntent) -> None:
    assert cfg["qos wred queue table roce_ecn_100g"] == [
        "queue 3 low-limit 1563 high-limit 6250 discard-probability 20",  # 400 kB / 1.6 MB in 256 B cells
        "queue 3 weighting-constant 0",
        "queue 3 ecn",
    ]
    for port in leaf4.interfaces:
        assert "qos wred apply roce_ecn_100g" in cfg[f"interface {port.name}"]


def test_features_off_render_only_ports(leaf4: DeviceIntent) -> None:
    bare = leaf4.model_copy(update={"qos": None, "pfc": None, "buffers": None, "ecn": None})
    cfg = views(render(bare))
    assert cfg[SYSTEM] == [f"interface {p.name}" for p in leaf4.interfaces]
    assert not any("qos" in line or "priority-flow-control" in line for lines in cfg.values() for line in lines)


def test_lossless_priority_4_moves_every_feature(nondefault: Views) -> None:
    assert "import 26 export 4" in nondefault["qos map-table dscp-dot1p"]
    port = nondefault["interface HundredGigE1/0/1"]
    assert "qos wfq 4 group 1 byte-count 50" in port
    assert "priority-flow-control no-drop dot1p 4" in port
    assert "priority-flow-control dot1p 4 headroom 208" in port
    assert "qos wred apply tight" in port
    assert "priority-flow-control deadlock auto-recover action forwarding" in nondefault[SYSTEM]


def test_explicit_ecn_profile(nondefault: Views) -> None:
    assert nondefault["qos wred queue table tight"] == [
        "queue 4 low-limit 196 high-limit 586 discard-probability 10",  # 50 kB / 150 kB in 256 B cells
        "queue 4 weighting-constant 2",
        "queue 4 ecn",
    ]


def test_watchdog_disabled_leaves_deadlock_detection_alone(leaf4: DeviceIntent) -> None:
    assert leaf4.pfc is not None
    off = leaf4.pfc.watchdog.model_copy(update={"enabled": False})
    intent = leaf4.model_copy(update={"pfc": leaf4.pfc.model_copy(update={"watchdog": off})})
    lines = [line for lines in views(render(intent)).values() for line in lines]
    assert lines and not [line for line in lines if "deadlock" in line]


def test_trust_pcp_uses_dot1p_without_dscp_map(leaf4: DeviceIntent) -> None:
    assert leaf4.qos is not None
    intent = leaf4.model_copy(update={"qos": leaf4.qos.model_copy(update={"trust": "pcp"})})
    cfg = views(render(intent))
    assert "qos map-table dscp-dot1p" not in cfg[SYSTEM]
    assert "qos trust dot1p" in cfg["interface HundredGigE1/0/1"]


def test_rendering_is_deterministic(leaf4: DeviceIntent, text: str) -> None:
    assert render(leaf4) == text


def test_views_group_lines() -> None:
    found = views("a\n x\nquit\nb\na\n y\nquit\n")
    assert found == {SYSTEM: ["a", "b", "a"], "a": ["x", "y"]}
