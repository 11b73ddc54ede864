"""A lab device: its identity, endpoints, running state, counters and injected faults."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from fabric.inventory.models import Device

FAULTS = ("ssh-drop", "reject-config", "slow", "auth-fail", "snmp-timeout", "counter-reset", "counter-wrap",
          "link-down", "pfc-storm", "slow-receiver", "headroom-short")
# physics faults (fabric.lab.physics.engine, only with a workload): pfc-storm = a host's NICs pause forever,
# slow-receiver = a host's NICs drain at 25 %, headroom-short = a switch's headroom at 1/4 of its cables' need,
# link-down = the device's links (or one port) down and ECMP re-hashed.


@dataclass
class Faults:
    """Faults injected on one device; each has an expiry (monotonic seconds), or 0 for none."""

    until: dict[str, float] = field(default_factory=dict)
    slow_s: float = 1.0

    def set(self, kind: str, seconds: float | None) -> None:
        self.until[kind] = time.monotonic() + seconds if seconds else float("inf")

    def clear(self, kind: str | None = None) -> None:
        if kind is None:
            self.until.clear()
        else:
            self.until.pop(kind, None)

    def active(self, kind: str) -> bool:
        expiry = self.until.get(kind)
        if expiry is None:
            return False
        if time.monotonic() >= expiry:
            del self.until[kind]
            return False
        return True


def port_counter_names() -> list[str]:
    """The canonical per-port counter names every reader (SNMP agent, show commands) maps from.

    Interface: rx_octets, tx_octets, rx_ucast_pkts, tx_ucast_pkts, rx_discards, tx_discards, rx_errors,
    tx_errors. Per priority p (0-7): rx_pfc{p}_frames, tx_pfc{p}_frames, rx_pfc{p}_pause_us,
    tx_pfc{p}_pause_us, rx_pg{p}_pkts, rx_pg{p}_bytes (ingress priority group). Per egress queue q (0-7):
    q{q}_tx_pkts, q{q}_tx_bytes, q{q}_drop_pkts, q{q}_drop_bytes, q{q}_ecn_marked_pkts, q{q}_ecn_marked_bytes,
    q{q}_wred_drop_pkts, q{q}_wred_drop_bytes, and the gauges q{q}_watermark_bytes and q{q}_occupancy_bytes.
    Host NIC ports add the mlx5 names: np_cnp_sent, rp_cnp_handled, np_ecn_marked_roce_packets.
    """
    names = ["rx_octets", "tx_octets", "rx_ucast_pkts", "tx_ucast_pkts", "rx_discards", "tx_discards",
             "rx_errors", "tx_errors"]
    for p in range(8):
        names += [f"rx_pfc{p}_frames", f"tx_pfc{p}_frames", f"rx_pfc{p}_pause_us", f"tx_pfc{p}_pause_us",
                  f"rx_pg{p}_pkts", f"rx_pg{p}_bytes"]
    for q in range(8):
        names += [f"q{q}_tx_pkts", f"q{q}_tx_bytes", f"q{q}_drop_pkts", f"q{q}_drop_bytes",
                  f"q{q}_ecn_marked_pkts", f"q{q}_ecn_marked_bytes", f"q{q}_wred_drop_pkts",
                  f"q{q}_wred_drop_bytes", f"q{q}_watermark_bytes", f"q{q}_occupancy_bytes"]
    return names


HOST_COUNTERS = ["np_cnp_sent", "rp_cnp_handled", "np_ecn_marked_roce_packets"]


@dataclass
class Counters:
    """Per-port counter store: the source the SNMP agent and every show command read.

    The congestion engine (next issue) writes here; until then the lab's traffic ticker advances them.
    Keys are the canonical names of ``port_counter_names``; every port starts with all of them at 0.
    """

    ports: dict[str, dict[str, int]] = field(default_factory=dict)
    boot_time: float = field(default_factory=time.time)

    def port(self, name: str) -> dict[str, int]:
        return self.ports.setdefault(name, {})

    def add(self, port: str, counter: str, delta: int) -> None:
        values = self.port(port)
        values[counter] = values.get(counter, 0) + delta

    def reset(self) -> None:
        """A reboot: every counter back to zero and uptime from now."""
        for values in self.ports.values():
            for key in values:
                values[key] = 0
        self.boot_time = time.time()

    def uptime_ticks(self) -> int:
        """sysUpTime in hundredths of a second."""
        return int((time.time() - self.boot_time) * 100)


@dataclass
class LabDevice:
    """One device of the twin. ``config`` belongs to the platform's dialect (see fabric.lab.dialects)."""

    inventory: Device
    address: str
    ssh_port: int
    config: Any = None
    counters: Counters = field(default_factory=Counters)
    faults: Faults = field(default_factory=Faults)
    link_down: set[str] = field(default_factory=set)

    @property
    def name(self) -> str:
        return self.inventory.name

    @property
    def platform(self) -> str:
        return self.inventory.platform
