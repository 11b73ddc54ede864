"""opensm: options, partitions, QoS policy and root GUIDs from the lab-ib intent."""

from pathlib import Path

import pytest

from fabric.intent import build_intent
from fabric.inventory import load_inventory
from fabric.render import render_device
from tests.conftest import edit_yaml


def files(inventory: Path) -> dict[str, str]:
    return render_device(build_intent(load_inventory(inventory).fabric)["sm1"]).files


def options(text: str) -> dict[str, str]:
    return dict(line.split(" ", 1) for line in text.splitlines() if line and not line.startswith("#"))


@pytest.fixture(scope="module")
def sm1() -> dict[str, str]:
    return files(Path("inventories/lab-ib"))


def test_opensm_conf(sm1):
    conf = options(sm1["opensm.conf"])
    assert conf["routing_engine"] == "ftree,updn"
    assert conf["root_guid_file"] == "/etc/opensm/root_guids.conf"
    assert conf["sm_priority"] == "15" and conf["lmc"] == "0" and conf["sweep_interval"] == "10"
    assert conf["qos"] == "TRUE" and conf["qos_max_vls"] == "8" and conf["qos_high_limit"] == "0"
    assert conf["qos_vlarb_high"] == "0:4,1:0" and conf["qos_vlarb_low"] == "0:0,1:4,2:4,3:4"
    assert conf["qos_sl2vl"] == "0,1,2,3,4,5,6,7,0,1,2,3,4,5,6,7"
    assert conf["partition_config_file"] == "/etc/opensm/partitions.conf"
    assert conf["qos_policy_file"] == "/etc/opensm/qos-policy.conf"


def test_partitions(sm1):
    lines = [line for line in sm1["partitions.conf"].splitlines() if not line.startswith("#")]
    assert lines[0] == "Default=0x7fff, ipoib : ALL=full ;"
    training = next(line for line in lines if line.startswith("training="))
    assert training.startswith("training=0x8001, ipoib, sl=1 : 0x00c1000000000001=full, ")
    assert training.endswith("0x00c1000000000008=full ;") and training.count("=full") == 8
    assert "storage=0x8002, sl=2 : 0x00c1000000000001=limited, 0x00c1000000000002=limited ;" in lines


def test_qos_policy_maps_partitions_to_their_sl(sm1):
    body = [line.strip() for line in sm1["qos-policy.conf"].splitlines() if not line.startswith("#")]
    assert body == ["qos-ulps", "default : 0", "any, pkey 0x8001 : 1", "any, pkey 0x8002 : 2", "end-qos-ulps"]


def test_root_guids_are_the_spines(sm1):
    assert sm1["root_guids.conf"].split() == ["0x00a0000000000001", "0x00a0000000000002"]


def test_engine_without_roots_drops_root_guid_file(lab_ib):
    edit_yaml(lab_ib / "fabric.yaml", lambda f: f["infiniband"].update(
        {"routing_engine": "minhop", "sm_priority": 7, "partitions": []}))
    rendered = files(lab_ib)
    conf = options(rendered["opensm.conf"])
    assert "root_guid_file" not in conf and conf["sm_priority"] == "7" and conf["routing_engine"] == "minhop"
    assert [ln for ln in rendered["partitions.conf"].splitlines() if not ln.startswith("#")] == [
        "Default=0x7fff, ipoib : ALL=full ;"]
