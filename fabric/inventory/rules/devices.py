"""Rules on devices themselves: platform, role, ASIC, management address, secrets."""

from __future__ import annotations

import difflib
import ipaddress
import re
from collections.abc import Iterator

from fabric.core.asic import ASICS
from fabric.core.platform import PLATFORMS
from fabric.core.problems import Problem
from fabric.inventory.models import Fabric

ROLE_KINDS = {"spine": ("switch", "managed-by-sm"), "leaf": ("switch", "managed-by-sm"),
              "server": ("host",), "sm": ("sm",)}


def _suggest(name: str, valid: list[str]) -> str:
    near = difflib.get_close_matches(name, valid, n=1)
    hint = f"did you mean '{near[0]}'? " if near else ""
    return f"{hint}valid: {', '.join(valid)}"


def platforms(fabric: Fabric) -> Iterator[Problem]:
    """The platform exists, suits the device's role, and speaks the fabric's transport."""
    transport = fabric.spec.transport
    for name, device in fabric.devices.items():
        spec = PLATFORMS.get(device.platform)
        where = f"hosts.yaml:{name}.platform"
        if spec is None:
            yield Problem(where, f"unknown platform '{device.platform}'", _suggest(device.platform, sorted(PLATFORMS)))
        elif spec.kind not in ROLE_KINDS[device.role]:
            yield Problem(where, f"platform '{device.platform}' ({spec.kind}) cannot have role '{device.role}'",
                          "fix data.role or the platform")
        elif transport not in spec.transports:
            yield Problem(where, f"platform '{device.platform}' does not run on a {transport} fabric",
                          f"use one of: {', '.join(p for p, s in PLATFORMS.items() if transport in s.transports)}")


def asics(fabric: Fabric) -> Iterator[Problem]:
    """RoCE switches name a known ASIC: headroom and buffer checks depend on it."""
    for name, device in fabric.devices.items():
        spec = PLATFORMS.get(device.platform)
        if spec is None or spec.kind != "switch" or fabric.spec.transport != "roce":
            continue
        where = f"hosts.yaml:{name}.data.asic"
        if device.asic is None:
            yield Problem(where, "required for a RoCE switch (headroom depends on it)",
                          f"set data.asic on the host or its group; valid: {', '.join(sorted(ASICS))}")
        elif device.asic not in ASICS:
            yield Problem(where, f"unknown ASIC '{device.asic}'", _suggest(device.asic, sorted(ASICS)))


HOST_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")
# A last label of digits (or 0x hex) is no host name (RFC 3696 §2): the C resolver reads "10.0.1" as 10.0.0.1,
# "010.0.0.1" as 8.0.0.1 and "2130706433" as 127.0.0.1, so such a typo would reach another device.
NUMERIC_LABEL = re.compile(r"[0-9]+|0[xX][0-9A-Fa-f]*")


def is_address(text: str) -> bool:
    """An IPv4/IPv6 address or a DNS name (RFC 1123 labels, not ending in a numeric one): what SSH, SNMP and the
    twin can reach, each naming one device."""
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        labels = text.rstrip(".").split(".")
        return (0 < len(text) <= 253 and all(HOST_LABEL.fullmatch(label) for label in labels)
                and not NUMERIC_LABEL.fullmatch(labels[-1]))


def devices_exist(fabric: Fabric) -> Iterator[Problem]:
    """An inventory without a device is a mistake (an empty or truncated hosts.yaml), not a fabric."""
    if not fabric.devices and not fabric.unresolved:  # hosts that failed to resolve are reported already
        yield Problem("hosts.yaml", "no devices", "list the fabric's switches and servers (see the README example)")


def rdma_devices(fabric: Fabric) -> Iterator[Problem]:
    """Each NIC of a server has its own RDMA device: the host script and the twin address NICs by it."""
    for name, device in fabric.devices.items():
        owner: dict[str, str] = {}
        for ifname, iface in device.interfaces.items():
            rdma = iface.rdma_device
            if rdma is None:
                continue
            if rdma in owner:
                yield Problem(f"hosts.yaml:{name}.data.interfaces.{ifname}.rdma_device",
                              f"RDMA device {rdma} is also {owner[rdma]}'s", "give every NIC its own rdma_device")
            else:
                owner[rdma] = ifname


def roce_nics_have_rdma_device(fabric: Fabric) -> Iterator[Problem]:
    """A connected lossless NIC of a RoCE server names its RDMA device: without it the host script
    configures nothing on the port (no MTU, trust, DSCP map, ETS) and RDMA-CM traffic leaves with ToS 0."""
    if fabric.spec.transport != "roce":
        return
    for name, device in fabric.devices.items():
        if device.role != "server":
            continue
        for ifname, iface in device.interfaces.items():
            if iface.peer is not None and iface.lossless and iface.rdma_device is None:
                yield Problem(f"hosts.yaml:{name}.data.interfaces.{ifname}.rdma_device",
                              "required for a RoCE server NIC (roce.sh configures QoS and cma_roce_tos by it)",
                              "set the NIC's RDMA device, e.g. rdma_device: mlx5_0 (see 'rdma link'), "
                              "or lossless: false for a port without RoCE traffic")


def _endpoint(hostname: str) -> str:
    """One spelling per endpoint: an IP address in its compressed form, a host name in lower case without the
    root dot ('::1' = '0::1', 'Leaf1.' = 'leaf1')."""
    try:
        return str(ipaddress.ip_address(hostname))
    except ValueError:
        return hostname.rstrip(".").lower()


def _service_port(platform: str, port: int | None) -> int:
    """The port deploy connects to: SSH 22 unless set; EOS's eAPI 443 unless set to another port than 22."""
    if platform == "eos":
        return 443 if port in (None, 22) else port
    return port or 22


def addresses(fabric: Fabric) -> Iterator[Problem]:
    """Every management address is an address or a host name, and no two devices share one (and the port)."""
    seen: dict[tuple[str, int | None], str] = {}
    for name, device in fabric.devices.items():
        if not is_address(device.hostname):
            yield Problem(f"hosts.yaml:{name}.hostname", f"'{device.hostname}' is neither an IP address nor a "
                          "host name", "write the management address, e.g. 10.0.0.11 or leaf1.mgmt.example.com")
        key = (_endpoint(device.hostname), _service_port(device.platform, device.port))
        if key in seen:
            yield Problem(f"hosts.yaml:{name}.hostname",
                          f"management address {device.hostname} is also used by {seen[key]}",
                          "give every device its own address")
        else:
            seen[key] = name


RULES = [devices_exist, platforms, asics, addresses, rdma_devices, roce_nics_have_rdma_device]
