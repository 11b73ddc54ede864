"""Rules on links: the peer exists and points back, and both ends agree on what the link carries."""

from __future__ import annotations

from collections.abc import Iterator

from fabric.core.platform import PLATFORMS
from fabric.core.problems import Problem
from fabric.inventory.effective import effective_pfc, effective_qos, port_mtu
from fabric.inventory.models import Device, Fabric, Interface
from fabric.inventory.rules.names import valid_device_name

HOST_ROLES = ("server", "sm")  # ends whose MTU is the host MTU: not compared with the switch port


def _peer(fabric: Fabric, where: str, peer_ref: str) -> tuple[Device, str, Interface] | Problem:
    peer_name, colon, peer_if = peer_ref.partition(":")
    if not colon:
        return Problem(where, f"peer '{peer_ref}' is not 'device:interface'", "write the peer as device:interface")
    peer = fabric.devices.get(peer_name)
    if peer is None:
        return Problem(where, f"peer device '{peer_name}' is not in the inventory", "fix the peer or add the device")
    other = peer.interfaces.get(peer_if)
    if other is None:
        return Problem(where, f"peer interface '{peer_if}' does not exist on {peer_name}",
                       f"add {peer_if} to {peer_name}'s interfaces or fix the name")
    return peer, peer_if, other


# (PFC priorities, (trust, CNP DSCP, CNP priority)): what both ends of a lossless link must agree on.
Settings = tuple[list[int], tuple[str, int, int]]


def _settings(fabric: Fabric) -> dict[str, Settings]:
    """Each device's effective settings, computed once per run (the rule visits a device once per port)."""
    settings: dict[str, Settings] = {}
    for name, device in fabric.devices.items():
        q = effective_qos(fabric.spec, device)
        settings[name] = (sorted(effective_pfc(fabric.spec, device).priorities), (q.trust, q.cnp_dscp, q.cnp_priority))
    return settings


def _switch_mtu(fabric: Fabric, device: Device, iface: Interface) -> int:
    """The MTU a switch port gets: its own or the fabric's, within what the platform's CLI takes (EOS 9214)."""
    platform = PLATFORMS.get(device.platform)
    return min(port_mtu(fabric.spec, device, iface), platform.max_mtu if platform else 9216)


def _host_mtu(fabric: Fabric, device: Device, name: str, iface: Interface, peer: Device,
              other: Interface) -> Iterator[Problem]:
    """A NIC sends packets up to its MTU: one above its switch port's MTU is dropped there (RoCE sets DF)."""
    if device.role in HOST_ROLES:  # report at the switch port
        device, name, iface, peer, other = peer, (iface.peer or "").partition(":")[2], other, device, iface
    host_mtu, switch_mtu = port_mtu(fabric.spec, peer, other), _switch_mtu(fabric, device, iface)
    if host_mtu > switch_mtu:
        yield Problem(f"{device.name}:{name}", f"MTU {switch_mtu} is below the MTU {host_mtu} of {iface.peer}, "
                      "whose larger packets this port drops", "lower host_mtu (or the NIC's mtu) to at most "
                      f"{switch_mtu}, or raise the switch port's mtu")


def _agreement(fabric: Fabric, settings: dict[str, Settings], device: Device, name: str, iface: Interface,
               peer: Device, other: Interface) -> Iterator[Problem]:
    where = f"{device.name}:{name}"
    spec = fabric.spec
    if iface.speed_gbps != other.speed_gbps:
        yield Problem(where, f"speed {iface.speed_gbps}G differs from {iface.peer} ({other.speed_gbps}G)",
                      "set the same speed_gbps on both ends")
    if device.role not in HOST_ROLES and peer.role not in HOST_ROLES:
        mtu, peer_mtu = port_mtu(spec, device, iface), port_mtu(spec, peer, other)
        if mtu != peer_mtu:
            yield Problem(where, f"MTU {mtu} differs from {iface.peer} ({peer_mtu})", "set the same mtu on both ends")
    elif spec.transport == "roce" and (device.role in HOST_ROLES) != (peer.role in HOST_ROLES):
        yield from _host_mtu(fabric, device, name, iface, peer, other)
    if iface.lossless != other.lossless:
        yield Problem(where, f"lossless is {iface.lossless} here but {other.lossless} on {iface.peer}",
                      "a link is lossless on both ends or on neither")
    if spec.transport == "roce" and iface.lossless and other.lossless:
        (mine, a), (theirs, b) = settings[device.name], settings[peer.name]
        if mine != theirs:
            yield Problem(where, f"PFC priorities {mine} differ from {iface.peer} ({theirs})",
                          "use the same pfc.priorities on both devices")
        if a != b:
            yield Problem(where, f"trust/CNP settings ({a[0]}, DSCP {a[1]} -> {a[2]}) differ "
                          f"from {iface.peer} ({b[0]}, DSCP {b[1]} -> {b[2]})",
                          "host NIC and switch port must trust and mark CNPs the same way")


def links(fabric: Fabric) -> Iterator[Problem]:
    """Every peer exists, points back, and matches speed, MTU, lossless, PFC and CNP settings.

    A link found consistent from its first-visited end is not looked up again from the other end;
    its agreement is checked once, reported at its lower end (device, interface).
    """
    settings = _settings(fabric)
    unresolved = set(fabric.unresolved)
    misnamed = [name for name in fabric.devices if not valid_device_name(name)]  # reported by names.device_names
    checked: set[str] = set()  # far ends of links already found consistent from their near end
    for device in fabric.devices.values():
        for name, iface in device.interfaces.items():
            if iface.peer is None or (unresolved and iface.peer.partition(":")[0] in unresolved):
                continue  # no peer, or the peer's own entry is broken and already reported
            if misnamed and any(iface.peer.startswith(f"{bad}:") for bad in misnamed):
                continue  # 'gpu:01:ens1np0' would read as device 'gpu': the name itself is reported
            here = f"{device.name}:{name}"
            if iface.peer.partition(":")[0] == device.name:
                yield Problem(here, f"the link goes from {device.name} to itself ({iface.peer})",
                              "set peer to the device:interface at the cable's other end")
                continue
            if here in checked:
                continue
            found = _peer(fabric, here, iface.peer)
            if isinstance(found, Problem):
                yield found
                continue
            peer, peer_if, other = found
            if other.peer != here:
                yield Problem(here, f"{peer.name}:{peer_if} points to {other.peer or 'nothing'}, not back here",
                              f"set peer: {here} on {peer.name}:{peer_if}")
                continue
            checked.add(iface.peer)
            if (device.name, name) < (peer.name, peer_if):
                yield from _agreement(fabric, settings, device, name, iface, peer, other)
            else:
                yield from _agreement(fabric, settings, peer, peer_if, other, device, iface)


RULES = [links]
