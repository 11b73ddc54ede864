"""Generated flows match their spec: offered load, CDF, incast shape and period, ring all-reduce steps and
bytes, all-to-all pairs, the 3D-parallel layout, storage direction, schedules, determinism."""

from __future__ import annotations

from collections import Counter, defaultdict
from itertools import accumulate, pairwise
from pathlib import Path

import numpy as np
import pytest

from fabric.lab.workload import FlowSpec, Host, load_workload
from fabric.lab.workload.cdf import CDFS, mean_bytes
from tests.workload.conftest import WORKLOADS


def test_offered_load_is_load_times_each_nic_line_rate(roce_hosts: list[Host]) -> None:
    seconds = 4.0
    batch = load_workload(WORKLOADS / "websearch-40.yaml").flow_batch(roce_hosts, 0.0, seconds)
    sent: dict[tuple[int, int], float] = defaultdict(float)
    for h, k, b in zip(batch.src_host.tolist(), batch.src_nic.tolist(), batch.bytes.tolist(), strict=True):
        sent[h, k] += b
    offered = {(i, k): 0.4 * g * 1e9 / 8 * seconds for i, h in enumerate(roce_hosts) for k, g in enumerate(h.nic_gbps)}
    assert sum(sent.values()) == pytest.approx(sum(offered.values()), rel=0.02)
    for nic, want in offered.items():  # heavy-tailed sizes: ~12k flows per NIC, CV of the sum ~2 %
        assert sent[nic] == pytest.approx(want, rel=0.10), roce_hosts[nic[0]].name
    assert not np.any(batch.src_host == batch.dst_host)


def test_flow_sizes_follow_the_published_cdf(roce_hosts: list[Host]) -> None:
    batch = load_workload(WORKLOADS / "incast-16to1.yaml").flow_batch(roce_hosts, 0.0, 0.2)
    hadoop = batch.bytes[batch.tag == batch.tags.index("background")]
    assert len(hadoop) > 100_000
    assert float(hadoop.mean()) == pytest.approx(mean_bytes(CDFS["hadoop"]), rel=0.05)
    assert float(np.mean(hadoop <= 700)) == pytest.approx(0.50, abs=0.01)
    assert float(np.mean(hadoop <= 120_000)) == pytest.approx(0.90, abs=0.01)
    assert hadoop.max() <= 10_000_000


def test_incast_fan_in_size_and_period_are_exact(roce_hosts: list[Host]) -> None:
    batch = load_workload(WORKLOADS / "incast-16to1.yaml").flow_batch(roce_hosts, 0.0, 0.1)
    flows = batch.mask(batch.tag == batch.tags.index("incast")).specs(roce_hosts)
    bursts: dict[str, list[FlowSpec]] = defaultdict(list)
    for f in flows:
        bursts[f.group].append(f)
    assert sorted({f.start_s for f in flows}) == pytest.approx([k * 0.005 for k in range(20)], abs=1e-12)
    for group in bursts.values():
        assert len(group) == 16 and len({f.src for f in group}) == 16
        assert {f.dst for f in group} == {("gpu01", "ens1np0")} and {f.bytes for f in group} == {500_000}
        assert all(f.src[0] != "gpu01" for f in group) and len({f.start_s for f in group}) == 1
        assert Counter(f.src[1] for f in group) == {"ens1np0": 15, "ens2np0": 1}  # rail of the target first


def test_ring_allreduce_steps_bytes_and_dependencies(roce_hosts: list[Host]) -> None:
    flows = load_workload(WORKLOADS / "allreduce-ring.yaml").flows(roce_hosts, 0.0, 0.001)
    n, rails, size = 16, 2, 256e6
    steps: dict[str, list[FlowSpec]] = defaultdict(list)
    for f in flows:
        steps[f.group].append(f)
    assert len(steps) == 2 * (n - 1)
    order = [f"allreduce@0.000000/s{k}" for k in range(2 * (n - 1))]
    assert sorted(steps) == sorted(order)
    ring = [h.name for h in roce_hosts]
    for k, group in enumerate(order):
        assert len(steps[group]) == n * rails
        assert {f.after for f in steps[group]} == {order[k - 1] if k else ""}
        for f in steps[group]:
            assert f.bytes == size / (n * rails) and f.src[1] == f.dst[1]
            assert ring.index(f.dst[0]) == (ring.index(f.src[0]) + 1) % n
    per_member = sum(f.bytes for f in flows if f.src[0] == "gpu05")
    assert per_member == pytest.approx(2 * (n - 1) / n * size)


def test_alltoall_every_member_to_every_member(roce_hosts: list[Host]) -> None:
    flows = load_workload(WORKLOADS / "alltoall-moe.yaml").flows(roce_hosts, 0.0, 0.001)
    pairs = Counter((f.src, f.dst) for f in flows)
    assert len(flows) == 16 * 15 * 2 and set(pairs.values()) == {1}
    assert all(f.src[1] == f.dst[1] and f.bytes == 32e6 / 32 and f.group == "alltoall@0.000000" for f in flows)


def test_each_launch_of_a_collective_waits_for_the_one_before(roce_hosts: list[Host]) -> None:
    """The first step of a launch names the last step of the launch one period before (its group, another
    launch: the engine serialises them); a launch with none before it (the phase's first) waits for nothing,
    and an incast's bursts are not serial. Asked from a window that starts between launches, the first
    launch names its predecessor all the same."""
    ring = load_workload(WORKLOADS / "allreduce-ring.yaml")
    first = {f.group: f.after for f in ring.flows(roce_hosts, 0.0, 0.25) if f.group.endswith("/s0")}
    assert first == {"allreduce@0.000000/s0": "", "allreduce@0.100000/s0": "allreduce@0.000000/s29",
                     "allreduce@0.200000/s0": "allreduce@0.100000/s29"}
    assert {f.after for f in ring.flows(roce_hosts, 0.15, 0.25) if f.group.endswith("/s0")} == {
        "allreduce@0.100000/s29"}
    a2a = load_workload(WORKLOADS / "alltoall-moe.yaml").flows(roce_hosts, 0.0, 0.025)
    assert {(f.group, f.after) for f in a2a} == {("alltoall@0.000000", ""), ("alltoall@0.010000", "alltoall@0.000000"),
                                                 ("alltoall@0.020000", "alltoall@0.010000")}
    assert {f.after for f in load_workload(WORKLOADS / "incast-16to1.yaml").flows(roce_hosts, 0.0, 0.3)} == {""}
    llm = [f for f in load_workload(WORKLOADS / "llm-3d.yaml").flows(roce_hosts, 2.0, 4.0) if "/dp/" in f.group]
    heads = {(f.group, f.after) for f in llm if f.group.endswith("/s0")}
    assert heads == {(f"llm@2.000000/dp/st{i}/s0", f"llm@0.000000/dp/st{i}/s3") for i in range(4)}


@pytest.mark.parametrize("inventory", ["roce_hosts", "rail_hosts"])
def test_llm_traffic_lands_where_the_layout_says(inventory: str, request: pytest.FixtureRequest) -> None:
    hosts: list[Host] = request.getfixturevalue(inventory)
    pod = {h.name: h.pod for h in hosts}
    flows = load_workload(WORKLOADS / "llm-3d.yaml").flows(hosts, 0.0, 2.0)  # one iteration
    pp = [f for f in flows if "/pp/" in f.group]
    dp = [f for f in flows if "/dp/" in f.group]
    assert len(pp) + len(dp) == len(flows) and all(f.src[0] != f.dst[0] for f in flows)  # TP stays in servers
    assert len(pp) == 3 * 8 * (3 + 3) * 2  # replicas x microbatches x (fwd + bwd boundaries) x rails
    assert all(pod[f.src[0]] == pod[f.dst[0]] and f.src[1] == f.dst[1] for f in pp)
    assert {f.bytes for f in pp} == {1 * 4096 * 4096 * 2 / 2}
    assert len(dp) == 4 * 2 * (3 - 1) * 2 * 3  # stages x steps x rails x members
    assert all(pod[f.src[0]] != pod[f.dst[0]] and f.src[1] == f.dst[1] for f in dp)
    assert all(f.bytes == pytest.approx(2 * 7e9 / (4 * 2 * 3)) for f in dp)
    assert len({pod[f.src[0]] for f in dp}) == 3
    first_fwd = min(f.start_s for f in pp)
    assert first_fwd == pytest.approx(0.020)
    assert all(f.after for f in dp if not f.group.endswith("/s0"))


def test_storage_moves_bytes_between_clients_and_targets(roce_hosts: list[Host]) -> None:
    batch = load_workload(WORKLOADS / "mixed-storage.yaml").flow_batch(roce_hosts, 0.0, 0.1)
    flows = batch.mask(batch.tag == batch.tags.index("storage")).specs(roce_hosts)
    targets = {"gpu01", "gpu02", "gpu03", "gpu04"}
    assert all((f.src[0] in targets) != (f.dst[0] in targets) for f in flows)
    reads = sum(f.src[0] in targets for f in flows) / len(flows)
    assert reads == pytest.approx(0.7, abs=0.02)


def test_same_seed_same_flows_whatever_the_windows(roce_hosts: list[Host]) -> None:
    path = WORKLOADS / "mixed-storage.yaml"
    whole = load_workload(path).flows(roce_hosts, 0.0, 0.025)
    split = load_workload(path)
    parts = split.flows(roce_hosts, 0.0, 0.013) + split.flows(roce_hosts, 0.013, 0.025)
    assert whole == parts and len(whole) > 1000
    assert load_workload(path).flows(roce_hosts, 0.0, 0.025, seed=99) != whole


def test_shifting_phases_alternate_and_the_timeline_repeats(roce_hosts: list[Host]) -> None:
    workload = load_workload(WORKLOADS / "shift-incast-allreduce.yaml")
    for t0 in (2.9, 5.9, 8.9, 11.9, 14.9):
        batch = workload.flow_batch(roce_hosts, t0, t0 + 0.2)
        for tag, first_half in (("incast", True), ("allreduce", False)):
            starts = batch.start_s[batch.tag == batch.tags.index(tag)] if tag in batch.tags else np.zeros(0)
            assert len(starts) and all(((t + 1e-9) % 6 < 3) == first_half for t in starts.tolist()), (t0, tag)
            assert starts.min() >= t0 + 0.1 - 1e-9 or starts.max() < t0 + 0.1  # one regime per side of the flip
        background = batch.start_s[batch.tag == batch.tags.index("background")]
        assert background.min() < t0 + 0.01 and background.max() > t0 + 0.19


def test_start_stop_and_no_repeat_bound_the_flows(tmp_path: Path, roce_hosts: list[Host]) -> None:
    path = tmp_path / "once.yaml"
    path.write_text("name: once\nduration_s: 0.05\nrepeat: false\nphases:\n"
                    "  - {kind: incast, fan_in: 4, size_bytes: 1KB, period_s: 1ms, start_s: 10ms, stop_s: 20ms}\n"
                    "  - {kind: hadoop, load: 0.1, start_s: 30ms}\n")
    batch = load_workload(path).flow_batch(roce_hosts, 0.0, 1.0)
    incast = batch.start_s[batch.tag == batch.tags.index("incast")]
    hadoop = batch.start_s[batch.tag == batch.tags.index("hadoop")]
    assert incast.tolist() == pytest.approx(sorted([0.010 + k * 0.001 for k in range(10)] * 4))
    assert hadoop.min() >= 0.030 and hadoop.max() < 0.050 and len(hadoop) > 100


def test_windows_summed_as_a_live_clock_sums_them_see_every_launch_once(roce_hosts: list[Host]) -> None:
    """A live engine's windows end at 0.1 + 0.1 + 0.1 = 0.30000000000000004 while the 60th burst of a 5 ms
    incast is at 60 x 0.005 = 0.3: that burst belongs to the window its time falls in (it was in neither)."""
    workload = load_workload(WORKLOADS / "incast-16to1.yaml")
    edges = list(accumulate([0.0] + [0.1] * 5))
    assert edges[3] > 0.3
    parts = [workload.flow_batch(roce_hosts, a, b) for a, b in pairwise(edges)]
    whole = workload.flow_batch(roce_hosts, 0.0, edges[-1])
    starts = np.concatenate([p.start_s for p in parts])
    assert np.array_equal(starts, whole.start_s)
    bursts = [np.unique(p.start_s[p.tag == p.tags.index("incast")]).size for p in parts]
    assert bursts == [20, 20, 21, 19, 20]
