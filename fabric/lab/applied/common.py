"""What every platform reader shares: the physical port facts, headroom a platform derives itself, unit helpers.

A reader turns one platform's running state into per-port ``PortDraft``s plus device-level classification;
``finish`` turns those into the frozen ``DeviceKnobs``. Anything a device has not configured keeps the factory
value of ``fabric.lab.physics.knobs``; physical facts (speed, cable length, ASIC) come from the inventory, since
a switch knows its own ports and silicon whatever its configuration says.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

from fabric.core.asic import ASICS, Asic
from fabric.core.headroom import Headroom, sonic_headroom
from fabric.lab.device import LabDevice
from fabric.lab.physics.knobs import DEFAULT_DSCP_TO_TC, DeviceKnobs, EcnKnobs, PortKnobs, WatchdogKnobs

KIB = 1024
DEFAULT_CABLE_M = 5.0  # SONiC's default_cable when an interface names none
LOSSLESS_MTU = 1024  # LOSSLESS_TRAFFIC_PATTERN defaults of buffers_config.j2 (reference/lossless.md §1.2)
SMALL_PACKET_PERCENTAGE = 50
DEFAULT_PORT = PortKnobs()

Trust = Literal["dscp", "pcp"]


@dataclass
class PortDraft:
    """A port's knobs while a reader collects them; None/empty means "not configured"."""

    mtu: int | None = None
    speed_gbps: int | None = None
    pfc: set[int] = field(default_factory=set)
    xoff_bytes: int | None = None
    xon_bytes: int | None = None
    alpha: float | None = None
    headroom_bytes: int | None = None
    reserved_bytes: int | None = None  # per-PG buffer taken out of the shared pool (SONiC size); headroom if None
    ecn: dict[int, EcnKnobs] = field(default_factory=dict)
    watchdog: WatchdogKnobs | None = None

    def derive(self, need: Headroom) -> None:
        """Headroom the platform sizes itself: xoff absorbs in-flight bytes, size is what the PG reserves."""
        self.headroom_bytes, self.reserved_bytes = need.xoff, need.size


@dataclass
class Classification:
    """One port's (or the device's) DSCP -> TC -> queue view."""

    trust: Trust = "pcp"
    dscp_to_tc: dict[int, int] = field(default_factory=lambda: dict(DEFAULT_DSCP_TO_TC))
    tc_to_queue: dict[int, int] = field(default_factory=lambda: {tc: tc for tc in range(8)})

    def key(self) -> tuple[str, tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]]:
        return self.trust, tuple(sorted(self.dscp_to_tc.items())), tuple(sorted(self.tc_to_queue.items()))


def asic_of(device: LabDevice) -> Asic | None:
    return ASICS.get(device.inventory.asic or "")


def cell_bytes(device: LabDevice, fallback: int) -> int:
    """The ASIC's buffer cell, the unit of cell-counting CLIs; ``fallback`` when the inventory names no ASIC."""
    asic = asic_of(device)
    return asic.cell_bytes if asic else fallback


def cable_m(device: LabDevice, port: str) -> float:
    interface = device.inventory.interfaces.get(port)
    length = interface.cable_length_m if interface is not None else None
    return float(length) if length is not None else DEFAULT_CABLE_M


def speed_of(device: LabDevice, port: str) -> int:
    interface = device.inventory.interfaces.get(port)
    return int(interface.speed_gbps) if interface is not None else DEFAULT_PORT.speed_gbps


def derived_headroom(device: LabDevice, port: str, mtu: int | None, cable: float | None = None) -> Headroom:
    """The xon/xoff/size bytes the switch computes itself for a lossless PG of ``port``.

    The platforms that size headroom on their own (Cumulus from ``cable-length``, EOS, NX-OS below 100 m, SONiC's
    dynamic model) follow the speed/cable/MTU/ASIC formula of reference/lossless.md §1.3; the same function
    fabric's intent uses. All zero when the ASIC is unknown: nothing to derive it from.
    """
    asic = asic_of(device)
    if asic is None:
        return Headroom(0, 0, 0)
    return sonic_headroom(asic, speed_of(device, port), cable_m(device, port) if cable is None else cable,
                          mtu or DEFAULT_PORT.mtu, LOSSLESS_MTU, SMALL_PACKET_PERCENTAGE)


def ecn(kmin_bytes: float, kmax_bytes: float, pmax_percent: float) -> EcnKnobs:
    return EcnKnobs(round(kmin_bytes), round(kmax_bytes), min(max(pmax_percent, 0.0), 100.0) / 100)


Action = Literal["drop", "forward", "alert"]
ACTIONS: dict[str, Action] = {"drop": "drop", "forward": "forward", "alert": "alert"}


def int_list(text: str) -> list[int]:
    """``3,4`` / ``3 4`` / ``0-2,5`` -> [3, 4] / [3, 4] / [0, 1, 2, 5]."""
    values: list[int] = []
    for part in text.replace(",", " ").split():
        first, _, last = part.partition("-")
        if first.isdigit() and (not last or last.isdigit()):
            values += range(int(first), int(last or first) + 1)
    return values


def number(text: str | None) -> int | None:
    return int(text) if text is not None and str(text).strip().isdigit() else None


def ceil_cells(value: int, cell: int) -> int:
    return math.ceil(value / cell) * cell


def shared_buffer(device: LabDevice, headroom_total: int, share: float = 1.0) -> int:
    """The shared pool the dynamic thresholds divide: the ASIC's buffer (its ``share``) less reserved headroom."""
    asic = asic_of(device)
    if asic is None:
        return DeviceKnobs(device=device.name).buffer_bytes
    return max(int(asic.buffer_bytes * share) - headroom_total, 0)


def majority(per_port: dict[str, Classification]) -> Classification:
    """The classification most ports use: DeviceKnobs keeps one per device (see the package docstring)."""
    if not per_port:
        return Classification()
    counts = Counter(c.key() for c in per_port.values())
    best = counts.most_common(1)[0][0]
    return next(c for c in per_port.values() if c.key() == best)


def finish(device: LabDevice, classification: Classification, drafts: dict[str, PortDraft],
           buffer_bytes: int | None = None) -> DeviceKnobs:
    """Freeze the drafts: unset values fall back to the factory PortKnobs, PFC-less ports lose PFC thresholds."""
    ports: dict[str, PortKnobs] = {}
    for name in device.inventory.interfaces:
        draft = drafts.get(name, PortDraft())
        lossless = bool(draft.pfc)
        ports[name] = PortKnobs(
            mtu=draft.mtu or DEFAULT_PORT.mtu,
            speed_gbps=draft.speed_gbps or speed_of(device, name),
            pfc_priorities=frozenset(draft.pfc),
            xoff_bytes=draft.xoff_bytes if lossless else None,
            xon_bytes=draft.xon_bytes if lossless else None,
            dynamic_alpha=draft.alpha if draft.alpha is not None else DEFAULT_PORT.dynamic_alpha,
            headroom_bytes=(draft.headroom_bytes or 0) if lossless else 0,
            ecn=dict(draft.ecn),
            watchdog=draft.watchdog if lossless else None,
        )
    headroom_total = sum((drafts[n].reserved_bytes or p.headroom_bytes) * len(p.pfc_priorities)
                         for n, p in ports.items() if n in drafts)
    return DeviceKnobs(
        device=device.name, trust=classification.trust, dscp_to_tc=dict(classification.dscp_to_tc),
        tc_to_queue=dict(classification.tc_to_queue),
        buffer_bytes=buffer_bytes if buffer_bytes is not None else shared_buffer(device, headroom_total),
        ports=ports)
