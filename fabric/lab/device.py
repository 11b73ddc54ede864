"""A lab device: its identity, endpoints, running state, counters and injected faults."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from fabric.inventory.models import Device


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


@dataclass
class Counters:
    """Per-port counter store: the source the SNMP agent and every show command read.

    The congestion engine (next issue) writes here; until then ``tick`` advances plain traffic counters.
    Keys are counter names as the platform's show commands and MIBs name them, e.g. ``rx_octets``.
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
