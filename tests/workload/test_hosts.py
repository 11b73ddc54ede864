"""hosts_of: servers, connected NICs with line rates and planes, pods (data.pod, else shared leaves)."""

from __future__ import annotations

from collections import Counter

import numpy as np

from fabric.lab.workload import Host, load_workload
from fabric.lab.workload.mixes import MAX_REDRAWS, Endpoints, pick_peers
from tests.workload.conftest import WORKLOADS


def test_lab_roce_pods_come_from_shared_leaves(roce_hosts: list[Host]) -> None:
    assert len(roce_hosts) == 16 and Counter(h.pod for h in roce_hosts) == {0: 8, 1: 4, 2: 4}
    gpu09 = next(h for h in roce_hosts if h.name == "gpu09")
    name, nics, pod = gpu09
    assert (name, nics, pod, gpu09.nic_gbps) == ("gpu09", ("ens1np0", "ens2np0"), 1, (400.0, 400.0))


def test_rail_pods_come_from_the_inventory(rail_hosts: list[Host]) -> None:
    assert Counter(h.pod for h in rail_hosts) == {p: 16 for p in range(8)}
    assert [h.name for h in rail_hosts[:2]] == ["gpu001", "gpu002"]


def test_plain_tuples_are_accepted(roce_hosts: list[Host]) -> None:
    plain = [(h.name, list(h.nics), h.pod) for h in roce_hosts]
    workload = load_workload(WORKLOADS / "allreduce-ring.yaml")
    assert workload.flows(plain, 0, 0.001) == workload.flows(roce_hosts, 0, 0.001)


def test_a_clos_is_one_plane_and_separate_spine_planes_are_several(roce_hosts: list[Host], rail_hosts: list[Host],
                                                                   two_plane_hosts: list[Host]) -> None:
    assert {p for h in roce_hosts + rail_hosts for p in h.nic_plane} == {0}
    assert {h.nic_plane for h in two_plane_hosts} == {(0, 1)}


def test_a_mix_sends_each_nic_to_the_nics_of_its_own_plane(two_plane_hosts: list[Host]) -> None:
    """Every NIC of the mix is busy (sources spread over both planes), and no flow crosses planes: on separate
    spine planes there is no path between them, so such a flow would only be refused."""
    batch = load_workload(WORKLOADS / "websearch-40.yaml").flow_batch(two_plane_hosts, 0.0, 0.02)
    assert len(batch) > 1000 and set(batch.src_nic.tolist()) == {0, 1}
    assert (batch.src_nic == batch.dst_nic).all() and (batch.src_host != batch.dst_host).all()
    assert len(set(batch.dst_host.tolist())) == len(two_plane_hosts)


def test_one_plane_draws_the_peers_it_always_drew(roce_hosts: list[Host]) -> None:
    """The plane-aware draw keeps a CLOS's flows as they were: what a uniform draw over every peer gives."""
    hosts = [Host(h.name, h.nics, h.pod, h.nic_gbps, (7,) * len(h.nics)) for h in roce_hosts]  # any one plane
    peers = Endpoints.of(hosts, list(range(len(hosts))))
    src = np.arange(len(hosts)).repeat(50)
    got = pick_peers(np.random.default_rng(3), peers, src, np.full(src.size, 7))
    rng = np.random.default_rng(3)
    want = rng.integers(0, len(peers.host), src.size)
    for _ in range(MAX_REDRAWS):
        same = np.flatnonzero(peers.host[want] == src)
        if not same.size:
            break
        want[same] = rng.integers(0, len(peers.host), same.size)
    assert (got == want).all()
