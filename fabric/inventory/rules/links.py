"""Rules on links: the peer exists and points back, and both ends agree on what the link carries."""

from __future__ import annotations

from collections.abc import Iterator

from fabric.core.problems import Problem
from fabric.inventory.effective import effective_pfc, effective_qos, port_mtu
from fabric.inventory.models import Device, Fabric, Interface


def _peer(fabric: Fabric, device: Device, name: str, iface: Interface) -> tuple[Device, str, Interface] | Problem:
    where = f"{device.name}:{name}"
    assert iface.peer is not None
    if iface.peer.count(":") < 1:
        return Problem(where, f"peer '{iface.peer}' is not 'device:interface'", "write the peer as device:interface")
    peer_name, peer_if = iface.peer.split(":", 1)
    peer = fabric.devices.get(peer_name)
    if peer is None:
        return Problem(where, f"peer device '{peer_name}' is not in the inventory", "fix the peer or add the device")
    other = peer.interfaces.get(peer_if)
    if other is None:
        return Problem(where, f"peer interface '{peer_if}' does not exist on {peer_name}",
                       f"add {peer_if} to {peer_name}'s interfaces or fix the name")
    return peer, peer_if, other


class _Effective:
    """Effective QoS/PFC per device, computed once per run (a link rule visits each device many times)."""

    def __init__(self, fabric: Fabric) -> None:
        self.spec = fabric.spec
        self._pfc: dict[str, list[int]] = {}
        self._qos: dict[str, tuple[str, int, int]] = {}

    def pfc(self, device: Device) -> list[int]:
        if device.name not in self._pfc:
            self._pfc[device.name] = sorted(effective_pfc(self.spec, device).priorities)
        return self._pfc[device.name]

    def qos(self, device: Device) -> tuple[str, int, int]:
        if device.name not in self._qos:
            q = effective_qos(self.spec, device)
            self._qos[device.name] = (q.trust, q.cnp_dscp, q.cnp_priority)
        return self._qos[device.name]


def _agreement(fabric: Fabric, effective: _Effective, device: Device, name: str, iface: Interface,
               peer: Device, other: Interface) -> Iterator[Problem]:
    where = f"{device.name}:{name}"
    spec = fabric.spec
    if iface.speed_gbps != other.speed_gbps:
        yield Problem(where, f"speed {iface.speed_gbps}G differs from {iface.peer} ({other.speed_gbps}G)",
                      "set the same speed_gbps on both ends")
    mtu, peer_mtu = port_mtu(spec, device, iface), port_mtu(spec, peer, other)
    if device.role not in ("server", "sm") and peer.role not in ("server", "sm") and mtu != peer_mtu:
        yield Problem(where, f"MTU {mtu} differs from {iface.peer} ({peer_mtu})", "set the same mtu on both ends")
    if iface.lossless != other.lossless:
        yield Problem(where, f"lossless is {iface.lossless} here but {other.lossless} on {iface.peer}",
                      "a link is lossless on both ends or on neither")
    if spec.transport == "roce" and iface.lossless and other.lossless:
        mine, theirs = effective.pfc(device), effective.pfc(peer)
        if mine != theirs:
            yield Problem(where, f"PFC priorities {mine} differ from {iface.peer} ({theirs})",
                          "use the same pfc.priorities on both devices")
        a, b = effective.qos(device), effective.qos(peer)
        if a != b:
            yield Problem(where, f"trust/CNP settings ({a[0]}, DSCP {a[1]} -> {a[2]}) differ "
                          f"from {iface.peer} ({b[0]}, DSCP {b[1]} -> {b[2]})",
                          "host NIC and switch port must trust and mark CNPs the same way")


def links(fabric: Fabric) -> Iterator[Problem]:
    """Every peer exists, points back, and matches speed, MTU, lossless, PFC and CNP settings."""
    effective = _Effective(fabric)
    for device in fabric.devices.values():
        for name, iface in device.interfaces.items():
            if iface.peer is None:
                continue
            if iface.peer.split(":", 1)[0] in fabric.unresolved:
                continue  # the peer's own entry is broken and already reported
            found = _peer(fabric, device, name, iface)
            if isinstance(found, Problem):
                yield found
                continue
            peer, peer_if, other = found
            if other.peer != f"{device.name}:{name}":
                yield Problem(f"{device.name}:{name}",
                              f"{peer.name}:{peer_if} points to {other.peer or 'nothing'}, not back here",
                              f"set peer: {device.name}:{name} on {peer.name}:{peer_if}")
                continue
            if (device.name, name) < (peer.name, peer_if):
                yield from _agreement(fabric, effective, device, name, iface, peer, other)


RULES = [links]
