"""Intent builders: the vendor-neutral numbers every template prints."""

from pathlib import Path

import pytest

from fabric.intent import build_intent
from fabric.intent.ecn import AUTO_ECN
from fabric.intent.nic import roce_tos
from fabric.inventory import load_inventory
from tests.conftest import edit_yaml


@pytest.fixture(scope="module")
def roce():
    return build_intent(load_inventory(Path("inventories/lab-roce")).fabric)


def test_qos_map_classes(roce):
    qos = roce["leaf1"].qos
    assert qos.dscp_to_tc[26] == 3 and qos.dscp_to_tc[48] == 6
    assert {tc for d, tc in qos.dscp_to_tc.items() if d not in (26, 48)} == {0}
    assert len(qos.dscp_to_tc) == 64
    assert qos.dscp_groups[3] == [26] and qos.dscp_groups[6] == [48]
    assert qos.tc_to_pg == {0: 0, 1: 0, 2: 0, 3: 3, 4: 0, 5: 0, 6: 0, 7: 0}
    ets = {c.name: c for c in qos.ets}
    assert ets["cnp"].mode == "strict" and ets["roce"].bandwidth_percent == 50


def test_pfc_on_lossless_ports_only(roce):
    pfc = roce["leaf1"].pfc
    assert pfc.priorities == [3] and pfc.priority_vector == "0,0,0,1,0,0,0,0"
    assert len(pfc.ports) == len(roce["leaf1"].interfaces)
    assert not pfc.link_pause and not pfc.dcbx_willing
    assert (pfc.watchdog.detect_ms, pfc.watchdog.restore_ms, pfc.watchdog.action) == (200, 400, "drop")


def test_auto_ecn_scales_with_speed(roce):
    ecn = roce["leaf1"].ecn
    by_name = {p.name: p for p in ecn.profiles}
    assert ecn.ports["Ethernet0"] == "roce_ecn_400g"  # 400G uplink
    assert ecn.ports["Ethernet16"] == "roce_ecn_200g"  # 200G server port
    assert by_name["roce_ecn_400g"].kmin_bytes == 800_000 and by_name["roce_ecn_400g"].kmax_bytes == 3_200_000
    assert by_name["roce_ecn_200g"].pmax_percent == 20
    kmins = [AUTO_ECN[s][0] for s in sorted(AUTO_ECN)]
    assert kmins == sorted(kmins)
    assert "§6.1" in by_name["roce_ecn_400g"].source


def test_explicit_ecn_profile_per_port(lab_roce):
    edit_yaml(lab_roce / "fabric.yaml", lambda f: f.update({"ecn": {
        "mode": "explicit", "default_profile": "base",
        "profiles": {"base": {"kmin_bytes": "150KB", "kmax_bytes": "1.5MB", "pmax_percent": 100},
                     "uplink": {"kmin_bytes": 400000, "kmax_bytes": 1600000, "pmax_percent": 20, "weight": 2}}}}))
    edit_yaml(lab_roce / "hosts.yaml", lambda h: h["leaf1"]["data"]["interfaces"]["Ethernet0"].update(
        {"ecn_profile": "uplink"}))
    ecn = build_intent(load_inventory(lab_roce).fabric)["leaf1"].ecn
    assert ecn.ports["Ethernet0"] == "uplink" and ecn.ports["Ethernet8"] == "base"
    base = next(p for p in ecn.profiles if p.name == "base")
    assert (base.kmin_bytes, base.kmax_bytes, base.pmax_percent) == (150000, 1500000, 100)


def test_sonic_buffers_per_cable_and_speed(roce):
    buffers = roce["leaf1"].buffers
    names = {p.name for p in buffers.profiles}
    assert names == {"pg_lossless_400000_40m_mtu9216_profile", "pg_lossless_200000_3m_mtu9216_profile"}
    port = next(p for p in buffers.ports if p.interface == "Ethernet0")
    for pb in buffers.ports:  # cells always describe the same bytes
        assert (pb.xon_cells, pb.xoff_cells, pb.size_cells) == tuple(
            -(-b // 144) for b in (pb.xon_bytes, pb.xoff_bytes, pb.size_bytes))
    assert port.size_bytes > port.xon_bytes + port.xoff_bytes  # 400G on Spectrum-3 is 8 lanes: + port MTU
    assert buffers.total_headroom_bytes == sum(p.size_bytes for p in buffers.ports)
    assert 0 < buffers.pause_threshold_bytes < buffers.buffer_bytes


def test_longer_cable_gets_bigger_headroom(lab_roce):
    edit_yaml(lab_roce / "hosts.yaml", lambda h: h["leaf1"]["data"]["interfaces"]["Ethernet0"].update(
        {"cable_length_m": 300}))
    ports = {p.interface: p for p in build_intent(load_inventory(lab_roce).fabric)["leaf1"].buffers.ports}
    assert ports["Ethernet0"].xoff_bytes > ports["Ethernet8"].xoff_bytes  # same speed, 300 m vs 40 m
    assert ports["Ethernet0"].profile == "pg_lossless_400000_300m_mtu9216_profile"


def test_host_nic_intent(roce):
    nic = roce["gpu01"].nic
    assert nic.roce_tos == 106 == roce_tos(26)
    assert [p.rdma_device for p in nic.ports] == ["mlx5_0", "mlx5_1"]
    assert nic.dscp2prio == {26: 3, 48: 6}
    assert nic.np_enable_priorities == nic.rp_enable_priorities == [3]
    assert nic.np_params == {"min_time_between_cnps": 4, "cnp_dscp": 48, "cnp_802p_prio": 6}
    assert nic.rp_params["rpg_time_reset"] == 300 and nic.rp_params["clamp_tgt_rate_after_time_inc"] == 1
    assert nic.ets_tsa[6] == "strict" and sum(nic.ets_bandwidth) == 100
    assert roce["gpu01"].mtu == 9000


def test_lossless_priority_moves_everything(lab_roce):
    edit_yaml(lab_roce / "fabric.yaml", lambda f: (f["qos"].update({"lossless_priority": 4}),
                                                    f["pfc"].update({"priorities": [4]})))
    intents = build_intent(load_inventory(lab_roce).fabric)
    assert intents["leaf1"].qos.dscp_to_tc[26] == 4 and intents["leaf1"].ecn.queue == 4
    assert intents["gpu01"].nic.np_enable_priorities == [4]
    assert intents["gpu01"].pfc.priority_vector == "0,0,0,0,1,0,0,0"


def test_infiniband_sm_intent():
    intents = build_intent(load_inventory(Path("inventories/lab-ib")).fabric)
    ib = intents["sm1"].ib
    assert ib.routing_engine == "ftree,updn" and ib.sm_priority == 15
    assert ib.sl2vl == "0,1,2,3,4,5,6,7,0,1,2,3,4,5,6,7" and ib.vlarb_high == "0:4,1:0"
    training = next(p for p in ib.partitions if p.name == "training")
    assert len(training.members) == 8 and all(m.endswith("=full") for m in training.members)
    assert ib.root_guids == ["0x00a0000000000001", "0x00a0000000000002"]
    assert intents["leaf1"].qos is None and intents["gpu01"].nic is None
    assert all(not p.lossless for p in intents["leaf1"].interfaces)


def test_explicit_headroom_gets_its_own_profile(lab_roce):
    """Ports of one shape share a profile; a port with headroom_bytes gets a static one of its own."""
    edit_yaml(lab_roce / "hosts.yaml", lambda h: h["leaf1"]["data"]["interfaces"]["Ethernet8"].update(
        {"headroom_bytes": 200000}))
    buffers = build_intent(load_inventory(lab_roce).fabric)["leaf1"].buffers
    ports = {p.interface: p for p in buffers.ports}
    static = ports["Ethernet8"]
    assert static.explicit and static.xoff_bytes == 200000
    assert static.profile == "pg_lossless_Ethernet8_static_profile"
    shared = [p for p in buffers.ports if not p.explicit]
    assert len(shared) == len(buffers.ports) - 1
    assert all(p.profile.startswith("pg_lossless_") and "static" not in p.profile for p in shared)
    names = [p.name for p in buffers.profiles]
    assert names == sorted(set(names)) and "pg_lossless_Ethernet8_static_profile" in names
    assert buffers.total_headroom_bytes == sum(p.size_bytes for p in buffers.ports)


def test_null_override_keeps_the_fabric_settings(lab_roce):
    """data.qos written with only nulls overrides nothing (the effective settings are fabric.yaml's)."""
    from fabric.inventory.effective import effective_qos

    edit_yaml(lab_roce / "hosts.yaml", lambda h: h["leaf1"]["data"].update({"qos": {"trust": None}}))
    fabric = load_inventory(lab_roce).fabric
    assert effective_qos(fabric.spec, fabric.devices["leaf1"]) is fabric.spec.qos
    edit_yaml(lab_roce / "hosts.yaml", lambda h: h["leaf1"]["data"].update({"qos": {"trust": "pcp"}}))
    fabric = load_inventory(lab_roce).fabric
    assert effective_qos(fabric.spec, fabric.devices["leaf1"]).trust == "pcp"


def test_port_mtu_stays_within_what_the_platform_cli_takes(lab_roce):
    # "jumboframe enable 1500" is refused by Comware and CloudEngine (1536 at least): they get 1536
    edit_yaml(lab_roce / "fabric.yaml", lambda f: f.update(mtu=1500, host_mtu=1500))
    intents = build_intent(load_inventory(lab_roce).fabric)
    mtus = {name: {p.mtu for p in intents[name].interfaces} for name in ("spine1", "spine2", "leaf1", "leaf4")}
    assert mtus == {"spine1": {1500}, "spine2": {1536}, "leaf1": {1500}, "leaf4": {1536}}
