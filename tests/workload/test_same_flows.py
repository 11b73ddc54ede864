"""The generated flows stay exactly what they were: every shipped kind, cut into windows several ways, against
digests of the generator's output frozen before the session-9 speed-ups (``same_flows.json``).

A speed-up of the flow path must not change a single draw: same seed and window -> same columns, same tag and
group names. The digests were written by the code of commit b00293a (the generator before any speed-up); a change
that means to alter the flows must say so and rewrite them with ``python -m tests.workload.test_same_flows``.
"""

from __future__ import annotations

import hashlib
import json
import sys
from itertools import pairwise

import numpy as np
import pytest

from fabric.lab.workload import FlowBatch, Host, load_workload
from tests.workload.conftest import WORKLOADS

FROZEN = WORKLOADS.parent / "tests" / "workload" / "same_flows.json"
# (workload, t0, t1): the whole span is asked at once, then in the cuts below; spans cross chunk edges, a regime
# flip (shift at 3 s) and the end of a timeline (repeat at 10 s)
SPANS = [("incast-16to1", 0.0, 0.3), ("mixed-storage", 0.0, 0.3), ("websearch-40", 9.85, 10.15),
         ("shift-incast-allreduce", 2.9, 3.1), ("llm-3d", 0.0, 2.05), ("allreduce-ring", 0.0, 0.25),
         ("alltoall-moe", 0.0, 0.03)]
CUTS = {"0.1s": 0.1, "13.7ms": 0.0137, "1ms": 0.001}

COLUMNS = ("src_host", "src_nic", "dst_host", "dst_nic", "bytes", "start_s", "dscp")


def named(batch: FlowBatch) -> dict[str, np.ndarray]:
    """The batch with tag/group/after as names, so batches of different calls (own numbering) compare."""
    out: dict[str, np.ndarray] = {c: getattr(batch, c) for c in COLUMNS}
    groups = np.array([*batch.groups, ""], dtype=object)  # after -1 -> ""
    out["tag"] = np.array([*batch.tags, ""], dtype=object)[batch.tag]
    out["group"] = groups[batch.group]
    out["after"] = groups[batch.after]
    return out


def digest(batch: FlowBatch) -> str:
    h = hashlib.sha256()
    for c in COLUMNS:
        h.update(np.asarray(getattr(batch, c), dtype="<f8" if c in ("bytes", "start_s") else "<i8").tobytes())
    names = named(batch)
    for c in ("tag", "group", "after"):
        h.update("\n".join(names[c].tolist()).encode())
    return h.hexdigest()


def cut(workload: str, t0: float, t1: float, step: float, hosts: list[Host]) -> list[FlowBatch]:
    wl = load_workload(WORKLOADS / f"{workload}.yaml")
    edges = [*(min(t1, t0 + k * step) for k in range(int((t1 - t0) / step) + 1)), t1]
    return [wl.flow_batch(hosts, a, b) for a, b in pairwise(edges) if b > a]


@pytest.mark.parametrize(("workload", "t0", "t1"), SPANS, ids=[s[0] for s in SPANS])
def test_flows_match_the_frozen_digest_and_every_cut(workload: str, t0: float, t1: float,
                                                      roce_hosts: list[Host]) -> None:
    whole = load_workload(WORKLOADS / f"{workload}.yaml").flow_batch(roce_hosts, t0, t1)
    frozen = json.loads(FROZEN.read_text())[workload]
    assert (len(whole), digest(whole)) == (frozen["flows"], frozen["sha256"])
    assert all(getattr(whole, c).flags.writeable for c in (*COLUMNS, "tag", "group", "after"))  # no shared views
    want = named(whole)
    for name, step in CUTS.items():
        parts = [named(p) for p in cut(workload, t0, t1, step, roce_hosts)]
        for c, col in want.items():
            joined = np.concatenate([p[c] for p in parts]) if parts else np.zeros(0)
            assert np.array_equal(joined, col), (name, c)


def freeze(hosts: list[Host]) -> dict[str, dict[str, object]]:
    out: dict[str, dict[str, object]] = {}
    for workload, t0, t1 in SPANS:
        batch = load_workload(WORKLOADS / f"{workload}.yaml").flow_batch(hosts, t0, t1)
        out[workload] = {"t0": t0, "t1": t1, "flows": len(batch), "sha256": digest(batch)}
    return out


if __name__ == "__main__":  # rewrite the digests (only for a change that means to alter the flows)
    from fabric.inventory.load import load_inventory
    from fabric.lab.workload import hosts_of
    from tests.conftest import INVENTORIES

    inventory = load_inventory(INVENTORIES / "lab-roce").fabric
    assert inventory is not None
    FROZEN.write_text(json.dumps(freeze(hosts_of(inventory)), indent=1) + "\n")
    sys.stdout.write(FROZEN.read_text())
