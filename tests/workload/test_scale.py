"""Scale: every shipped workload on a generated 2,048-server rail fabric (4,096 NICs); slow, CI skips it."""

from __future__ import annotations

from pathlib import Path

import pytest

from fabric.inventory.generate import generate
from fabric.inventory.load import load_inventory
from fabric.inventory.write import write_inventory
from fabric.lab.workload import hosts_of, load_workload
from tests.workload.conftest import SHIPPED


@pytest.mark.slow
def test_shipped_workloads_on_2048_servers(tmp_path: Path) -> None:
    write_inventory(generate("rail", 32, 64, 2048, 2, ["sonic"], spine_planes=2), tmp_path)
    fabric = load_inventory(tmp_path).fabric
    assert fabric is not None
    hosts = hosts_of(fabric)
    assert len(hosts) == 2048 and len({h.pod for h in hosts}) == 32
    for path in SHIPPED:
        workload = load_workload(path)
        batch = workload.flow_batch(hosts, 0.0, 0.005)
        ticks = [workload.flow_batch(hosts, k * 0.001, (k + 1) * 0.001) for k in range(5)]
        assert sum(len(t) for t in ticks) == len(batch), path.name  # windows never change the flows
        assert int(batch.src_host.max(initial=0)) < len(hosts)
