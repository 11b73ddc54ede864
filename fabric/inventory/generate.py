"""Generate a two-tier CLOS or rail-optimised inventory as plain data (``fabric inventory generate``).

``generate`` is pure: it returns ``{file name: data}`` for fabric.yaml, hosts.yaml, groups.yaml and
defaults.yaml, in the Nornir layout of inventories/lab-roce and lab-ib. ``write_inventory`` is the only
function that writes. The same arguments give byte-identical files.

Topologies:

- ``clos``: every leaf connects to every spine; NIC k of server s goes to leaf ``(s * nics + k) mod
  leaves``, so each server is homed on ``nics`` consecutive leaves.
- ``rail``: leaves form pods of ``nics`` rail leaves; NIC k of every server of a pod goes to rail leaf k
  of that pod. Servers fill pods ``servers_per_leaf`` at a time. Spines form ``spine_planes`` planes:
  rail k's leaves connect to every spine of plane ``k mod planes`` (1 plane = every leaf to every spine;
  ``nics`` planes = one spine group per rail, how rail-optimised fabrics grow past one spine layer).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from math import ceil
from typing import Any

from fabric.core.platform import PLATFORMS
from fabric.core.problems import Problem
from fabric.core.units import SPEEDS_GBPS
from fabric.inventory.models import FabricSpec, IbQosSpec, InfinibandSpec, Partition

KINDS = ("clos", "rail")
TRANSPORTS = ("roce", "infiniband")
SERVER_CABLE_M = 3
UPLINK_CABLES_M = (30, 40, 50, 60, 70, 80, 90, 100)
SWITCH_HOSTS, SERVER_HOSTS = 1, 64  # second octet where each range of 127.x.y.z starts
EAPI_PORT = 443  # napalm's eos driver speaks eAPI over HTTPS


@dataclass(frozen=True)
class SwitchModel:
    """An ASIC a platform ships with: what it can switch, and its fastest port."""

    asic: str
    capacity_gbps: int
    max_speed_gbps: int


# Per platform, smallest first: a switch gets the smallest ASIC that carries all its ports.
# Capacities are the chips' published switching capacity, one direction (Tomahawk 4: 64 x 400G).
SWITCH_MODELS: dict[str, tuple[SwitchModel, ...]] = {
    "sonic": (SwitchModel("spectrum3", 12_800, 400), SwitchModel("spectrum4", 51_200, 800)),
    "nvue": (SwitchModel("spectrum3", 12_800, 400), SwitchModel("spectrum4", 51_200, 800)),
    "eos": (SwitchModel("tomahawk4", 25_600, 400), SwitchModel("tomahawk5", 51_200, 800)),
    "nxos": (SwitchModel("cloudscale", 25_600, 400), SwitchModel("silicon-one", 51_200, 800)),
    "comware": (SwitchModel("trident3", 3_200, 100), SwitchModel("tomahawk4", 25_600, 400),
                SwitchModel("tomahawk5", 51_200, 800)),
    "huawei_ce": (SwitchModel("tomahawk3", 12_800, 400), SwitchModel("tomahawk4", 25_600, 400),
                  SwitchModel("tomahawk5", 51_200, 800)),
    "ib_switch": (SwitchModel("quantum2", 25_600, 400),),  # NDR: 64 x 400G; no data.asic, the SM programs it
}

COMWARE_PREFIX = {10: "Ten-GigabitEthernet", 25: "Twenty-FiveGigE", 40: "FortyGigE", 50: "FiftyGigE",
                  100: "HundredGigE", 200: "TwoHundredGigE", 400: "FourHundredGigE", 800: "EightHundredGigE"}

# Port n (from 1) of each platform at a given speed, as the NOS names it.
PORT_NAMES: dict[str, Callable[[int, int], str]] = {
    "sonic": lambda n, speed: f"Ethernet{(n - 1) * 8}",
    "nvue": lambda n, speed: f"swp{n}",
    "eos": lambda n, speed: f"Ethernet{n}/1",
    "nxos": lambda n, speed: f"Ethernet1/{n}",
    "comware": lambda n, speed: f"{COMWARE_PREFIX[speed]}1/0/{n}",
    "huawei_ce": lambda n, speed: f"{speed}GE1/0/{n}",
    "ib_switch": lambda n, speed: str(n),
    "linux_mlx5": lambda n, speed: f"ens{n}np0",
    "hca": lambda n, speed: f"ib{n - 1}",  # any host on an InfiniBand fabric
}
GROUPS = {"spine": "spines", "leaf": "leaves", "server": "servers"}


class ShapeError(ValueError):
    """The arguments describe no buildable fabric; ``problems`` says why, one line each."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class Shape:
    """The arguments of ``generate``."""

    kind: str
    spines: int
    leaves: int
    servers: int
    nics_per_server: int
    platforms: tuple[str, ...]
    transport: str = "roce"
    name: str = ""
    server_speed_gbps: int = 400
    uplink_speed_gbps: int = 400
    servers_per_leaf: int | None = None
    spine_planes: int = 1


@dataclass(eq=False)
class Node:
    """A device being wired: ports are appended in order, so port n is ``ports[n - 1]``."""

    name: str
    role: str
    platform: str
    index: int  # position within its role, from 0
    ports: list[Port] = field(default_factory=list)
    pod: int | None = None
    rail: int | None = None


@dataclass(frozen=True)
class Port:
    """One end of a link: the peer device and the peer's port number."""

    peer: Node
    peer_number: int
    speed_gbps: int
    cable_length_m: int


@dataclass
class Topology:
    """Every device, wired."""

    spines: list[Node]
    leaves: list[Node]
    servers: list[Node]
    sm: Node | None = None

    def switches(self) -> list[Node]:
        return [*self.spines, *self.leaves]


# --------------------------------------------------------------------------- checks


def switch_platforms(transport: str) -> list[str]:
    """Platforms a switch can have on this transport."""
    kind = "switch" if transport == "roce" else "managed-by-sm"
    return sorted(p for p, spec in PLATFORMS.items() if spec.kind == kind and transport in spec.transports)


def _platform_problems(shape: Shape) -> list[Problem]:
    valid = switch_platforms(shape.transport)
    if not shape.platforms:
        return [Problem("--platforms", "no switch platform given", f"pass one or more of: {', '.join(valid)}")]
    problems = []
    for platform in shape.platforms:
        if platform not in PLATFORMS:
            problems.append(Problem("--platforms", f"unknown platform '{platform}'",
                                    f"valid {shape.transport} switch platforms: {', '.join(valid)}"))
        elif platform not in valid:
            problems.append(Problem("--platforms", f"'{platform}' is not a switch platform on {shape.transport}",
                                    f"use one of: {', '.join(valid)}"))
    return problems


def _count_problems(shape: Shape) -> list[Problem]:
    problems = [Problem(f"--{flag}", f"must be at least 1, got {value}", f"pass --{flag} N with N >= 1")
                for flag, value in (("spines", shape.spines), ("leaves", shape.leaves),
                                    ("servers", shape.servers), ("nics-per-server", shape.nics_per_server),
                                    ("spine-planes", shape.spine_planes))
                if value < 1]
    for flag, speed in (("server-speed", shape.server_speed_gbps), ("uplink-speed", shape.uplink_speed_gbps)):
        if speed not in SPEEDS_GBPS:
            problems.append(Problem(f"--{flag}", f"{speed} Gb/s is not a port speed",
                                    f"use one of {', '.join(map(str, SPEEDS_GBPS))}"))
    if shape.servers_per_leaf is not None and shape.servers_per_leaf < 1:
        problems.append(Problem("--servers-per-leaf", "must be at least 1", "omit it to spread servers evenly"))
    return problems


def _rail_problems(shape: Shape) -> list[Problem]:
    nics, planes = shape.nics_per_server, shape.spine_planes
    if shape.leaves % nics:
        return [Problem("--leaves", f"{shape.leaves} leaves do not form pods of {nics} rail leaves",
                        f"pass a multiple of --nics-per-server ({nics}), e.g. {ceil(shape.leaves / nics) * nics}")]
    problems = []
    if shape.spines % planes or nics % planes:
        problems.append(Problem("--spine-planes", f"{planes} planes do not divide {shape.spines} spines "
                                f"and {nics} rails evenly", "pass a common divisor, e.g. 1"))
    pods = shape.leaves // nics
    per_leaf = servers_per_leaf(shape)
    if per_leaf * pods < shape.servers:
        problems.append(Problem("--servers", f"{pods} pods of {per_leaf} servers hold {per_leaf * pods}, "
                                f"not {shape.servers}", "add leaves or raise --servers-per-leaf"))
    return problems


def check_shape(shape: Shape) -> list[Problem]:
    """Problems with the arguments themselves (port capacity is checked once the fabric is wired)."""
    problems = []
    if shape.kind not in KINDS:
        problems.append(Problem("--kind", f"unknown kind '{shape.kind}'", f"use one of: {', '.join(KINDS)}"))
    if shape.transport not in TRANSPORTS:
        return [*problems, Problem("--transport", f"unknown transport '{shape.transport}'",
                                   f"use one of: {', '.join(TRANSPORTS)}")]
    problems += _platform_problems(shape) + _count_problems(shape)
    if shape.kind == "clos" and (shape.servers_per_leaf is not None or shape.spine_planes != 1):
        problems.append(Problem("--kind", "--servers-per-leaf and --spine-planes shape rail fabrics only",
                                "drop them, or use --kind rail"))
    if not problems and shape.kind == "rail":
        problems += _rail_problems(shape)
    if not problems:
        problems += _port_bound_problems(shape)
    return problems


MAX_SERVERS = 1_000_000  # a loopback address each (127.x.y.z), and a device in memory
WIRED_FIRST = 200_000  # links a shape may have before its port needs are bounded from the counts alone


def _port_bound_problems(shape: Shape) -> list[Problem]:
    """What one spine and one leaf need at least, from the counts alone, against the largest switch of the
    given platforms, for a shape of more than ``WIRED_FIRST`` links: one no ASIC carries is refused before
    millions of links are wired (5,000 spines x 5,000 leaves used to run for minutes)."""
    if shape.servers > MAX_SERVERS:
        return [Problem("--servers", f"{shape.servers} servers is more than the {MAX_SERVERS} a generated "
                        "inventory can address", f"pass at most {MAX_SERVERS}")]
    planes = shape.spine_planes
    links = shape.leaves * shape.spines // planes + shape.servers * shape.nics_per_server
    if links <= WIRED_FIRST:  # small enough to wire: the wired check names the switch and its port count
        return []
    largest = max(SWITCH_MODELS[p][-1].capacity_gbps for p in shape.platforms)
    if shape.kind == "rail":
        leaf_ports = (shape.spines // planes * shape.uplink_speed_gbps
                      + servers_per_leaf(shape) * shape.server_speed_gbps)
        spine_ports = ceil(shape.leaves / planes) * shape.uplink_speed_gbps
    else:
        leaf_ports = (shape.spines * shape.uplink_speed_gbps
                      + ceil(shape.servers * shape.nics_per_server / shape.leaves) * shape.server_speed_gbps)
        spine_ports = shape.leaves * shape.uplink_speed_gbps
    return [Problem(f"--{flag}", f"not enough {role} ports: a {role} needs at least {demand / 1000:g} Tb/s, but "
                    f"the largest switch of {', '.join(shape.platforms)} carries {largest / 1000:g} Tb/s",
                    CAPACITY_FIX[role])
            for flag, role, demand in (("spines", "spine", spine_ports), ("leaves", "leaf", leaf_ports))
            if demand > largest]


def switch_model(platform: str, ports: list[Port]) -> SwitchModel | None:
    """The smallest ASIC of the platform that carries these ports, or None."""
    demand = sum(p.speed_gbps for p in ports)
    fastest = max((p.speed_gbps for p in ports), default=0)
    return next((m for m in SWITCH_MODELS[platform] if m.capacity_gbps >= demand and m.max_speed_gbps >= fastest),
                None)


CAPACITY_FIX = {
    "leaf": "use fewer spines per leaf (rail: --spine-planes) or servers per leaf, or lower speeds",
    "spine": "use fewer leaves per spine (rail: more spines in more --spine-planes) or a lower --uplink-speed",
}


def _capacity_problem(node: Node) -> Problem:
    largest = SWITCH_MODELS[node.platform][-1]
    demand = sum(p.speed_gbps for p in node.ports)
    return Problem(f"--{GROUPS[node.role]}", f"not enough {node.role} ports: {node.name} ({node.platform}) "
                   f"needs {len(node.ports)} ports, {demand / 1000:g} Tb/s, but the largest {node.platform} switch "
                   f"({largest.asic}) carries {largest.capacity_gbps / 1000:g} Tb/s "
                   f"with ports up to {largest.max_speed_gbps}G", CAPACITY_FIX[node.role])


def capacity_problems(topology: Topology) -> list[Problem]:
    """The first spine and the first leaf (if any) whose ports no ASIC of its platform carries."""
    problems = []
    for nodes in (topology.spines, topology.leaves):
        bad = next((n for n in nodes if switch_model(n.platform, n.ports) is None), None)
        if bad is not None:
            problems.append(_capacity_problem(bad))
    return problems


def servers_per_leaf(shape: Shape) -> int:
    """Rail fabrics: servers per pod (each takes one port on every rail leaf of its pod)."""
    if shape.servers_per_leaf is not None:
        return shape.servers_per_leaf
    return ceil(shape.servers / (shape.leaves // shape.nics_per_server))


# --------------------------------------------------------------------------- wiring


def connect(a: Node, b: Node, speed_gbps: int, cable_length_m: int) -> None:
    """Add a link: both ends name each other."""
    a_number, b_number = len(a.ports) + 1, len(b.ports) + 1
    a.ports.append(Port(b, b_number, speed_gbps, cable_length_m))
    b.ports.append(Port(a, a_number, speed_gbps, cable_length_m))


def uplink_cable_m(leaf: Node, spine: Node) -> int:
    """30-100 m, varied but deterministic, as in a real hall."""
    return UPLINK_CABLES_M[(leaf.index + 3 * spine.index) % len(UPLINK_CABLES_M)]


def _nodes(shape: Shape) -> Topology:
    switch_platforms_ = shape.platforms if shape.transport == "roce" else ("ib_switch",)
    spines = [Node(f"spine{i + 1}", "spine", switch_platforms_[i % len(switch_platforms_)], i)
              for i in range(shape.spines)]
    leaves = [Node(f"leaf{i + 1}", "leaf", switch_platforms_[(shape.spines + i) % len(switch_platforms_)], i)
              for i in range(shape.leaves)]
    width = max(2, len(str(shape.servers)))
    servers = [Node(f"gpu{s + 1:0{width}d}", "server", "linux_mlx5", s) for s in range(shape.servers)]
    return Topology(spines, leaves, servers)


def _wire_clos(shape: Shape, t: Topology) -> None:
    for leaf in t.leaves:
        for spine in t.spines:
            connect(leaf, spine, shape.uplink_speed_gbps, uplink_cable_m(leaf, spine))
    nics = shape.nics_per_server
    for server in t.servers:
        for k in range(nics):
            leaf = t.leaves[(server.index * nics + k) % len(t.leaves)]
            connect(server, leaf, shape.server_speed_gbps, SERVER_CABLE_M)


def _wire_rail(shape: Shape, t: Topology) -> None:
    nics, planes = shape.nics_per_server, shape.spine_planes
    plane_size = len(t.spines) // planes
    for leaf in t.leaves:
        leaf.pod, leaf.rail = divmod(leaf.index, nics)
        plane = leaf.rail % planes
        for spine in t.spines[plane * plane_size:(plane + 1) * plane_size]:
            connect(leaf, spine, shape.uplink_speed_gbps, uplink_cable_m(leaf, spine))
    per_leaf = servers_per_leaf(shape)
    for server in t.servers:
        server.pod = server.index // per_leaf
        for k in range(nics):
            connect(server, t.leaves[server.pod * nics + k], shape.server_speed_gbps, SERVER_CABLE_M)


def wire(shape: Shape) -> Topology:
    """Create every device and link of a checked shape."""
    topology = _nodes(shape)
    (_wire_rail if shape.kind == "rail" else _wire_clos)(shape, topology)
    if shape.transport == "infiniband":
        topology.sm = Node("sm1", "sm", "opensm", shape.servers)
        connect(topology.sm, topology.leaves[-1], shape.server_speed_gbps, SERVER_CABLE_M)
    return topology


# --------------------------------------------------------------------------- inventory data


def address(first_octet: int, index: int) -> str:
    """127.<a>.<b>.<c> for the index-th device of a range: c in 1..254, never 127.0.0.1."""
    block, host = divmod(index, 254)
    return f"127.{first_octet + block // 256}.{block % 256}.{host + 1}"


def guid(kind: int, sub: int, index: int) -> str:
    """A 64-bit InfiniBand GUID: 16 bits kind, 16 bits sub-index, 32 bits device index."""
    return f"0x{kind:04x}{sub:04x}{index:08x}"


def _port_names(node: Node, transport: str) -> list[str]:
    host = node.role in ("server", "sm")
    name = PORT_NAMES["hca" if host and transport == "infiniband" else node.platform]
    return [name(n, port.speed_gbps) for n, port in enumerate(node.ports, 1)]


def _interfaces(node: Node, names: dict[str, list[str]], transport: str) -> dict[str, dict[str, Any]]:
    interfaces = {}
    host = node.role in ("server", "sm")
    for n, (port, local) in enumerate(zip(node.ports, names[node.name], strict=True)):
        iface: dict[str, Any] = {"speed_gbps": port.speed_gbps,
                                 "peer": f"{port.peer.name}:{names[port.peer.name][port.peer_number - 1]}",
                                 "cable_length_m": port.cable_length_m}
        if host:
            iface["rdma_device"] = f"mlx5_{n}"
        if host and transport == "infiniband":
            iface["port_guid"] = guid(0xC1 if node.role == "server" else 0xD1, n, node.index)
        interfaces[local] = iface
    return interfaces


def _switch_host(node: Node, interfaces: dict[str, Any], transport: str, mgmt_index: int) -> dict[str, Any]:
    entry: dict[str, Any] = {"hostname": address(SWITCH_HOSTS, mgmt_index)}
    if transport == "roce":
        entry["platform"] = node.platform
        if node.platform == "eos":
            entry["port"] = EAPI_PORT
    entry["groups"] = [GROUPS[node.role]]
    data: dict[str, Any] = {}
    model = switch_model(node.platform, node.ports)
    if transport == "roce" and model is not None:
        data["asic"] = model.asic
    if transport == "infiniband":
        data["node_guid"] = guid(0xA0 if node.role == "spine" else 0xB0, 0, node.index)
    if node.pod is not None:
        data.update(pod=node.pod, rail=node.rail)
    entry["data"] = {**data, "interfaces": interfaces}
    return entry


def _server_host(node: Node, interfaces: dict[str, Any], transport: str) -> dict[str, Any]:
    data: dict[str, Any] = {}
    if node.pod is not None:
        data["pod"] = node.pod
    if transport == "infiniband":
        data["node_guid"] = guid(0xC0, 0, node.index)
    return {"hostname": address(SERVER_HOSTS, node.index), "groups": ["servers"],
            "data": {**data, "interfaces": interfaces}}


def _sm_host(node: Node, interfaces: dict[str, Any], nic: str) -> dict[str, Any]:
    return {"hostname": address(SERVER_HOSTS, node.index), "platform": "opensm", "username": "fabric",
            "data": {"role": "sm", "nic": nic, "node_guid": guid(0xD0, 0, 0), "interfaces": interfaces}}


def hosts(topology: Topology, transport: str, nic: str) -> dict[str, Any]:
    """hosts.yaml: switches (spines, then leaves), servers, then the subnet manager."""
    every = [*topology.switches(), *topology.servers, *([topology.sm] if topology.sm else [])]
    names = {node.name: _port_names(node, transport) for node in every}
    entries: dict[str, Any] = {}
    for i, node in enumerate(topology.switches()):
        entries[node.name] = _switch_host(node, _interfaces(node, names, transport), transport, i)
    for node in topology.servers:
        entries[node.name] = _server_host(node, _interfaces(node, names, transport), transport)
    if topology.sm is not None:
        entries["sm1"] = _sm_host(topology.sm, _interfaces(topology.sm, names, transport), nic)
    return entries


def groups(transport: str, nic: str) -> dict[str, Any]:
    """groups.yaml: roles, the server platform and NIC; InfiniBand switches are ib_switch."""
    servers = {"platform": "linux_mlx5", "username": "fabric", "data": {"role": "server", "nic": nic}}
    if transport == "roce":
        return {"spines": {"data": {"role": "spine"}}, "leaves": {"data": {"role": "leaf"}}, "servers": servers}
    return {"switches": {"platform": "ib_switch"},
            "spines": {"groups": ["switches"], "data": {"role": "spine"}},
            "leaves": {"groups": ["switches"], "data": {"role": "leaf"}}, "servers": servers}


def fabric_yaml(name: str, transport: str) -> dict[str, Any]:
    """fabric.yaml: the model defaults written out, so a user sees every knob there is to edit."""
    if transport == "roce":
        spec = FabricSpec(name=name, transport="roce")
        return spec.model_dump(mode="python", include={
            "name", "transport", "mtu", "host_mtu", "qos", "pfc", "buffers", "ecn", "dcqcn"})
    ib = InfinibandSpec(
        routing_engine="ftree,updn",
        qos=IbQosSpec(sl2vl=[*range(8), *range(8)]),  # the model default maps SL 8-14 past max_vls
        partitions=[Partition(name="compute", pkey="0x8001", ipoib=True, members=["ALL_CAS"])],
    )
    spec = FabricSpec(name=name, transport="infiniband", mtu=4096, host_mtu=4096, infiniband=ib)
    return spec.model_dump(mode="python", include={"name", "transport", "mtu", "host_mtu", "infiniband"})


def nic_model(speed_gbps: int) -> str:
    """The ConnectX generation for a server port speed."""
    return "ConnectX-8" if speed_gbps > 400 else "ConnectX-7"


def generate(kind: str, spines: int, leaves: int, servers: int, nics_per_server: int,
             platforms: list[str] | tuple[str, ...], transport: str = "roce", name: str | None = None,
             server_speed_gbps: int = 400, uplink_speed_gbps: int = 400, servers_per_leaf: int | None = None,
             spine_planes: int = 1) -> dict[str, dict[str, Any]]:
    """The four inventory files as data; raises ``ShapeError`` listing every problem with the arguments.

    >>> files = generate("clos", 2, 4, 8, 2, ["sonic", "eos"])
    >>> sorted(files), files["hosts.yaml"]["leaf1"]["data"]["interfaces"]["Ethernet0"]["peer"]
    (['defaults.yaml', 'fabric.yaml', 'groups.yaml', 'hosts.yaml'], 'spine1:Ethernet0')
    """
    if transport == "infiniband" and not platforms:
        platforms = ("ib_switch",)
    shape = Shape(kind, spines, leaves, servers, nics_per_server, tuple(platforms), transport,
                  name or f"{kind}-{transport}", server_speed_gbps, uplink_speed_gbps, servers_per_leaf,
                  spine_planes)
    problems = check_shape(shape)
    if problems:
        raise ShapeError(problems)
    topology = wire(shape)
    problems = capacity_problems(topology)
    if problems:
        raise ShapeError(problems)
    nic = nic_model(server_speed_gbps)
    return {
        "fabric.yaml": fabric_yaml(shape.name, transport),
        "hosts.yaml": hosts(topology, transport, nic),
        "groups.yaml": groups(transport, nic),
        "defaults.yaml": {"port": 22, "username": "admin", "password": "${FABRIC_PASSWORD}"},
    }
