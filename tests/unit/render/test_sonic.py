"""SONiC config_db.json: the CONFIG_DB tables leaf1 gets, checked against its intent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from fabric.intent.models import DeviceIntent
from fabric.render import render_device
from tests.conftest import INVENTORIES, edit_yaml
from tests.unit.render.cliparse import intents

Tables = dict[str, Any]


def config_db(intent: DeviceIntent) -> Tables:
    return json.loads(render_device(intent).files["config_db.json"])


@pytest.fixture(scope="module")
def leaf1() -> DeviceIntent:
    return intents(INVENTORIES / "lab-roce")["leaf1"]


@pytest.fixture(scope="module")
def db(leaf1: DeviceIntent) -> Tables:
    return config_db(leaf1)


def test_port_mtu_on_every_interface(db: Tables, leaf1: DeviceIntent) -> None:
    assert db["PORT"] == {p.name: {"mtu": "9216", "speed": str(p.speed_gbps * 1000)} for p in leaf1.interfaces}
    assert db["PORT"]["Ethernet0"]["speed"] == "400000"


def test_dscp_map_sends_roce_to_tc3_and_cnp_to_tc6(db: Tables) -> None:
    dscp = db["DSCP_TO_TC_MAP"]["ROCE"]
    assert set(dscp) == {str(d) for d in range(64)}
    assert dscp["26"] == "3"
    assert dscp["48"] == "6"
    assert {tc for d, tc in dscp.items() if d not in ("26", "48")} == {"0"}
    assert db["TC_TO_PRIORITY_GROUP_MAP"]["ROCE"]["3"] == "3"
    assert db["TC_TO_QUEUE_MAP"]["ROCE"] == {str(q): str(q) for q in range(8)}


def test_ets_dwrr_50_50_and_strict_cnp(db: Tables) -> None:
    assert db["SCHEDULER"] == {
        "scheduler.default": {"type": "DWRR", "weight": "50"},
        "scheduler.roce": {"type": "DWRR", "weight": "50"},
        "scheduler.cnp": {"type": "STRICT"},
    }
    assert db["QUEUE"]["Ethernet0|6"] == {"scheduler": "scheduler.cnp"}
    assert db["QUEUE"]["Ethernet0|0"] == {"scheduler": "scheduler.default"}


def test_lossless_port_qos_map(db: Tables) -> None:
    assert db["PORT_QOS_MAP"]["Ethernet16"] == {
        "dscp_to_tc_map": "ROCE", "tc_to_queue_map": "ROCE", "tc_to_pg_map": "ROCE",
        "pfc_to_queue_map": "ROCE", "pfc_to_pg_map": "ROCE", "pfc_enable": "3", "pfcwd_sw_enable": "3",
    }
    assert db["PFC_PRIORITY_TO_PRIORITY_GROUP_MAP"] == {"ROCE": {"3": "3"}}


def test_pfc_watchdog_timers(db: Tables, leaf1: DeviceIntent) -> None:
    assert db["PFC_WD"]["GLOBAL"] == {"POLL_INTERVAL": "100"}
    for port in leaf1.interfaces:
        assert db["PFC_WD"][port.name] == {"action": "drop", "detection_time": "200", "restoration_time": "400"}


def test_buffer_profiles_equal_intent(db: Tables, leaf1: DeviceIntent) -> None:
    assert leaf1.buffers is not None
    assert db["BUFFER_PROFILE"] == {
        p.name: {"pool": "ingress_lossless_pool", "xon": str(p.xon_bytes), "xoff": str(p.xoff_bytes),
                 "size": str(p.size_bytes), "dynamic_th": str(p.dynamic_th)}
        for p in leaf1.buffers.profiles
    }
    assert db["BUFFER_PROFILE"]["pg_lossless_400000_40m_mtu9216_profile"]["xoff"] == "112640"


def test_buffer_pg_points_at_the_port_profile(db: Tables, leaf1: DeviceIntent) -> None:
    assert leaf1.buffers is not None
    assert db["BUFFER_PG"] == {f"{p.interface}|3": {"profile": p.profile} for p in leaf1.buffers.ports}
    assert {pg["profile"] for pg in db["BUFFER_PG"].values()} == set(db["BUFFER_PROFILE"])
    assert db["BUFFER_PG"]["Ethernet16|3"] == {"profile": "pg_lossless_200000_3m_mtu9216_profile"}


def test_cable_length_and_buffer_model(db: Tables) -> None:
    assert db["CABLE_LENGTH"]["AZURE"]["Ethernet0"] == "40m"
    assert db["CABLE_LENGTH"]["AZURE"]["Ethernet72"] == "3m"
    assert db["DEVICE_METADATA"] == {"localhost": {"buffer_model": "dynamic"}}
    assert db["LOSSLESS_TRAFFIC_PATTERN"] == {"AZURE": {"mtu": "1024", "small_packet_percentage": "50"}}


def test_wred_profile_thresholds_are_intent_bytes(db: Tables, leaf1: DeviceIntent) -> None:
    assert leaf1.ecn is not None
    for profile in leaf1.ecn.profiles:
        wred = db["WRED_PROFILE"][profile.name]
        assert wred["ecn"] == "ecn_all"
        for color in ("green", "yellow", "red"):
            assert wred[f"wred_{color}_enable"] == "true"  # ecnconfig cannot set these (§9.3)
            assert wred[f"{color}_min_threshold"] == str(profile.kmin_bytes)
            assert wred[f"{color}_max_threshold"] == str(profile.kmax_bytes)
            assert wred[f"{color}_drop_probability"] == "20"
    assert db["WRED_PROFILE"]["roce_ecn_400g"]["green_min_threshold"] == "800000"
    assert db["QUEUE"]["Ethernet0|3"] == {"scheduler": "scheduler.roce", "wred_profile": "roce_ecn_400g"}
    assert db["QUEUE"]["Ethernet16|3"]["wred_profile"] == "roce_ecn_200g"


def test_render_is_deterministic(leaf1: DeviceIntent) -> None:
    assert render_device(leaf1).files == render_device(leaf1).files


def test_absent_features_render_no_tables(leaf1: DeviceIntent) -> None:
    bare = leaf1.model_copy(update={"qos": None, "pfc": None, "buffers": None, "ecn": None})
    assert set(config_db(bare)) == {"PORT"}


def test_watchdog_off_leaves_pfc_on(lab_roce: Path) -> None:
    edit_yaml(lab_roce / "fabric.yaml", lambda f: f["pfc"]["watchdog"].update(enabled=False))
    db = config_db(intents(lab_roce)["leaf1"])
    assert "PFC_WD" not in db  # CONFIG_DB has no empty tables: apply-patch refuses one
    assert db["PORT_QOS_MAP"]["Ethernet0"]["pfc_enable"] == "3"
    assert "pfcwd_sw_enable" not in db["PORT_QOS_MAP"]["Ethernet0"]


def test_lossy_port_gets_classification_only(lab_roce: Path) -> None:
    def lossy(h: Any) -> None:  # both ends of the link: the validator refuses a half-lossless link
        h["leaf1"]["data"]["interfaces"]["Ethernet16"]["lossless"] = False
        h["gpu01"]["data"]["interfaces"]["ens1np0"]["lossless"] = False

    edit_yaml(lab_roce / "hosts.yaml", lossy)
    db = config_db(intents(lab_roce)["leaf1"])
    assert db["PORT_QOS_MAP"]["Ethernet16"] == {
        "dscp_to_tc_map": "ROCE", "tc_to_queue_map": "ROCE", "tc_to_pg_map": "ROCE"}
    assert "Ethernet16|3" not in db["BUFFER_PG"]
    assert "Ethernet16" not in db["CABLE_LENGTH"]["AZURE"]
    assert "Ethernet16" not in db["PFC_WD"]
    assert "wred_profile" not in db["QUEUE"]["Ethernet16|3"]


def test_non_default_priority_and_explicit_ecn_profile(lab_roce: Path) -> None:
    def change(f: Any) -> None:
        f["qos"].update(lossless_priority=4, roce_dscp=[24, 26], lossless_bandwidth_percent=60)
        f["pfc"].update(priorities=[4])
        f["pfc"]["watchdog"].update(detect_ms=300, restore_ms=600, poll_ms=150, action="alert")
        f["ecn"] = {"mode": "explicit", "default_profile": "tight",
                    "profiles": {"tight": {"kmin_bytes": 150000, "kmax_bytes": 1500000, "pmax_percent": 10}}}

    edit_yaml(lab_roce / "fabric.yaml", change)
    db = config_db(intents(lab_roce)["leaf1"])
    assert db["DSCP_TO_TC_MAP"]["ROCE"]["24"] == "4"
    assert db["DSCP_TO_TC_MAP"]["ROCE"]["26"] == "4"
    assert db["TC_TO_PRIORITY_GROUP_MAP"]["ROCE"]["4"] == "4"
    assert db["PFC_PRIORITY_TO_PRIORITY_GROUP_MAP"] == {"ROCE": {"4": "4"}}
    assert db["SCHEDULER"]["scheduler.roce"] == {"type": "DWRR", "weight": "60"}
    assert db["SCHEDULER"]["scheduler.default"] == {"type": "DWRR", "weight": "40"}
    assert db["PORT_QOS_MAP"]["Ethernet0"]["pfc_enable"] == "4"
    assert db["PFC_WD"]["Ethernet0"] == {"action": "alert", "detection_time": "300", "restoration_time": "600"}
    assert db["PFC_WD"]["GLOBAL"] == {"POLL_INTERVAL": "150"}
    assert "Ethernet0|4" in db["BUFFER_PG"] and "Ethernet0|3" not in db["BUFFER_PG"]
    assert set(db["WRED_PROFILE"]) == {"tight"}
    assert db["WRED_PROFILE"]["tight"]["green_min_threshold"] == "150000"
    assert db["WRED_PROFILE"]["tight"]["red_max_threshold"] == "1500000"
    assert db["WRED_PROFILE"]["tight"]["yellow_drop_probability"] == "10"
    assert db["QUEUE"]["Ethernet0|4"] == {"scheduler": "scheduler.roce", "wred_profile": "tight"}
    assert "wred_profile" not in db["QUEUE"].get("Ethernet0|3", {})


def test_trust_pcp_classifies_by_dot1p(lab_roce: Path) -> None:
    edit_yaml(lab_roce / "fabric.yaml", lambda f: f["qos"].update(trust="pcp"))
    leaf1 = intents(lab_roce)["leaf1"]
    assert leaf1.qos is not None and leaf1.qos.trust == "pcp"
    db = config_db(leaf1)
    # PCP n -> TC n, as nxos "match cos N", huawei "8021p-inbound N" and comware dot1p-lp read it
    assert db["DOT1P_TO_TC_MAP"] == {"ROCE": {str(p): str(p) for p in range(8)}}
    assert "DSCP_TO_TC_MAP" not in db
    for port in (p.name for p in leaf1.interfaces if p.peer):
        assert db["PORT_QOS_MAP"][port]["dot1p_to_tc_map"] == "ROCE", port
        assert "dscp_to_tc_map" not in db["PORT_QOS_MAP"][port], port
    assert db["PORT_QOS_MAP"]["Ethernet0"]["pfc_enable"] == "3"
    assert db["TC_TO_QUEUE_MAP"]["ROCE"] == {str(q): str(q) for q in range(8)}


def test_second_pfc_priority_gets_its_own_priority_group(lab_roce: Path) -> None:
    # SONiC's own default is PFC on 3 and 4 (TC3 -> PG3, TC4 -> PG4); folding 4 into PG 0 gave the lossy PG the
    # lossless headroom profile and made every default-class packet pause the peer on priority 4
    edit_yaml(lab_roce / "fabric.yaml", lambda f: f["pfc"].update(priorities=[3, 4]))
    db = config_db(intents(lab_roce)["leaf1"])
    assert db["PFC_PRIORITY_TO_PRIORITY_GROUP_MAP"] == {"ROCE": {"3": "3", "4": "4"}}
    assert db["TC_TO_PRIORITY_GROUP_MAP"]["ROCE"] == {"0": "0", "1": "0", "2": "0", "3": "3", "4": "4", "5": "0",
                                                      "6": "0", "7": "0"}
    assert {"Ethernet0|3", "Ethernet0|4"} <= set(db["BUFFER_PG"])
    assert not any(key.endswith("|0") for key in db["BUFFER_PG"])  # PG 0 stays lossy
