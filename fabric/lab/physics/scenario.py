"""The arrays both engine tiers advance, and the counters they fill.

Index spaces:

- port ``p``: one per connected interface (device, interface). It is both the *egress* queues of that
  interface (traffic leaving towards ``peer[p]``) and the *ingress* of that interface (traffic arriving
  from ``peer[p]``: PFC thresholds, pause frames sent back to the peer). Host NIC interfaces are ports too:
  a flow's first hop is its source NIC's egress (where the DCQCN reaction point sets the rate); traffic
  delivered by the last hop lands in the destination NIC's ingress, drained at ``sink_gbps[p]``.
- flow ``f``: a QP aggregate from a source NIC port to a destination NIC port, with an ECMP path.
- flow-hop ``h``: flow ``hop_flow[h]`` crossing egress port ``hop_port[h]`` in queue ``hop_queue[h]``
  (from that device's DSCP->TC->queue map: a mis-mapped DSCP really lands in a lossy queue), having
  arrived through ingress port ``hop_ingress[h]`` (-1 at the source NIC) with priority group ``hop_pg[h]``.

Knob arrays are per port and queue/priority (shape (P, 8)); thresholds in bytes, capacities in bytes/s.
Builders: ``fabric.lab.physics.topology`` (inventory + ECMP + applied knobs) for the twin;
``fabric.lab.physics.shapes`` builds small hand-made shapes (dumbbell, incast star) for tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from fabric.lab.physics.knobs import DcqcnKnobs

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
B = NDArray[np.bool_]
QUEUES = 8


@dataclass
class Scenario:
    """A fabric ready to simulate. Arrays are read-only for the engines except where a fault changes them."""

    # ports
    device: list[str]  # device name of port p
    interface: list[str]  # interface name of port p
    peer: I64  # port index on the other end of the link
    is_host: B  # a NIC port (reaction/notification point) rather than a switch port
    switch_of: I64  # index into ``buffer_bytes`` of the port's device (shared buffer), -1 for hosts
    capacity: F64  # egress line rate, bytes/s
    delay_s: F64  # propagation delay of the link out of p (cable length / (2e8 m/s))
    sink_capacity: F64  # host ports: NIC drain rate of traffic arriving here, bytes/s (slow-receiver: x0.25)
    mtu: I64
    # per port x queue (egress) and per port x priority (ingress PG)
    ecn_kmin: F64
    ecn_kmax: F64
    ecn_pmax: F64  # 0 where a queue has no ECN (then it tail-drops at the buffer limit)
    pfc_enabled: B  # (P, 8) priority p is lossless on this ingress
    xoff: F64  # (P, 8) static XOFF bytes, NaN where the threshold is dynamic
    xon: F64  # (P, 8)
    alpha: F64  # (P, 8) dynamic threshold factor
    headroom: F64  # (P, 8)
    watchdog_detect_s: F64  # (P,) NaN: no watchdog
    watchdog_restore_s: F64  # (P,)
    buffer_bytes: F64  # per switch
    # flows
    flow_src: I64  # source NIC port
    flow_dst: I64  # destination NIC port (where the flow is drained)
    flow_bytes: F64  # size; inf for a long-lived flow
    flow_start_s: F64
    flow_dscp: I64
    flow_tag: list[str]  # workload phase / collective the flow belongs to (ground truth grouping)
    dcqcn: list[DcqcnKnobs]  # per flow: the source NIC's knobs
    # flow-hops
    hop_flow: I64
    hop_port: I64
    hop_queue: I64
    hop_ingress: I64
    hop_pg: I64
    notes: dict[str, str] = field(default_factory=dict)
    flow_group: list[str] = field(default_factory=list)  # collective/step id per flow (ground truth: CCT); optional
    # per flow: a group that must be complete before it starts ("": none), e.g. the previous step of a ring
    # all-reduce; it then starts when that group's last flow is done (or at flow_start_s, if later). Optional
    flow_after: list[str] = field(default_factory=list)

    @property
    def n_ports(self) -> int:
        return len(self.device)

    @property
    def n_flows(self) -> int:
        return len(self.flow_src)

    def port_index(self, device: str, interface: str) -> int:
        for p, (d, i) in enumerate(zip(self.device, self.interface, strict=True)):
            if d == device and i == interface:
                return p
        raise KeyError(f"{device} {interface}: not a connected port of this scenario")


# Counters both tiers fill, per port (shape (P,)) or per port x queue/priority (shape (P, 8)); names map onto
# fabric.lab.device.port_counter_names: "q{q}_tx_bytes" <- QUEUE_COUNTERS["tx_bytes"][p, q], etc.
PORT_COUNTERS = ("rx_octets", "tx_octets", "rx_ucast_pkts", "tx_ucast_pkts", "rx_discards", "tx_discards",
                 "np_cnp_sent", "rp_cnp_handled", "np_ecn_marked_roce_packets",
                 "pfcwd_storm_detected", "pfcwd_storm_restored")
PRIORITY_COUNTERS = ("rx_pfc{}_frames", "tx_pfc{}_frames", "rx_pfc{}_pause_us", "tx_pfc{}_pause_us",
                     "rx_pg{}_pkts", "rx_pg{}_bytes")
QUEUE_COUNTERS = ("q{}_tx_pkts", "q{}_tx_bytes", "q{}_drop_pkts", "q{}_drop_bytes", "q{}_ecn_marked_pkts",
                  "q{}_ecn_marked_bytes", "q{}_wred_drop_pkts", "q{}_wred_drop_bytes")
QUEUE_GAUGES = ("q{}_watermark_bytes", "q{}_occupancy_bytes")


@dataclass
class CounterFrame:
    """Counter increments (and queue gauges) of one advance, per port. Float: whoever adds them to the
    integer counter store keeps the fractional remainder, so slow counters still move over many frames.

    ``port[name]`` has shape (P,); ``prio[name]`` and ``queue[name]`` shape (P, 8) with the ``{}`` of the
    name standing for the priority/queue; gauges hold the last occupancy and the max since the last frame.
    """

    port: dict[str, F64]
    prio: dict[str, F64]
    queue: dict[str, F64]
    gauge: dict[str, F64]

    @classmethod
    def zeros(cls, n_ports: int) -> CounterFrame:
        return cls({k: np.zeros(n_ports) for k in PORT_COUNTERS},
                   {k: np.zeros((n_ports, QUEUES)) for k in PRIORITY_COUNTERS},
                   {k: np.zeros((n_ports, QUEUES)) for k in QUEUE_COUNTERS},
                   {k: np.zeros((n_ports, QUEUES)) for k in QUEUE_GAUGES})
