"""topology: ports and delays from the inventory, ECMP spreading by hash, re-hash on link down, knob arrays."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from fabric.lab.physics.knobs import DeviceKnobs, EcnKnobs, PortKnobs
from fabric.lab.physics.topology import KeyText, Network, cable_headroom_need, scenario
from tests.physics.flows import Flow, lab_roce


def cross_pod_flows(n: int) -> list[Flow]:
    return [Flow((f"gpu0{1 + i % 8}", "ens1np0"), ("gpu09", "ens1np0"), 1e6) for i in range(n)]


def spine_of(net: Network, path: list[int]) -> str:
    return net.device[net.peer[path[1]]]


def test_ports_links_and_delays_come_from_the_inventory() -> None:
    net = Network.from_fabric(lab_roce())
    p = net.port("spine1", "Ethernet1/3")
    assert net.device[net.peer[p]] == "leaf3" and net.interface[net.peer[p]] == "Ethernet1/1"
    assert net.peer[net.peer[p]] == p
    sc = scenario(net, {}, [])
    assert sc.capacity[p] == 400e9 / 8
    assert abs(sc.delay_s[p] - 100 / 2e8) < 1e-12  # 100 m of fibre
    nic = net.port("gpu13", "ens1np0")
    assert sc.is_host[nic] and sc.switch_of[nic] == -1 and sc.sink_capacity[nic] == 100e9 / 8
    assert sc.n_ports == sum(len(d.interfaces) for d in lab_roce().devices.values())


def test_ecmp_spreads_flows_over_both_spines_deterministically() -> None:
    net = Network.from_fabric(lab_roce())
    flows = cross_pod_flows(64)
    paths = [net.route(net.port(*f.src), net.port(*f.dst), f"k{i}") for i, f in enumerate(flows)]
    assert all(p is not None and len(p) == 4 for p in paths)  # NIC, leaf1 uplink, spine downlink, leaf3 port
    spines = [spine_of(net, p) for p in paths if p]
    assert 20 <= spines.count("spine1") <= 44, spines.count("spine1")
    again = [net.route(net.port(*f.src), net.port(*f.dst), f"k{i}") for i, f in enumerate(flows)]
    assert again == paths
    same_leaf = net.route(net.port("gpu01", "ens1np0"), net.port("gpu02", "ens1np0"), "x")
    assert same_leaf == [net.port("gpu01", "ens1np0"), net.port("leaf1", "Ethernet24")]


def test_link_down_rehashes_onto_the_remaining_spine_only_the_flows_that_crossed_it() -> None:
    net = Network.from_fabric(lab_roce())
    flows = cross_pod_flows(64)
    before = [net.route(net.port(*f.src), net.port(*f.dst), f"k{i}") for i, f in enumerate(flows)]
    uplink = net.port("leaf1", "Ethernet0")  # to spine1
    net.set_down([uplink])
    after = [net.route(net.port(*f.src), net.port(*f.dst), f"k{i}") for i, f in enumerate(flows)]
    assert all(p is not None and spine_of(net, p) == "spine2" for p in after)
    assert all(b == a for b, a in zip(before, after, strict=True) if b and spine_of(net, b) == "spine2")
    sc = scenario(net, {}, flows)
    assert sc.capacity[uplink] == 0 and sc.capacity[net.peer[uplink]] == 0
    assert uplink not in set(sc.hop_port.tolist())
    net.set_down([net.port("gpu09", "ens1np0")])  # the destination NIC's own link: no path
    assert net.route(net.port("gpu01", "ens1np0"), net.port("gpu09", "ens1np0"), "k") is None


def test_flow_hops_take_queue_and_pg_from_each_devices_dscp_map_and_knobs_fill_arrays() -> None:
    net = Network.from_fabric(lab_roce())
    lossless = {"Ethernet0": PortKnobs(pfc_priorities=frozenset({3}), xoff_bytes=100_000, headroom_bytes=50_000,
                                       ecn={3: EcnKnobs(150_000, 1_500_000, 0.1)})}
    knobs = {"leaf1": DeviceKnobs("leaf1", trust="dscp", ports=lossless),
             "gpu01": DeviceKnobs("gpu01", trust="dscp")}
    sc = scenario(net, knobs, [Flow(("gpu01", "ens1np0"), ("gpu09", "ens1np0"), 1e6, dscp=26)])
    assert sc.hop_flow.tolist() == [0, 0, 0, 0]
    assert sc.hop_ingress[0] == -1 and sc.hop_ingress[1] == net.port("leaf1", "Ethernet16")
    # leaf1 trusts DSCP (26 -> TC 3); the other devices classify on PCP (factory default): queue 0
    assert sc.hop_queue.tolist()[:2] == [3, 3] and sc.hop_queue.tolist()[2:] == [0, 0]
    e0 = net.port("leaf1", "Ethernet0")
    assert sc.pfc_enabled[e0, 3] and not sc.pfc_enabled[e0, 0]
    assert sc.xoff[e0, 3] == 100_000 and sc.xon[e0, 3] == 100_000 - 2 * 9100 and np.isnan(sc.xoff[e0, 0])
    assert sc.ecn_kmin[e0, 3] == 150_000 and sc.ecn_pmax[e0, 3] == 0.1 and sc.ecn_pmax[e0, 0] == 0
    assert sc.flow_group == ["g0"]


def test_headroom_need_grows_with_cable_length() -> None:
    net = Network.from_fabric(lab_roce())
    short, long = net.port("leaf1", "Ethernet16"), net.port("spine1", "Ethernet1/3")  # 3 m at 200G, 100 m at 400G
    assert cable_headroom_need(net, long, 9100) > cable_headroom_need(net, short, 9100) > 2 * 9100


def test_vectorised_routes_take_the_same_paths_as_route_also_after_a_link_down() -> None:
    """Builder routes whole batches as array operations (one CRC32 per key, the per-switch hash by CRC
    arithmetic): every path must be the one ``route`` (zlib.crc32 of key|switch per hop) picks."""
    net = Network.from_fabric(lab_roce())
    nics = [p for p in range(net.n_ports) if net.is_host[p]]
    src = np.array([nics[i % len(nics)] for i in range(400)])
    dst = np.array([nics[(7 * i + 3) % len(nics)] for i in range(400)])
    keys = [f"{s}>{d}/{i % 16}" for i, (s, d) in enumerate(zip(src.tolist(), dst.tolist(), strict=True))]
    text = KeyText(src, b">", dst, b"/", np.arange(400) % 16)  # the same keys as columns
    for down in ([], [net.port("leaf1", "Ethernet0")], [net.port("gpu09", "ens1np0")]):
        net.set_down(down)
        got = [[p for p in row if p >= 0] for row in net.routes(src, dst, keys).tolist()]
        want = [net.route(s, d, k) or [s] for s, d, k in zip(src.tolist(), dst.tolist(), keys, strict=True)]
        assert got == want
        assert len({tuple(p) for p in got}) > 20  # real spreading, not one path
        assert net.routes(src, dst, text).tolist() == net.routes(src, dst, keys).tolist()


def test_key_text_hashes_every_key_as_zlib_crc32_of_its_string() -> None:
    """Numbers of every width (0, 9, 10, 99, 100, ...), literals between them, one key's text by index."""
    rng = np.random.default_rng(7)
    a = np.concatenate([[0, 9, 10, 99, 100, 999, 1000, 123456789, (1 << 63) - 1], rng.integers(0, 1 << 40, 991)])
    b = rng.integers(0, 64, a.size)
    text = KeyText(a, b">", b, b"/", np.arange(a.size) % 16)
    strings = [f"{x}>{y}/{i % 16}" for i, (x, y) in enumerate(zip(a.tolist(), b.tolist(), strict=True))]
    assert [text[i] for i in range(a.size)] == strings
    assert text.crc32().tolist() == [zlib.crc32(s.encode()) for s in strings]
    assert text.take(np.array([3, 1]))[0] == strings[3] and len(KeyText(a[:0], b"x").crc32()) == 0
    with pytest.raises(ValueError, match="non-negative"):
        KeyText(np.array([-1]), b"/")
