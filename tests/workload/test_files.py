"""Every shipped workload loads and generates flows of every phase on lab-roce and a generated fabric."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from fabric.lab.workload import Host, load_workload
from fabric.lab.workload.timeline import intervals
from tests.workload.conftest import SHIPPED

WINDOW_S = 0.05  # every shipped phase starts flows within 50 ms of its start (llm: first activations at 20 ms)
REQUIRED = {"websearch-40", "incast-16to1", "allreduce-ring", "alltoall-moe", "llm-3d", "mixed-storage",
            "shift-incast-allreduce"}


def test_the_required_workloads_ship() -> None:
    assert {p.stem for p in SHIPPED} >= REQUIRED


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
@pytest.mark.parametrize("inventory", ["roce_hosts", "rail_hosts"])
def test_every_phase_makes_flows(path: Path, inventory: str, request: pytest.FixtureRequest) -> None:
    hosts: list[Host] = request.getfixturevalue(inventory)
    workload = load_workload(path)
    assert workload.name == path.stem
    names = {h.name: h for h in hosts}
    for phase, gen, tag in zip(workload.spec.phases, workload.generators(hosts), workload.tags, strict=True):
        start = intervals(phase, workload.clock, 0, workload.spec.duration_s)[0][0]
        batch = gen.batch(start, start + WINDOW_S, workload.spec.seed)
        assert len(batch), f"{path.name}: phase {tag} made no flow in its first {WINDOW_S} s"
        for f in batch.mask(slice(0, 2000)).specs(hosts):
            assert f.tag == tag and f.src[0] != f.dst[0] and f.bytes > 0
            assert f.src[1] in names[f.src[0]].nics and f.dst[1] in names[f.dst[0]].nics
            assert start <= f.start_s < start + WINDOW_S


def test_flows_come_in_start_order_with_every_phase(roce_hosts: list[Host]) -> None:
    flows = load_workload(SHIPPED[0].parent / "incast-16to1.yaml").flows(roce_hosts, 0.0, 0.02)
    assert [f.start_s for f in flows] == sorted(f.start_s for f in flows)
    assert set(Counter(f.tag for f in flows)) == {"incast", "background"}


def test_readme_example_is_the_shipped_file() -> None:
    readme = (SHIPPED[0].parent / "README.md").read_text()
    block = re.search(r"`incast-16to1.yaml`\n```yaml\n(.*?)```", readme, re.S)
    assert block and block.group(1) == (SHIPPED[0].parent / "incast-16to1.yaml").read_text()
    for path in SHIPPED:
        assert f"`{path.name}`" in readme, f"workloads/README.md does not list {path.name}"
