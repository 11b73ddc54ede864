"""opensm: options, partitions, QoS policy and root GUIDs from the lab-ib intent."""

import re
from pathlib import Path

import pytest

from fabric.intent import build_intent
from fabric.inventory import load_inventory
from fabric.render import render_device
from tests.conftest import edit_yaml

# doc/partition-config.txt: Name=PKey[,flag[=value]]... : PortGUID[=full|limited], ... ; (wrapped after ':' and
# between members)
DEFINITION = re.compile(r"^\w+=0x[0-9a-f]{4}(, ipoib)?(, sl=\d+)?$")
MEMBER = re.compile(r"^(0x[0-9a-f]{16}|ALL)=(full|limited)$")
OPENSM_LINE_BYTES = 4095  # osm_prtn_config_parse_file: fgets(line, sizeof(line) - 1) into char line[4096]
# osm_subnet.c opt_tbl keys fabric sets; anything else would be ignored by opensm with a warning
OPENSM_KEYS = {
    "routing_engine", "root_guid_file", "sm_priority", "lmc", "sweep_interval", "partition_config_file", "qos",
    "qos_policy_file", "qos_max_vls", "qos_high_limit", "qos_vlarb_high", "qos_vlarb_low", "qos_sl2vl",
}


def files(inventory: Path) -> dict[str, str]:
    return render_device(build_intent(load_inventory(inventory).fabric)["sm1"]).files


def body(text: str) -> list[str]:
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def options(text: str) -> dict[str, str]:
    return dict(line.split(" ", 1) for line in body(text))


def partitions(text: str) -> dict[str, list[str]]:
    """partitions.conf as opensm reads it: lines (each must fit its 4 KB line buffer) with '#' comments cut,
    definitions ended by ';', 'header : member, member'."""
    assert all(len(line.encode()) + 1 < OPENSM_LINE_BYTES for line in text.splitlines())
    joined = " ".join(line.partition("#")[0] for line in text.splitlines())
    found = {}
    for definition in filter(str.strip, joined.split(";")):
        header, _, members = definition.partition(":")
        found[header.strip()] = [m.strip() for m in members.split(",") if m.strip()]
    return found


@pytest.fixture(scope="module")
def sm1() -> dict[str, str]:
    return files(Path("inventories/lab-ib"))


def test_opensm_conf(sm1):
    conf = options(sm1["opensm.conf"])
    assert set(conf) == OPENSM_KEYS
    assert conf["routing_engine"] == "ftree,updn"
    assert conf["root_guid_file"] == "/etc/opensm/root_guids.conf"
    assert conf["sm_priority"] == "15" and conf["lmc"] == "0" and conf["sweep_interval"] == "10"
    assert conf["qos"] == "TRUE" and conf["qos_max_vls"] == "8" and conf["qos_high_limit"] == "0"
    assert conf["qos_vlarb_high"] == "0:4,1:0" and conf["qos_vlarb_low"] == "0:0,1:4,2:4,3:4"
    assert conf["qos_sl2vl"] == "0,1,2,3,4,5,6,7,0,1,2,3,4,5,6,7"
    assert conf["partition_config_file"] == "/etc/opensm/partitions.conf"
    assert conf["qos_policy_file"] == "/etc/opensm/qos-policy.conf"


def test_partitions(sm1):
    # without a Default rule, a partitions file would leave every port a limited member of 0x7fff
    assert body(sm1["partitions.conf"])[0] == "Default=0x7fff, ipoib : ALL=full ;"
    found = partitions(sm1["partitions.conf"])
    assert found == {
        "Default=0x7fff, ipoib": ["ALL=full"],
        "training=0x8001, ipoib, sl=1": [f"0x00c100000000000{n}=full" for n in range(1, 9)],
        "storage=0x8002, sl=2": ["0x00c1000000000001=full", "0x00c1000000000002=full"],
    }
    assert all(DEFINITION.match(d) and all(MEMBER.match(m) for m in ms) for d, ms in found.items())


def test_qos_policy_maps_partitions_to_their_sl(sm1):
    lines = [line.strip() for line in body(sm1["qos-policy.conf"])]
    assert lines == ["qos-ulps", "default : 0", "any, pkey 0x8001 : 1", "any, pkey 0x8002 : 2", "end-qos-ulps"]


def test_root_guids_are_the_spines(sm1):
    assert body(sm1["root_guids.conf"]) == ["0x00a0000000000001", "0x00a0000000000002"]


def test_engine_without_roots_drops_root_guid_file(lab_ib):
    edit_yaml(lab_ib / "fabric.yaml", lambda f: f["infiniband"].update(
        {"routing_engine": "minhop", "sm_priority": 7, "partitions": []}))
    rendered = files(lab_ib)
    conf = options(rendered["opensm.conf"])
    assert "root_guid_file" not in conf and conf["sm_priority"] == "7" and conf["routing_engine"] == "minhop"
    assert body(rendered["partitions.conf"]) == ["Default=0x7fff, ipoib : ALL=full ;"]
    assert [line.strip() for line in body(rendered["qos-policy.conf"])] == ["qos-ulps", "default : 0", "end-qos-ulps"]


def test_qos_off_and_partition_without_sl(lab_ib):
    def change(f):
        f["infiniband"]["qos"]["enabled"] = False
        del f["infiniband"]["partitions"][1]["sl"]
    edit_yaml(lab_ib / "fabric.yaml", change)
    rendered = files(lab_ib)
    assert options(rendered["opensm.conf"])["qos"] == "FALSE"
    assert partitions(rendered["partitions.conf"])["storage=0x8002"] == [
        "0x00c1000000000001=full", "0x00c1000000000002=full"]
    assert "any, pkey 0x8002 : 2" not in rendered["qos-policy.conf"]


def test_spaces_in_the_routing_chain_keep_root_guid_file(lab_ib):
    # opensm splits routing_engine at ", \t\n": 'minhop, updn' chains updn, which reads the root GUIDs
    edit_yaml(lab_ib / "fabric.yaml", lambda f: f["infiniband"].update({"routing_engine": "minhop, updn"}))
    conf = options(files(lab_ib)["opensm.conf"])
    assert conf["root_guid_file"] == "/etc/opensm/root_guids.conf"


def test_partition_of_many_ports_fits_opensms_line_buffer(lab_ib):
    # 300 GUIDs on one line were 7.5 KB: opensm's fgets cut it at 4 KB, and a GUID split there read as two
    # wrong GUIDs ('0x00c10000' and '00000123', octal)
    guids = [f"0x00d1{n:012x}" for n in range(300)]
    edit_yaml(lab_ib / "hosts.yaml", lambda h: h["gpu01"]["data"]["interfaces"].update(
        {f"ib{n + 1}": {"speed_gbps": 400, "port_guid": guid} for n, guid in enumerate(guids)}))
    edit_yaml(lab_ib / "fabric.yaml", lambda f: f["infiniband"]["partitions"][1].update(members=["gpu01"]))
    found = partitions(files(lab_ib)["partitions.conf"])
    assert found["storage=0x8002, sl=2"] == ["0x00c1000000000001=full"] + [f"{g}=full" for g in guids]
