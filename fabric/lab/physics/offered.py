"""Where a workload's flows land on a fabric before any congestion: offered load per link, and what has no path.

``fabric workload check --inventory`` routes each phase's flows of its first window as the twin does (the same
ECMP hash over the same keys) and names the link the phase loads most against its line rate. A ratio above 1
is a link that phase alone overloads: in the twin its flows queue there, and an open-loop phase's flows past
their ``timeout_s`` are abandoned.

    >>> loads = OfferedLoad(fabric, hosts)                      # doctest: +SKIP
    >>> loads.of(workload.flow_batch(hosts, 0.0, 0.1), 0.1)     # doctest: +SKIP
    Offered(busiest=LinkLoad(link='spine2:100GE1/0/4 -> leaf4', offered_gbps=358.9, capacity_gbps=100.0), ...)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from fabric.inventory.models import Fabric
from fabric.lab.physics.topology import Network, flow_keys
from fabric.lab.workload import FlowBatch
from fabric.lab.workload.hosts import Host

ECMP_KEYS = 16  # distinct hash keys per (source, destination, class): as the live twin spreads its flows


@dataclass(frozen=True)
class LinkLoad:
    """One egress port: ``device:interface -> peer device``, what a batch offers it and its line rate."""

    link: str
    offered_gbps: float
    capacity_gbps: float

    @property
    def ratio(self) -> float:
        return self.offered_gbps / self.capacity_gbps if self.capacity_gbps > 0 else float("inf")


@dataclass(frozen=True)
class Offered:
    """A batch on the fabric: its most loaded link (None: no flow has a path) and the Gb/s with no path."""

    busiest: LinkLoad | None
    unroutable_gbps: float


class OfferedLoad:
    """Routes batches of a workload's flows over one inventory's fabric (built once)."""

    def __init__(self, fabric: Fabric, hosts: Sequence[Host]) -> None:
        self.net = Network.from_fabric(fabric)
        self.nic_port = self.net.nic_ports([(h.name, h.nics) for h in hosts])
        self.capacity_gbps = np.array(self.net.speed_gbps, dtype=float)

    def of(self, batch: FlowBatch, seconds: float) -> Offered:
        """The load ``batch`` (flows over ``seconds``) offers each link, all at once and without congestion."""
        if not len(batch):
            return Offered(None, 0.0)
        src = self.nic_port[batch.src_host, batch.src_nic]
        dst = self.nic_port[batch.dst_host, batch.dst_nic]
        keys = flow_keys(src, dst, batch.dscp, np.arange(len(batch)) % ECMP_KEYS)
        paths = self.net.routes(src, dst, keys)
        hops = paths >= 0
        routed = hops.sum(axis=1) >= 2  # more than the source NIC's own port
        gbps = batch.bytes * 8 / seconds / 1e9
        on = hops & routed[:, None]
        per_port = np.bincount(paths[on], weights=np.broadcast_to(gbps[:, None], paths.shape)[on],
                               minlength=self.net.n_ports)
        lost = float(gbps[~routed].sum())
        if not per_port.any():
            return Offered(None, lost)
        ratio = per_port / np.maximum(self.capacity_gbps, 1e-9)
        p = int(ratio.argmax())
        link = f"{self.net.device[p]}:{self.net.interface[p]} -> {self.net.device[self.net.peer[p]]}"
        return Offered(LinkLoad(link, float(per_port[p]), float(self.capacity_gbps[p])), lost)

    def summary(self, batch: FlowBatch, seconds: float) -> dict[str, Any]:
        """``of`` as plain data (a ``fabric.lab.workload.summary.Placement``)."""
        got = self.of(batch, seconds)
        busy = got.busiest
        return {"busiest_link": busy.link if busy else None, "offered_gbps": busy.offered_gbps if busy else 0.0,
                "capacity_gbps": busy.capacity_gbps if busy else 0.0, "ratio": busy.ratio if busy else 0.0,
                "unroutable_gbps": got.unroutable_gbps}
