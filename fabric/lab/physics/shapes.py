"""Small hand-built Scenarios (one-switch dumbbell / N-to-1 star, 2-tier leaf-spine) for tests and the bench.

They go through the same builder as the twin (``topology.scenario``: ECMP by flow hash, DSCP->TC->queue per
device, knob arrays from ``DeviceKnobs``), so a shape differs from a real inventory only in being written
here instead of loaded from YAML. Every knob is an argument: a test changes exactly one and checks the
direction of the counters.

Names: hosts ``h0``.. (senders) and ``r0``.. (receivers) with interface ``eth0``; switches ``sw`` (star) or
``leaf0``.. / ``spine0``.. with ``Ethernet<i>`` interfaces.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from fabric.lab.physics.knobs import DEFAULT_DSCP_TO_TC, DcqcnKnobs, DeviceKnobs, EcnKnobs, PortKnobs
from fabric.lab.physics.scenario import Scenario
from fabric.lab.physics.topology import LIGHT_SPEED_IN_FIBRE, Network, scenario

LOSSLESS_DSCP = 26  # AF31 -> TC 3 with the default DSCP>>3 map: the RoCE class of the examples


@dataclass(frozen=True)
class ShapeFlow:
    """A flow between two ``(device, interface)`` ends; the FlowSpec fields ``topology.scenario`` reads."""

    src: tuple[str, str]
    dst: tuple[str, str]
    bytes: float = math.inf
    start_s: float = 0.0
    dscp: int = LOSSLESS_DSCP
    tag: str = "shape"
    group: str = "g0"
    after: str = ""


@dataclass(frozen=True)
class ShapeKnobs:
    """What every switch port, NIC port and NIC of a shape applies (one value each: shapes are uniform).
    ``dscp_to_tc`` is the switches' trust-DSCP map (change one entry to mis-map a class into a lossy queue)."""

    switch_port: PortKnobs = field(default_factory=PortKnobs)
    nic_port: PortKnobs = field(default_factory=PortKnobs)
    dcqcn: DcqcnKnobs = field(default_factory=DcqcnKnobs)
    buffer_bytes: int = 32 * 1024 * 1024
    dscp_to_tc: Mapping[int, int] = field(default_factory=lambda: dict(DEFAULT_DSCP_TO_TC))


def cable_m_for_delay(one_way_s: float) -> float:
    """Cable length giving a propagation delay (the CoNEXT loop delay tau* is twice the one-way path)."""
    return one_way_s * LIGHT_SPEED_IN_FIBRE


def headroom_need_bytes(speed_gbps: float, cable_m: float, mtu: int) -> float:
    """Bytes in flight after XOFF on one link (reference §4.4: 2 C d + 2 MTU + C t_response, 1 us)."""
    capacity = speed_gbps * 1e9 / 8
    return 2 * capacity * cable_m / LIGHT_SPEED_IN_FIBRE + 2 * mtu + capacity * 1e-6


class _Links:
    """Accumulates devices and cabled interface pairs, then becomes a ``Network``."""

    def __init__(self) -> None:
        self.ends: list[tuple[str, str]] = []
        self.peer: list[int] = []
        self.host: list[bool] = []
        self.speed: list[float] = []
        self.cable: list[float] = []
        self.next_if: dict[str, int] = {}

    def iface(self, device: str, host: bool) -> str:
        if host:
            return "eth0"
        n = self.next_if.get(device, 0)
        self.next_if[device] = n + 1
        return f"Ethernet{n}"

    def link(self, a: str, a_host: bool, b: str, b_host: bool, speed_gbps: float, cable_m: float) -> None:
        pa = len(self.ends)
        self.ends += [(a, self.iface(a, a_host)), (b, self.iface(b, b_host))]
        self.peer += [pa + 1, pa]
        self.host += [a_host, b_host]
        self.speed += [speed_gbps, speed_gbps]
        self.cable += [cable_m, cable_m]

    def network(self, switches: list[str]) -> Network:
        net = Network([d for d, _ in self.ends], [i for _, i in self.ends], self.peer, self.host, self.speed,
                      self.cable, switches)
        # Network.from_fabric fills these two lookups; a shape has no inventory to build it from.
        net._index = {end: p for p, end in enumerate(self.ends)}
        for p, (name, _) in enumerate(self.ends):
            net._out.setdefault(name, []).append(p)
        return net


def _knobs(net: Network, knobs: ShapeKnobs) -> dict[str, DeviceKnobs]:
    out: dict[str, DeviceKnobs] = {}
    for name in dict.fromkeys(net.device):
        ifaces = [i for d, i in zip(net.device, net.interface, strict=True) if d == name]
        host = name not in net.switches
        port = knobs.nic_port if host else knobs.switch_port
        out[name] = DeviceKnobs(device=name, trust="dscp", dscp_to_tc=dict(knobs.dscp_to_tc),
                                buffer_bytes=knobs.buffer_bytes, ports={i: port for i in ifaces},
                                dcqcn=knobs.dcqcn if host else None, roce_dscp=LOSSLESS_DSCP)
    return out


def star(n_senders: int, *, n_receivers: int = 1, speed_gbps: float = 40.0, cable_m: float = 2.0,
         knobs: ShapeKnobs | None = None, flows: Sequence[ShapeFlow] | None = None,
         flow_bytes: float = math.inf, dscp: int = LOSSLESS_DSCP) -> Scenario:
    """N senders and ``n_receivers`` on one switch (the CoNEXT dumbbell for N-to-1). Default flows: sender
    ``i`` to receiver ``i % n_receivers``, ``flow_bytes`` each (inf: long-lived)."""
    links = _Links()
    for i in range(n_senders):
        links.link(f"h{i}", True, "sw", False, speed_gbps, cable_m)
    for j in range(n_receivers):
        links.link(f"r{j}", True, "sw", False, speed_gbps, cable_m)
    net = links.network(["sw"])
    if flows is None:
        flows = [ShapeFlow((f"h{i}", "eth0"), (f"r{i % n_receivers}", "eth0"), flow_bytes, dscp=dscp)
                 for i in range(n_senders)]
    return _build(net, knobs or ShapeKnobs(), flows, "star")


def leaf_spine(n_leaves: int = 4, n_spines: int = 4, hosts_per_leaf: int = 16, *, speed_gbps: float = 100.0,
               cable_m: float = 2.0, knobs: ShapeKnobs | None = None, flows: Sequence[ShapeFlow] | None = None,
               flow_bytes: float = math.inf, dscp: int = LOSSLESS_DSCP) -> Scenario:
    """A 2-tier Clos: every leaf to every spine, ``hosts_per_leaf`` hosts ``h<k>`` per leaf. Default flows:
    a shift permutation, host ``k`` to host ``k + hosts_per_leaf`` (every flow crosses a spine, ECMP-hashed)."""
    links = _Links()
    n_hosts = n_leaves * hosts_per_leaf
    for k in range(n_hosts):
        links.link(f"h{k}", True, f"leaf{k // hosts_per_leaf}", False, speed_gbps, cable_m)
    for leaf in range(n_leaves):
        for spine in range(n_spines):
            links.link(f"leaf{leaf}", False, f"spine{spine}", False, speed_gbps, cable_m)
    net = links.network([f"leaf{i}" for i in range(n_leaves)] + [f"spine{i}" for i in range(n_spines)])
    if flows is None:
        flows = [ShapeFlow((f"h{k}", "eth0"), (f"h{(k + hosts_per_leaf) % n_hosts}", "eth0"), flow_bytes,
                           dscp=dscp) for k in range(n_hosts)]
    return _build(net, knobs or ShapeKnobs(), flows, "leaf_spine")


def paper_dcqcn(alpha: float = 1.0) -> DcqcnKnobs:
    """The CoNEXT'16 DCQCN parameters as NIC knobs: CNP interval tau 50 us, one cut per CNP, alpha period
    tau' = T = 55 us, B = 10 MB, F = 5, R_AI 40 Mb/s (no hyper increase in the fluid model: R_HAI = R_AI),
    no cut floor, RT = RC on every cut; DCQCN on priority 3. ``alpha`` starts the flows' alpha (a warm start
    skips ~14 ms of alpha convergence)."""
    on = frozenset({3})
    return DcqcnKnobs(np_enabled_priorities=on, rp_enabled_priorities=on, min_time_between_cnps_us=50.0,
                      rate_reduce_monitor_period_us=0.0, dce_tcp_rtt_us=55.0, rpg_time_reset_us=55.0,
                      rpg_byte_reset=10_000_000, rpg_threshold=5, rpg_ai_rate_mbps=40.0, rpg_hai_rate_mbps=40.0,
                      rpg_min_dec_fac=0, clamp_tgt_rate=True, initial_alpha_value=max(1, round(alpha * 1023)))


def conext_star(n_flows: int, *, tau_star_s: float = 4e-6, kmin_bytes: int = 5_000, kmax_bytes: int = 200_000,
                pmax: float = 0.01, speed_gbps: float = 40.0, alpha: float = 1.0) -> Scenario:
    """The CoNEXT'16 setting on the engine: N long flows into one 40G receiver, 1 KB packets (MTU 1000),
    paper DCQCN knobs, ECN on queue 3, no PFC; cables sized so the loop delay (twice the one-way path of
    two links) is ``tau_star_s``."""
    knobs = ShapeKnobs(switch_port=PortKnobs(mtu=1000, ecn={3: EcnKnobs(kmin_bytes, kmax_bytes, pmax)}),
                       nic_port=PortKnobs(mtu=1000), dcqcn=paper_dcqcn(alpha))
    return star(n_flows, knobs=knobs, speed_gbps=speed_gbps, cable_m=cable_m_for_delay(tau_star_s / 4))


def _build(net: Network, knobs: ShapeKnobs, flows: Sequence[ShapeFlow], name: str) -> Scenario:
    scen = scenario(net, _knobs(net, knobs), flows)
    scen.notes["shape"] = name
    return scen
