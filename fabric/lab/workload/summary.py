"""What a workload offers an inventory, phase by phase (``fabric workload check --inventory``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from fabric.lab.workload.flows import FlowBatch
from fabric.lab.workload.hosts import Host
from fabric.lab.workload.load import Workload
from fabric.lab.workload.timeline import intervals


@dataclass(frozen=True)
class PhaseSummary:
    """One phase over ``seconds`` from its first active instant.

    >>> PhaseSummary("incast", "incast", 0.0, 0.1, 320, 160_000_000.0, 20)  # doctest: +SKIP
    """

    tag: str
    kind: str
    from_s: float
    seconds: float
    flows: int
    bytes: float
    groups: int
    placed: dict[str, Any] = field(default_factory=dict)  # where its flows land, when a placement was given

    @property
    def offered_gbps(self) -> float:
        return self.bytes * 8 / self.seconds / 1e9


Placement = Callable[[FlowBatch, float], dict[str, Any]]  # a phase's flows over seconds -> where they land


def summarise(workload: Workload, hosts: Sequence[Host], seconds: float,
              place: Placement | None = None) -> list[PhaseSummary]:
    """Flows, bytes and groups of every phase in its first ``seconds`` of activity, and ``place`` of its flows
    (e.g. ``fabric.lab.physics.offered.OfferedLoad.summary``: its busiest link); raises WorkloadError when the
    workload does not fit the hosts."""
    out = []
    generators = workload.generators(hosts)
    for phase, gen, tag in zip(workload.spec.phases, generators, workload.tags, strict=True):
        spans = intervals(phase, workload.clock, 0.0, workload.spec.duration_s)
        start = spans[0][0] if spans else 0.0
        batch = gen.batch(start, start + seconds, workload.spec.seed)
        out.append(PhaseSummary(tag, phase.kind, start, seconds, len(batch), float(batch.bytes.sum()),
                                len(set(batch.group.tolist())), place(batch, seconds) if place else {}))
    return out
