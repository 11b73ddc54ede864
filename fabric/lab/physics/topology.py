"""Inventory + ECMP routing + applied knobs + flows -> the ``Scenario`` arrays both engine tiers advance.

``Network`` is the static part (ports, links, cable delays, capacities and the leaf-spine graph), built once
from the inventory; ``Network.route`` picks each flow's path: shortest paths over the switch graph, and at
every switch a deterministic 5-tuple-style hash of the flow chooses among the equal-cost next hops, as an
ECMP ASIC does. Taking a link down removes it from the graph and re-hashes only the flows that crossed it
onto the remaining paths (flows whose own NIC link is down keep the dead hop: capacity 0, rate 0).

``scenario`` then adds the knob arrays (from each device's ``DeviceKnobs``) and the flow/flow-hop arrays.
"""

from __future__ import annotations

import math
import zlib
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from fabric.inventory.models import Fabric
from fabric.lab.physics.knobs import DcqcnKnobs, DeviceKnobs
from fabric.lab.physics.scenario import QUEUES, Scenario

LIGHT_SPEED_IN_FIBRE = 2e8  # m/s
HOST_ROLES = ("server", "sm")
DEFAULT_DCQCN = DcqcnKnobs()


class FlowLike(Protocol):
    """What the builder needs of a flow: the workload's ``FlowSpec`` (fabric.lab.workload) has these."""

    @property
    def src(self) -> tuple[str, str]: ...
    @property
    def dst(self) -> tuple[str, str]: ...
    @property
    def bytes(self) -> float: ...
    @property
    def start_s(self) -> float: ...
    @property
    def dscp(self) -> int: ...
    @property
    def tag(self) -> str: ...
    @property
    def group(self) -> str: ...


@dataclass
class Network:
    """Ports and links of a fabric, without knobs or flows. Port order: inventory device order, then the
    device's interface order; only interfaces whose peer is in the inventory are ports."""

    device: list[str]
    interface: list[str]
    peer: list[int]
    is_host: list[bool]
    speed_gbps: list[float]
    cable_m: list[float]
    switches: list[str]  # devices with a shared buffer, in order (index = Scenario.switch_of)
    down: set[int] = field(default_factory=set)  # ports whose link is down (both ends are listed)
    _index: dict[tuple[str, str], int] = field(default_factory=dict)
    _out: dict[str, list[int]] = field(default_factory=dict)  # device -> its ports
    _dist: dict[str, dict[str, int]] = field(default_factory=dict)  # target switch -> switch -> hops
    _choices: dict[tuple[str, str], list[int]] = field(default_factory=dict)  # (switch, target) -> next hops

    @classmethod
    def from_fabric(cls, fabric: Fabric, default_cable_m: float | None = None) -> Network:
        cable_default = default_cable_m if default_cable_m is not None else float(
            fabric.spec.buffers.default_cable_length_m)
        ends: list[tuple[str, str]] = []
        for name, device in fabric.devices.items():
            for iface, port in device.interfaces.items():
                if port.peer and port.peer.split(":", 1)[0] in fabric.devices:
                    ends.append((name, iface))
        index = {end: p for p, end in enumerate(ends)}
        peers, hosts, speeds, cables = [], [], [], []
        for name, iface in ends:
            port = fabric.devices[name].interfaces[iface]
            peer_dev, _, peer_if = (port.peer or "").partition(":")
            if (peer_dev, peer_if) not in index:
                raise ValueError(f"{name}:{iface}: peer {port.peer} is not a port of the inventory")
            peers.append(index[(peer_dev, peer_if)])
            hosts.append(fabric.devices[name].role in HOST_ROLES)
            speeds.append(float(port.speed_gbps))
            cables.append(float(port.cable_length_m if port.cable_length_m is not None else cable_default))
        switches = [n for n, d in fabric.devices.items() if d.role not in HOST_ROLES]
        net = cls([e[0] for e in ends], [e[1] for e in ends], peers, hosts, speeds, cables, switches)
        net._index = index
        for p, name in enumerate(net.device):
            net._out.setdefault(name, []).append(p)
        return net

    @property
    def n_ports(self) -> int:
        return len(self.device)

    def port(self, device: str, interface: str) -> int:
        try:
            return self._index[(device, interface)]
        except KeyError:
            raise KeyError(f"{device}:{interface} is not a connected port of this fabric") from None

    def set_down(self, ports: Iterable[int]) -> None:
        """Take these links down (both ends); routes are recomputed on the next ``route``."""
        self.down = set()
        for p in ports:
            self.down |= {p, self.peer[p]}
        self._dist.clear()
        self._choices.clear()

    def _distances(self, target: str) -> dict[str, int]:
        """Hops from every switch to ``target`` over up switch-switch links (BFS, cached per target)."""
        if target not in self._dist:
            dist = {target: 0}
            queue = deque([target])
            while queue:
                here = queue.popleft()
                for p in self._out.get(here, []):
                    q = self.peer[p]
                    there = self.device[q]
                    if p in self.down or self.is_host[q] or there in dist:
                        continue
                    dist[there] = dist[here] + 1
                    queue.append(there)
            self._dist[target] = dist
        return self._dist[target]

    def route(self, src: int, dst: int, key: str) -> list[int] | None:
        """Egress ports from NIC port ``src`` to NIC port ``dst`` (the source NIC first, the last switch
        port towards ``dst`` last); ``key`` is the flow's hash input. None when no path is up."""
        path = [src]
        if src in self.down or dst in self.down:
            return None
        here, target = self.device[self.peer[src]], self.device[self.peer[dst]]
        dist = self._distances(target)
        if here not in dist:
            return None
        while here != target:
            choices = self._choices.get((here, target))
            if choices is None:
                choices = self._choices[(here, target)] = [
                    p for p in self._out[here] if p not in self.down and not self.is_host[self.peer[p]]
                    and dist.get(self.device[self.peer[p]], -1) == dist[here] - 1]
            pick = choices[zlib.crc32(f"{key}|{here}".encode()) % len(choices)]
            path.append(pick)
            here = self.device[self.peer[pick]]
        path.append(self.peer[dst])
        return path


def flow_key(flow: FlowLike, ordinal: int) -> str:
    """The ECMP hash input: endpoints, DSCP and a per-flow source port (RoCE varies the UDP source port)."""
    return f"{flow.src[0]}:{flow.src[1]}>{flow.dst[0]}:{flow.dst[1]}/{flow.dscp}/{ordinal}"


def knob_arrays(net: Network, knobs: Mapping[str, DeviceKnobs]) -> dict[str, np.ndarray]:
    """The per-port (and per port x queue/priority) knob arrays of a Scenario from each device's knobs."""
    n = net.n_ports
    arrays: dict[str, np.ndarray] = {
        "mtu": np.zeros(n, dtype=np.int64), "ecn_kmin": np.zeros((n, QUEUES)), "ecn_kmax": np.zeros((n, QUEUES)),
        "ecn_pmax": np.zeros((n, QUEUES)), "pfc_enabled": np.zeros((n, QUEUES), dtype=bool),
        "xoff": np.full((n, QUEUES), np.nan), "xon": np.full((n, QUEUES), np.nan), "alpha": np.ones((n, QUEUES)),
        "headroom": np.zeros((n, QUEUES)), "watchdog_detect_s": np.full(n, np.nan),
        "watchdog_restore_s": np.full(n, np.nan)}
    for p in range(n):
        dev = knobs.get(net.device[p]) or DeviceKnobs(device=net.device[p])
        pk = dev.port(net.interface[p])
        arrays["mtu"][p] = pk.mtu
        for q, ecn in pk.ecn.items():
            arrays["ecn_kmin"][p, q], arrays["ecn_kmax"][p, q], arrays["ecn_pmax"][p, q] = (
                ecn.kmin_bytes, max(ecn.kmax_bytes, ecn.kmin_bytes + 1), ecn.pmax)
        for prio in pk.pfc_priorities:
            arrays["pfc_enabled"][p, prio] = True
            arrays["headroom"][p, prio] = pk.headroom_bytes
            arrays["alpha"][p, prio] = pk.dynamic_alpha
            if pk.xoff_bytes is not None:
                arrays["xoff"][p, prio] = pk.xoff_bytes
                arrays["xon"][p, prio] = pk.xon_bytes if pk.xon_bytes is not None else max(
                    0, pk.xoff_bytes - 2 * pk.mtu)
        if pk.watchdog is not None:
            arrays["watchdog_detect_s"][p] = pk.watchdog.detect_ms / 1e3
            arrays["watchdog_restore_s"][p] = pk.watchdog.restore_ms / 1e3
    return arrays


class Builder:
    """Scenarios over one ``Network`` with one set of applied knobs. The port and knob arrays are built once
    and shared by every Scenario it returns (the live engine adds a batch of flows per epoch); routed hop
    rows are cached per (source, destination, DSCP, hash key), so a repeated flow costs a dict lookup.
    ``slow_receivers``: NIC ports that drain at 25 %."""

    def __init__(self, net: Network, knobs: Mapping[str, DeviceKnobs], slow_receivers: Iterable[int] = ()) -> None:
        self.net = net
        self.knobs = {name: knobs.get(name) or DeviceKnobs(device=name) for name in dict.fromkeys(net.device)}
        capacity = np.array(net.speed_gbps) * 1e9 / 8
        capacity[list(net.down)] = 0.0
        sink = np.where(np.array(net.is_host), capacity, 0.0)
        sink[list(slow_receivers)] *= 0.25
        switch_index = {name: i for i, name in enumerate(net.switches)}
        arrays = knob_arrays(net, self.knobs)
        i64 = np.int64
        self.ports: dict[str, object] = dict(
            device=list(net.device), interface=list(net.interface), peer=np.array(net.peer, dtype=i64),
            is_host=np.array(net.is_host, dtype=bool),
            switch_of=np.array([switch_index.get(d, -1) for d in net.device], dtype=i64),
            capacity=capacity, delay_s=np.array(net.cable_m) / LIGHT_SPEED_IN_FIBRE, sink_capacity=sink,
            buffer_bytes=np.array([float(self.knobs[s].buffer_bytes) for s in net.switches]), **arrays)
        self._rows: dict[tuple[int, int, int, str], tuple[list[int], list[int], list[int], list[int]]] = {}

    def _row(self, s: int, d: int, dscp: int, key: str) -> tuple[list[int], list[int], list[int], list[int]]:
        """(ports, queues, ingresses, PGs) of one flow; a flow with no path up keeps its source NIC hop only
        (and ends at a dead port: it gets no rate)."""
        cached = self._rows.get((s, d, dscp, key))
        if cached is None:
            net = self.net
            path = net.route(s, d, key) or [s]
            ports, queues, ingress, pgs = [], [], [], []
            before = -1
            for p in path:
                dev = self.knobs[net.device[p]]
                ports.append(p)
                queues.append(dev.queue_of(dscp))
                ingress.append(before)
                pgs.append(dev.dscp_to_tc.get(dscp, 0) if dev.trust == "dscp" else 0)
                before = net.peer[p]
            cached = self._rows[(s, d, dscp, key)] = (ports, queues, ingress, pgs)
        return cached

    def build(self, src: Sequence[int], dst: Sequence[int], size: Sequence[float], start: Sequence[float],
              dscp: Sequence[int], keys: Sequence[str], tags: Sequence[str], groups: Sequence[str]) -> Scenario:
        """The Scenario of these flows (columns; ports are indices of ``net``; ``keys`` feed the ECMP hash)."""
        hop_flow: list[int] = []
        cols: tuple[list[int], list[int], list[int], list[int]] = ([], [], [], [])
        for f, (s, d, c, k) in enumerate(zip(src, dst, dscp, keys, strict=True)):
            row = self._row(int(s), int(d), int(c), k)
            hop_flow += [f] * len(row[0])
            for out, part in zip(cols, row, strict=True):
                out += part
        i64 = np.int64
        src_a = np.asarray(src, dtype=i64)
        return Scenario(
            **self.ports,  # type: ignore[arg-type]
            flow_src=src_a, flow_dst=np.asarray(dst, dtype=i64), flow_bytes=np.asarray(size, dtype=float),
            flow_start_s=np.asarray(start, dtype=float), flow_dscp=np.asarray(dscp, dtype=i64),
            flow_tag=list(tags), flow_group=list(groups),
            dcqcn=[self.knobs[self.net.device[s]].dcqcn or DEFAULT_DCQCN for s in src_a.tolist()],
            hop_flow=np.array(hop_flow, dtype=i64), hop_port=np.array(cols[0], dtype=i64),
            hop_queue=np.array(cols[1], dtype=i64), hop_ingress=np.array(cols[2], dtype=i64),
            hop_pg=np.array(cols[3], dtype=i64), notes={"builder": "topology", "hash": "crc32 per switch"})


def scenario(net: Network, knobs: Mapping[str, DeviceKnobs], flows: Sequence[FlowLike],
             first_ordinal: int = 0, slow_receivers: Iterable[int] = ()) -> Scenario:
    """The Scenario of ``flows`` over ``net`` with ``knobs`` applied. A flow's queue at each hop comes from
    that device's DSCP->TC->queue map and its PG from the DSCP->TC map of the device it arrives at; ports
    that are down get capacity 0 (see ``Builder``)."""
    return Builder(net, knobs, slow_receivers).build(
        [net.port(*f.src) for f in flows], [net.port(*f.dst) for f in flows], [float(f.bytes) for f in flows],
        [f.start_s for f in flows], [f.dscp for f in flows],
        [flow_key(f, first_ordinal + i) for i, f in enumerate(flows)], [f.tag for f in flows],
        [f.group for f in flows])


def cable_headroom_need(net: Network, p: int, mtu: int) -> float:
    """Bytes in flight after XOFF on the link of port ``p`` (reference §4.4: 2 C d + 2 MTU + C t_response,
    t_response one 1 us PFC reaction): what the ingress headroom must hold to stay lossless."""
    capacity = net.speed_gbps[p] * 1e9 / 8
    delay = net.cable_m[p] / LIGHT_SPEED_IN_FIBRE
    return math.ceil(2 * capacity * delay + 2 * mtu + capacity * 1e-6)
