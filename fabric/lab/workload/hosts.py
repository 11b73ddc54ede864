"""The servers a workload runs on, from the inventory: (name, NIC interfaces, pod), plus NIC line rates and planes.

A pod is ``data.pod`` when the inventory has it (rail-optimised fabrics); otherwise servers homed on the
same set of leaves form a pod, numbered in inventory order (inventories/lab-roce: gpu01-08 on leaf1+2 are
pod 0, gpu09-12 pod 1, gpu13-16 pod 2). NIC k of a server is its k-th connected interface in inventory
order: its rail. A NIC's plane is the set of switches its leaf reaches (``planes``): all of them on a CLOS,
one spine plane's on a multi-plane fabric.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from fnmatch import fnmatchcase
from typing import Any

from fabric.inventory.models import Device, Fabric
from fabric.lab.workload.schema import HostSelect

DEFAULT_NIC_GBPS = 100.0
FORWARDS_NOTHING = ("server", "sm")


class Host(tuple[str, tuple[str, ...], int]):
    """``(server name, NIC interface names, pod)`` as the engine contract says; ``nic_gbps`` rides along
    (one line rate per NIC) so Poisson loads are relative to each NIC's own speed.

    >>> name, nics, pod = Host("gpu01", ("ens1np0",), 0, (200.0,)); (name, nics, pod)
    ('gpu01', ('ens1np0',), 0)
    """

    nic_gbps: tuple[float, ...]
    nic_plane: tuple[int, ...]

    def __new__(cls, name: str, nics: Sequence[str], pod: int, nic_gbps: Sequence[float] | None = None,
                nic_plane: Sequence[int] | None = None) -> Host:
        host = super().__new__(cls, (name, tuple(nics), pod))
        host.nic_gbps = tuple(nic_gbps) if nic_gbps is not None else (DEFAULT_NIC_GBPS,) * len(nics)
        host.nic_plane = tuple(nic_plane) if nic_plane is not None else (0,) * len(nics)
        return host

    @property
    def name(self) -> str:
        return self[0]

    @property
    def nics(self) -> tuple[str, ...]:
        return self[1]

    @property
    def pod(self) -> int:
        return self[2]


def as_hosts(hosts: Iterable[Sequence[Any]]) -> list[Host]:
    """Accept plain ``(name, [nics], pod)`` tuples too (line rate then ``DEFAULT_NIC_GBPS``)."""
    out = []
    for h in hosts:
        if isinstance(h, Host):
            out.append(h)
        else:
            name, nics, pod = h[0], h[1], h[2]
            out.append(Host(str(name), [str(n) for n in nics], int(pod)))
    return out


def _leaves(device: Device) -> frozenset[str]:
    return frozenset(p.peer.split(":", 1)[0] for p in device.interfaces.values() if p.peer)


def hosts_of(fabric: Fabric) -> list[Host]:
    """Every server with at least one connected NIC, in inventory order, each NIC with its plane."""
    pods: dict[frozenset[str], int] = {}
    plane = planes(fabric)
    hosts = []
    for device in fabric.devices.values():
        nics = [(n, p.speed_gbps, p.peer.split(":", 1)[0]) for n, p in device.interfaces.items() if p.peer]
        if device.role != "server" or not nics:
            continue
        pod = device.pod if device.pod is not None else pods.setdefault(_leaves(device), len(pods))
        hosts.append(Host(device.name, [n for n, _, _ in nics], pod, [float(s) for _, s, _ in nics],
                          [plane.get(peer, -1) for _, _, peer in nics]))
    return hosts


def planes(fabric: Fabric) -> dict[str, int]:
    """Each switch's plane: the switches that links between switches join (servers and subnet managers
    forward nothing), numbered in inventory order. One plane on a CLOS; a fabric of separate spine planes
    has one per plane, and a NIC reaches only the NICs of its own."""
    parent = {name: name for name, d in fabric.devices.items() if d.role not in FORWARDS_NOTHING}

    def root(name: str) -> str:
        while parent[name] != name:
            parent[name] = parent[parent[name]]
            name = parent[name]
        return name

    for name in parent:
        for port in fabric.devices[name].interfaces.values():
            other = port.peer.split(":", 1)[0] if port.peer else None
            if other in parent:
                parent[root(name)] = root(other)
    numbers: dict[str, int] = {}
    return {name: numbers.setdefault(root(name), len(numbers)) for name in parent}


def select(hosts: Sequence[Host], sel: HostSelect) -> list[int]:
    """Indices into ``hosts`` of the servers ``sel`` picks, in inventory order."""
    picked = [i for i, h in enumerate(hosts)
              if any(fnmatchcase(h.name, g) for g in sel.names) and (sel.pods is None or h.pod in sel.pods)]
    picked = picked[sel.skip:]
    return picked[:sel.first] if sel.first is not None else picked
