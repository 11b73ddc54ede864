"""hosts_of: servers, connected NICs with line rates, pods (data.pod, else shared leaves)."""

from __future__ import annotations

from collections import Counter

from fabric.lab.workload import Host, load_workload
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
