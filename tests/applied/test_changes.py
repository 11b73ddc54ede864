"""Applied knobs follow the device: factory state, and one CLI change at a time after fabric's config.

One twin for the module: the factory state of each platform is read first (these tests run in file order),
then each change test owns one device and makes its change over the real CLI.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fabric.lab.applied.eos import EOS_DEFAULT_DSCP_TO_TC
from fabric.lab.control import Lab
from fabric.lab.physics.knobs import DEFAULT_DSCP_TO_TC, DcqcnKnobs, PortKnobs
from tests.applied.clients import (
    HOST,
    PUSH,
    knobs,
    netmiko,
    push_sonic,
    rendered,
    sonic_patch,
    type_huawei,
)
from tests.conftest import INVENTORIES


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    twin = Lab(tmp_path_factory.mktemp("changes")).up(INVENTORIES / "lab-roce", free_ports=True)
    try:
        yield twin
    finally:
        twin.down()


@pytest.mark.parametrize("device", sorted(PUSH))
def test_factory_fresh_device_is_lossy_and_unmarked(lab: Lab, device: str) -> None:
    applied = knobs(lab, device)  # first in this module: nothing has been configured yet
    assert applied.trust == "pcp"
    assert applied.dscp_to_tc == (EOS_DEFAULT_DSCP_TO_TC if device == "leaf3" else DEFAULT_DSCP_TO_TC)
    assert {applied.queue_of(dscp) for dscp in range(64)} == {applied.tc_to_queue[0]}
    for name, port in applied.ports.items():
        assert (port.pfc_priorities, port.ecn, port.watchdog, port.headroom_bytes, port.xoff_bytes) == (
            frozenset(), {}, None, 0, None), name
    if device == HOST:  # mlx5 boot state: MTU 1500, DCQCN firmware defaults with NP/RP on every priority
        assert {p.mtu for p in applied.ports.values()} == {1500} and applied.roce_dscp == 0
        assert applied.dcqcn == DcqcnKnobs(np_enabled_priorities=frozenset(range(8)),
                                           rp_enabled_priorities=frozenset(range(8)))
    elif device != "leaf1":  # SONiC's PORT table states 9100; the others leave the MTU to the factory default
        assert {p.mtu for p in applied.ports.values()} == {PortKnobs().mtu}


@pytest.fixture(scope="module")
def texts() -> dict[str, str]:
    return rendered()[1]


def test_nxos_kmin_change_shows_on_the_ports_of_that_policy_only(lab: Lab) -> None:
    policy = ["policy-map type queuing ECN_400G", "class type queuing c-out-8q-q3"]
    wred = "random-detect minimum-threshold {} kbytes maximum-threshold 3125 kbytes drop-probability 20 weight 0 ecn"
    with netmiko(lab, "spine1", "cisco_nxos") as conn:
        assert "%" not in conn.send_config_set([*policy, wred.format(782), "interface Ethernet1/1",
                                                "service-policy type queuing output ECN_400G"])
        before = knobs(lab, "spine1")
        assert "%" not in conn.send_config_set([*policy, wred.format(500)])
    after = knobs(lab, "spine1")
    assert before.ports["Ethernet1/1"].ecn[3].kmin_bytes == 782 * 1024
    assert after.ports["Ethernet1/1"].ecn[3].kmin_bytes == 500 * 1024
    assert after.ports["Ethernet1/1"].ecn[3].kmax_bytes == 3125 * 1024
    assert after.ports["Ethernet1/2"].ecn == {}  # no queuing policy there


def test_sonic_mismapped_dscp_lands_in_the_lossy_queue(lab: Lab, texts: dict[str, str]) -> None:
    push_sonic(lab, texts["leaf1"])
    assert knobs(lab, "leaf1").queue_of(26) == 3
    output = sonic_patch(lab, [{"op": "replace", "path": "/DSCP_TO_TC_MAP/ROCE/26", "value": "0"}])
    assert output.endswith("Patch applied successfully."), output
    applied = knobs(lab, "leaf1")
    assert applied.queue_of(26) == 0 and applied.queue_of(48) == 6
    assert 0 not in applied.ports["Ethernet0"].pfc_priorities  # queue 0 is lossy: the packet can be dropped
    with netmiko(lab, "leaf1", "linux") as conn:
        assert conn.send_command("sudo config interface pfc priority Ethernet0 4 on") == ""
    applied = knobs(lab, "leaf1")
    assert applied.ports["Ethernet0"].pfc_priorities == frozenset({3, 4})
    assert applied.ports["Ethernet8"].pfc_priorities == frozenset({3})


def test_huawei_change_applies_at_commit(lab: Lab) -> None:
    ecn_on_one_port = ["drop-profile roce_ecn_400g",
                       "ecn buffer-size low-limit 800000 high-limit 3200000 discard-percentage 20", "quit",
                       "interface 400GE1/0/1", "qos queue 3 wred roce_ecn_400g", "qos queue 3 ecn", "quit"]
    with netmiko(lab, "spine2", "huawei_vrpv8") as conn:
        type_huawei(conn, ["system-view", *ecn_on_one_port, "commit"])
        assert knobs(lab, "spine2").ports["400GE1/0/1"].ecn[3].kmin_bytes == 800_000
        type_huawei(conn, ["drop-profile roce_ecn_400g",
                           "ecn buffer-size low-limit 300000 high-limit 3200000 discard-percentage 50", "quit"])
        assert knobs(lab, "spine2").ports["400GE1/0/1"].ecn[3].kmin_bytes == 800_000  # a candidate only
        type_huawei(conn, ["commit", "return"])
    applied = knobs(lab, "spine2")
    assert (applied.ports["400GE1/0/1"].ecn[3].kmin_bytes, applied.ports["400GE1/0/1"].ecn[3].pmax) == (300_000, 0.5)
    assert applied.ports["400GE1/0/2"].ecn == {}


def test_host_dcqcn_and_tos_changes(lab: Lab, texts: dict[str, str]) -> None:
    PUSH[HOST](lab, texts[HOST])
    with netmiko(lab, HOST, "linux") as conn:
        conn.send_config_set(["echo 250 > /sys/class/net/ens1np0/ecn/roce_rp/params/rpg_time_reset",
                              "echo 0 > /sys/class/net/ens1np0/ecn/roce_np/enable/3",
                              "cma_roce_tos -d mlx5_0 -t 98", "mlnx_qos -i ens1np0 --pfc 0,0,0,1,1,0,0,0"])
    applied = knobs(lab, HOST)
    assert applied.dcqcn is not None and applied.dcqcn.rpg_time_reset_us == 250
    assert 3 not in applied.dcqcn.np_enabled_priorities
    assert applied.roce_dscp == 24  # ToS 98 = DSCP 24 << 2 | ECT(0)
    assert applied.ports["ens1np0"].pfc_priorities == frozenset({3, 4})
    assert applied.ports["ens2np0"].pfc_priorities == frozenset({3})


def test_nvue_change_applies_at_config_apply(lab: Lab) -> None:
    profile = "nv set qos congestion-control P traffic-class 3"
    with netmiko(lab, "leaf2", "linux") as conn:
        conn.send_config_set([f"{profile} min-threshold 100000", f"{profile} max-threshold 900000",
                              f"{profile} probability 30", f"{profile} ecn enable",
                              "nv set interface swp3 qos congestion-control profile P"])
        assert conn.send_command("nv config apply -y").startswith("applied")
        before = knobs(lab, "leaf2").ports["swp3"].ecn[3]
        conn.send_command(f"{profile} min-threshold 200000")
        assert knobs(lab, "leaf2").ports["swp3"].ecn[3] == before  # pending revision only
        assert conn.send_command("nv config apply -y").startswith("applied")
    assert (before.kmin_bytes, before.kmax_bytes, before.pmax) == (100_000, 900_000, 0.3)
    assert knobs(lab, "leaf2").ports["swp3"].ecn[3].kmin_bytes == 200_000
