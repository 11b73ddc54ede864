"""Inventory + ECMP routing + applied knobs + flows -> the ``Scenario`` arrays both engine tiers advance.

``Network`` is the static part (ports, links, cable delays, capacities and the leaf-spine graph), built once
from the inventory; ``Network.route`` picks each flow's path: shortest paths over the switch graph, and at
every switch a deterministic 5-tuple-style hash of the flow chooses among the equal-cost next hops, as an
ECMP ASIC does. Taking a link down removes it from the graph and re-hashes only the flows that crossed it
onto the remaining paths (flows whose own NIC link is down keep the dead hop: capacity 0, rate 0).

``scenario`` then adds the knob arrays (from each device's ``DeviceKnobs``) and the flow/flow-hop arrays.
"""

from __future__ import annotations

import math
import zlib
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from fabric.inventory.models import Fabric
from fabric.lab.physics.knobs import DcqcnKnobs, DeviceKnobs
from fabric.lab.physics.scenario import QUEUES, Scenario

LIGHT_SPEED_IN_FIBRE = 2e8  # m/s
HOST_ROLES = ("server", "sm")
I64 = NDArray[np.int64]
Column = Sequence[int] | Sequence[float] | NDArray[np.int64] | NDArray[np.float64]
DEFAULT_DCQCN = DcqcnKnobs()


class FlowLike(Protocol):
    """What the builder needs of a flow: the workload's ``FlowSpec`` (fabric.lab.workload) has these (and an
    optional ``after`` group, read when present)."""

    @property
    def src(self) -> tuple[str, str]: ...
    @property
    def dst(self) -> tuple[str, str]: ...
    @property
    def bytes(self) -> float: ...
    @property
    def start_s(self) -> float: ...
    @property
    def dscp(self) -> int: ...
    @property
    def tag(self) -> str: ...
    @property
    def group(self) -> str: ...


@dataclass
class Network:
    """Ports and links of a fabric, without knobs or flows. Port order: inventory device order, then the
    device's interface order; only interfaces whose peer is in the inventory are ports."""

    device: list[str]
    interface: list[str]
    peer: list[int]
    is_host: list[bool]
    speed_gbps: list[float]
    cable_m: list[float]
    switches: list[str]  # devices with a shared buffer, in order (index = Scenario.switch_of)
    down: set[int] = field(default_factory=set)  # ports whose link is down (both ends are listed)
    _index: dict[tuple[str, str], int] = field(default_factory=dict)
    _out: dict[str, list[int]] = field(default_factory=dict)  # device -> its ports
    _dist: dict[str, dict[str, int]] = field(default_factory=dict)  # target switch -> switch -> hops
    _choices: dict[tuple[str, str], list[int]] = field(default_factory=dict)  # (switch, target) -> next hops
    _table: _NextHops | None = None  # the same choices as arrays, for ``routes``

    @classmethod
    def from_fabric(cls, fabric: Fabric, default_cable_m: float | None = None) -> Network:
        cable_default = default_cable_m if default_cable_m is not None else float(
            fabric.spec.buffers.default_cable_length_m)
        ends: list[tuple[str, str]] = []
        for name, device in fabric.devices.items():
            for iface, port in device.interfaces.items():
                if port.peer and port.peer.split(":", 1)[0] in fabric.devices:
                    ends.append((name, iface))
        index = {end: p for p, end in enumerate(ends)}
        peers, hosts, speeds, cables = [], [], [], []
        for name, iface in ends:
            port = fabric.devices[name].interfaces[iface]
            peer_dev, _, peer_if = (port.peer or "").partition(":")
            if (peer_dev, peer_if) not in index:
                raise ValueError(f"{name}:{iface}: peer {port.peer} is not a port of the inventory")
            peers.append(index[(peer_dev, peer_if)])
            hosts.append(fabric.devices[name].role in HOST_ROLES)
            speeds.append(float(port.speed_gbps))
            cables.append(float(port.cable_length_m if port.cable_length_m is not None else cable_default))
        switches = [n for n, d in fabric.devices.items() if d.role not in HOST_ROLES]
        net = cls([e[0] for e in ends], [e[1] for e in ends], peers, hosts, speeds, cables, switches)
        net._index = index
        for p, name in enumerate(net.device):
            net._out.setdefault(name, []).append(p)
        return net

    @property
    def n_ports(self) -> int:
        return len(self.device)

    def port(self, device: str, interface: str) -> int:
        try:
            return self._index[(device, interface)]
        except KeyError:
            raise KeyError(f"{device}:{interface} is not a connected port of this fabric") from None

    def nic_ports(self, servers: Sequence[tuple[str, Sequence[str]]]) -> I64:
        """Port of each (server name, NIC interfaces)'s NICs: a (servers x widest) table padded with -1, so a
        batch's (host, NIC) columns gather their ports in one step."""
        width = max((len(nics) for _, nics in servers), default=1)
        table = np.full((max(len(servers), 1), width), -1, dtype=np.int64)
        for i, (name, nics) in enumerate(servers):
            table[i, :len(nics)] = [self.port(name, nic) for nic in nics]
        return table

    def set_down(self, ports: Iterable[int]) -> None:
        """Take these links down (both ends); routes are recomputed on the next ``route``."""
        self.down = set()
        for p in ports:
            self.down |= {p, self.peer[p]}
        self._dist.clear()
        self._choices.clear()
        self._table = None

    def _distances(self, target: str) -> dict[str, int]:
        """Hops from every switch to ``target`` over up switch-switch links (BFS, cached per target)."""
        if target not in self._dist:
            dist = {target: 0}
            queue = deque([target])
            while queue:
                here = queue.popleft()
                for p in self._out.get(here, []):
                    q = self.peer[p]
                    there = self.device[q]
                    if p in self.down or self.is_host[q] or there in dist:
                        continue
                    dist[there] = dist[here] + 1
                    queue.append(there)
            self._dist[target] = dist
        return self._dist[target]

    def route(self, src: int, dst: int, key: str) -> list[int] | None:
        """Egress ports from NIC port ``src`` to NIC port ``dst`` (the source NIC first, the last switch
        port towards ``dst`` last); ``key`` is the flow's hash input. None when no path is up."""
        path = [src]
        if src in self.down or dst in self.down:
            return None
        here, target = self.device[self.peer[src]], self.device[self.peer[dst]]
        dist = self._distances(target)
        if here not in dist:
            return None
        while here != target:
            choices = self._next_hops(here, target, dist)
            pick = choices[zlib.crc32(f"{key}|{here}".encode()) % len(choices)]
            path.append(pick)
            here = self.device[self.peer[pick]]
        path.append(self.peer[dst])
        return path

    def _next_hops(self, here: str, target: str, dist: dict[str, int]) -> list[int]:
        """Up switch ports of ``here`` one hop closer to ``target``, in interface order (the hash indexes it)."""
        choices = self._choices.get((here, target))
        if choices is None:
            choices = self._choices[(here, target)] = [
                p for p in self._out[here] if p not in self.down and not self.is_host[self.peer[p]]
                and dist.get(self.device[self.peer[p]], -1) == dist[here] - 1]
        return choices

    def routes(self, src: I64, dst: I64, keys: Keys) -> I64:
        """``route`` for many flows at once, as array operations: (flows x hops) egress ports padded with -1;
        a flow with no path up keeps its source NIC only. The same paths as ``route`` (the per-switch CRC32
        of ``key|switch`` comes from one CRC32 of the key: ``_CrcSuffix``); flows that do not start and end
        at a switch-attached NIC fall back to ``route``."""
        if self._table is None:
            self._table = _NextHops(self)
        return self._table.routes(np.asarray(src, dtype=np.int64), np.asarray(dst, dtype=np.int64), keys)


CRC_POLY = 0xEDB88320  # zlib's reflected CRC-32 polynomial


def _multmodp(a: int, b: int) -> int:
    """a x b modulo the CRC-32 polynomial (zlib's multmodp; bit 31 is x^0)."""
    m, p = 1 << 31, 0
    while a:
        if a & m:
            p ^= b
            if not a & (m - 1):
                break
        m >>= 1
        b = (b >> 1) ^ CRC_POLY if b & 1 else b >> 1
    return p


def _x8nmodp(n_bytes: int) -> int:
    """x^(8 n) modulo the polynomial: appending ``n_bytes`` bytes multiplies a CRC register by this."""
    p, square, n = 1 << 31, 1 << 30, 8 * n_bytes  # x^0, x^1
    while n:
        if n & 1:
            p = _multmodp(square, p)
        square = _multmodp(square, square)
        n >>= 1
    return p


class _CrcSuffix:
    """crc32(key + suffix) from crc32(key) as array operations (zlib's crc32_combine: the key's CRC times
    x^(8 len(suffix)), which is linear over GF(2), so four 256-entry byte tables apply it, XOR crc32(suffix));
    ``_NextHops`` stacks every switch's tables and applies them to all flows at once."""

    def __init__(self, suffix: bytes) -> None:
        shift = _x8nmodp(len(suffix))
        basis = np.array([_multmodp(shift, 1 << bit) for bit in range(32)], dtype=np.uint32)
        byte = np.arange(256, dtype=np.uint32)
        self.tables = np.zeros((4, 256), dtype=np.uint32)
        for j in range(4):
            for bit in range(8):
                self.tables[j] ^= np.where((byte >> bit) & 1, basis[8 * j + bit], np.uint32(0))
        self.crc = np.uint32(zlib.crc32(suffix))




def _crc_table() -> NDArray[np.uint32]:
    """zlib's byte-at-a-time CRC-32 table."""
    table = []
    for byte in range(256):
        c = byte
        for _ in range(8):
            c = (c >> 1) ^ CRC_POLY if c & 1 else c >> 1
        table.append(c)
    return np.array(table, dtype=np.uint32)


CRC_TABLE = _crc_table()


class KeyText:
    """ECMP hash inputs as columns: each key is the concatenation of ``parts`` (bytes literals, or int arrays
    written in decimal), e.g. ``KeyText(src, b">", dst, b"/", dscp, b"/", k)`` stands for the strings
    ``f"{src}>{dst}/{dscp}/{k}"``. ``crc32()`` is zlib.crc32 of every key as array operations (byte by byte,
    digits of shorter numbers masked out), so a batch of flows is hashed without a string per flow; indexing
    gives one key's text (for the few flows ``Network.routes`` hands to ``route``)."""

    def __init__(self, *parts: bytes | NDArray[np.integer]) -> None:
        self.parts = [p if isinstance(p, bytes) else np.asarray(p, dtype=np.int64) for p in parts]
        sizes = {p.size for p in self.parts if not isinstance(p, bytes)}
        if len(sizes) != 1 or any(not isinstance(p, bytes) and p.size and int(p.min()) < 0 for p in self.parts):
            raise ValueError("KeyText: the int columns must be non-negative and of one length")
        self.size = sizes.pop()

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, i: int) -> str:
        return "".join(p.decode() if isinstance(p, bytes) else str(int(p[i])) for p in self.parts)

    def take(self, index: NDArray[np.integer]) -> KeyText:
        """The keys at ``index``."""
        return KeyText(*(p if isinstance(p, bytes) else p[index] for p in self.parts))

    def crc32(self) -> NDArray[np.uint32]:
        crc = np.full(self.size, 0xFFFFFFFF, dtype=np.uint32)
        for part in self.parts if self.size else ():
            if isinstance(part, bytes):
                for byte in part:
                    crc = CRC_TABLE[(crc ^ np.uint32(byte)) & 0xFF] ^ (crc >> 8)
                continue
            widest = len(str(int(part.max())))
            digits = np.ones(self.size, dtype=np.int64)  # decimal digits of each number
            for d in range(1, widest):
                digits += part >= 10**d
            for j in range(widest - 1, -1, -1):  # most significant digit first
                byte = (part // 10**j % 10 + ord("0")).astype(np.uint32)
                crc = np.where(digits > j, CRC_TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8), crc)
        return np.asarray(crc ^ np.uint32(0xFFFFFFFF), dtype=np.uint32)


Keys = Sequence[str] | KeyText


def flow_keys(src: I64, dst: I64, dscp: I64, bucket: I64) -> KeyText:
    """The ECMP hash inputs the live twin gives its rows, ``f"{src}>{dst}/{dscp}/{bucket}"``, hashed as arrays."""
    return KeyText(src, b">", dst, b"/", dscp, b"/", bucket)


class _NextHops:
    """``Network``'s next-hop choices as arrays: row ``pair[here * S + target]`` of ``ports``/``count`` lists the
    up ports of switch ``here`` one hop closer to switch ``target`` (-1: not computed yet, -2: unreachable).
    Filled per target on first use (one BFS, as ``route`` does); rebuilt after ``set_down``."""

    def __init__(self, net: Network) -> None:
        self.net = net
        self.names = list(dict.fromkeys(net.switches + [d for d, h in zip(net.device, net.is_host, strict=True)
                                                        if not h]))
        self.sw_of = {name: i for i, name in enumerate(self.names)}
        s = len(self.names)
        self.port_sw = np.array([self.sw_of.get(d, -1) for d in net.device], dtype=np.int64)
        self.peer = np.array(net.peer, dtype=np.int64)
        self.down = np.zeros(net.n_ports, dtype=bool)
        self.down[list(net.down)] = True
        self.pair = np.full(s * s, -1, dtype=np.int64)
        self.rows: list[list[int]] = [[-1]]  # row 0: placeholder
        self.ports = np.zeros((1, 1), dtype=np.int64)
        self.count = np.ones(1, dtype=np.int64)
        suffix = [_CrcSuffix(f"|{name}".encode()) for name in self.names]
        # every switch's suffix tables stacked: one gather per byte of the key CRC for all flows at once
        self.suffix_tables = np.stack([sfx.tables for sfx in suffix]) if suffix else np.zeros((0, 4, 256), np.uint32)
        self.suffix_crc = np.array([sfx.crc for sfx in suffix], dtype=np.uint32)

    def _fill(self, targets: I64) -> None:
        net, s = self.net, len(self.names)
        for t in targets.tolist():
            target = self.names[t]
            dist = net._distances(target)
            for here, h in self.sw_of.items():
                if here == target:
                    continue
                choices = net._next_hops(here, target, dist) if here in dist else []
                if choices:
                    self.pair[h * s + t] = len(self.rows)
                    self.rows.append(choices)
                else:
                    self.pair[h * s + t] = -2
        width = max(len(r) for r in self.rows)
        self.ports = np.array([r + [-1] * (width - len(r)) for r in self.rows], dtype=np.int64)
        self.count = np.array([len(r) for r in self.rows], dtype=np.int64)

    def _suffix(self, sw: I64, key_crc: NDArray[np.uint32]) -> NDArray[np.uint32]:
        """crc32(key + "|" + switch name) per flow from its key's CRC and its switch ``sw``."""
        t = self.suffix_tables
        return np.asarray(t[sw, 0, key_crc & 0xFF] ^ t[sw, 1, (key_crc >> 8) & 0xFF] ^ t[sw, 2, (key_crc >> 16) & 0xFF]
                          ^ t[sw, 3, key_crc >> 24] ^ self.suffix_crc[sw])

    def routes(self, src: I64, dst: I64, keys: Keys) -> I64:
        n_flows, s = src.size, len(self.names)
        key_crc = keys.crc32() if isinstance(keys, KeyText) else np.fromiter(
            map(zlib.crc32, map(str.encode, keys)), dtype=np.uint32, count=n_flows)
        here, target = self.port_sw[self.peer[src]], self.port_sw[self.peer[dst]]
        scalar = (here < 0) | (target < 0)
        ok = ~scalar & ~self.down[src] & ~self.down[dst]
        cols = [src]
        moving = ok & (here != target)
        for _ in range(s + 1):
            if not moving.any():
                break
            code = here * s + target
            unknown = moving & (self.pair[code] == -1)
            if unknown.any():
                self._fill(np.unique(target[unknown]))
            row = np.where(moving, self.pair[code], 0)
            ok &= ~(moving & (row == -2))
            moving &= ok
            row = np.where(moving, row, 0)
            crc = self._suffix(np.maximum(here, 0), key_crc)
            pick = self.ports[row, crc.astype(np.int64) % self.count[row]]
            cols.append(np.where(moving, pick, -1))
            here = np.where(moving, self.port_sw[self.peer[np.maximum(pick, 0)]], here)
            moving &= here != target
        cols.append(self.peer[dst])
        paths = np.stack(cols, axis=1)
        paths[:, 1:] = np.where(ok[:, None], paths[:, 1:], -1)
        # left-align: drop the -1 holes a shorter path left before its last hop
        keep = paths >= 0
        order = np.argsort(~keep, axis=1, kind="stable")
        paths = np.take_along_axis(paths, order, axis=1)
        for f in np.flatnonzero(scalar).tolist():
            path = self.net.route(int(src[f]), int(dst[f]), keys[f]) or [int(src[f])]
            if len(path) > paths.shape[1]:
                paths = np.pad(paths, ((0, 0), (0, len(path) - paths.shape[1])), constant_values=-1)
            paths[f] = -1
            paths[f, :len(path)] = path
        return paths


def flow_key(flow: FlowLike, ordinal: int) -> str:
    """The ECMP hash input: endpoints, DSCP and a per-flow source port (RoCE varies the UDP source port)."""
    return f"{flow.src[0]}:{flow.src[1]}>{flow.dst[0]}:{flow.dst[1]}/{flow.dscp}/{ordinal}"


def knob_arrays(net: Network, knobs: Mapping[str, DeviceKnobs]) -> dict[str, np.ndarray]:
    """The per-port (and per port x queue/priority) knob arrays of a Scenario from each device's knobs."""
    n = net.n_ports
    arrays: dict[str, np.ndarray] = {
        "mtu": np.zeros(n, dtype=np.int64), "ecn_kmin": np.zeros((n, QUEUES)), "ecn_kmax": np.zeros((n, QUEUES)),
        "ecn_pmax": np.zeros((n, QUEUES)), "pfc_enabled": np.zeros((n, QUEUES), dtype=bool),
        "xoff": np.full((n, QUEUES), np.nan), "xon": np.full((n, QUEUES), np.nan), "alpha": np.ones((n, QUEUES)),
        "headroom": np.zeros((n, QUEUES)), "watchdog_detect_s": np.full(n, np.nan),
        "watchdog_restore_s": np.full(n, np.nan)}
    for p in range(n):
        dev = knobs.get(net.device[p]) or DeviceKnobs(device=net.device[p])
        pk = dev.port(net.interface[p])
        arrays["mtu"][p] = pk.mtu
        for q, ecn in pk.ecn.items():
            arrays["ecn_kmin"][p, q], arrays["ecn_kmax"][p, q], arrays["ecn_pmax"][p, q] = (
                ecn.kmin_bytes, max(ecn.kmax_bytes, ecn.kmin_bytes + 1), ecn.pmax)
        for prio in pk.pfc_priorities:
            arrays["pfc_enabled"][p, prio] = True
            arrays["headroom"][p, prio] = pk.headroom_bytes
            arrays["alpha"][p, prio] = pk.dynamic_alpha
            if pk.xoff_bytes is not None:
                arrays["xoff"][p, prio] = pk.xoff_bytes
                arrays["xon"][p, prio] = pk.xon_bytes if pk.xon_bytes is not None else max(
                    0, pk.xoff_bytes - 2 * pk.mtu)
        if pk.watchdog is not None:
            arrays["watchdog_detect_s"][p] = pk.watchdog.detect_ms / 1e3
            arrays["watchdog_restore_s"][p] = pk.watchdog.restore_ms / 1e3
    return arrays


class Builder:
    """Scenarios over one ``Network`` with one set of applied knobs. The port and knob arrays are built once
    and shared by every Scenario it returns (the live engine adds a batch of flows per epoch), and so are the
    per-device DSCP -> queue / PG tables the flow-hops are looked up in.
    ``slow_receivers``: NIC ports that drain at 25 %."""

    def __init__(self, net: Network, knobs: Mapping[str, DeviceKnobs], slow_receivers: Iterable[int] = ()) -> None:
        self.net = net
        self.knobs = {name: knobs.get(name) or DeviceKnobs(device=name) for name in dict.fromkeys(net.device)}
        capacity = np.array(net.speed_gbps) * 1e9 / 8
        capacity[list(net.down)] = 0.0
        sink = np.where(np.array(net.is_host), capacity, 0.0)
        sink[list(slow_receivers)] *= 0.25
        switch_index = {name: i for i, name in enumerate(net.switches)}
        arrays = knob_arrays(net, self.knobs)
        i64 = np.int64
        self.ports: dict[str, object] = dict(
            device=list(net.device), interface=list(net.interface), peer=np.array(net.peer, dtype=i64),
            is_host=np.array(net.is_host, dtype=bool),
            switch_of=np.array([switch_index.get(d, -1) for d in net.device], dtype=i64),
            capacity=capacity, delay_s=np.array(net.cable_m) / LIGHT_SPEED_IN_FIBRE, sink_capacity=sink,
            buffer_bytes=np.array([float(self.knobs[s].buffer_bytes) for s in net.switches]), **arrays)
        names = list(dict.fromkeys(net.device))
        self.device_index = _positions(names, net.device)
        # per device and DSCP: the egress queue (DSCP -> TC -> queue) and the ingress priority group
        self.queue_of = np.array([[self.knobs[d].queue_of(c) for c in range(64)] for d in names], dtype=i64)
        self.pg_of = np.array([[self.knobs[d].dscp_to_tc.get(c, 0) if self.knobs[d].trust == "dscp" else 0
                                for c in range(64)] for d in names], dtype=i64)
        self.port_dcqcn = np.empty(net.n_ports, dtype=object)  # per port: gathered per flow in one step
        self.port_dcqcn[:] = [self.knobs[d].dcqcn or DEFAULT_DCQCN for d in net.device]

    def build(self, src: Column, dst: Column, size: Column, start: Column, dscp: Column, keys: Keys,
              tags: Sequence[str], groups: Sequence[str], after: Sequence[str] = (),
              paths: I64 | None = None) -> Scenario:
        """The Scenario of these flows (columns, lists or arrays; ports are indices of ``net``; ``keys`` feed
        the ECMP hash: strings, or a ``KeyText`` that hashes them as arrays; ``paths``: what
        ``Network.routes`` gave for them, when the caller has routed them already).
        Routing, queue and PG lookups are array operations over all flows (``Network.routes``); a flow with
        no path up keeps its source NIC hop only (and ends at a dead port: it gets no rate)."""
        i64 = np.int64
        src_a, dst_a = np.asarray(src, dtype=i64), np.asarray(dst, dtype=i64)
        dscp_a = np.asarray(dscp, dtype=i64)
        if paths is None:
            paths = self.net.routes(src_a, dst_a, keys) if src_a.size else np.zeros((0, 1), dtype=i64)
        hop = paths >= 0
        hop_flow, col = np.nonzero(hop)
        hop_port = paths[hop]
        code = np.repeat(dscp_a, hop.sum(axis=1)) & 63
        dev = self.device_index[hop_port]
        peer = np.asarray(self.ports["peer"])
        before = np.where(col > 0, peer[paths[hop_flow, np.maximum(col - 1, 0)]], -1)
        return Scenario(
            **self.ports,  # type: ignore[arg-type]
            flow_src=src_a, flow_dst=dst_a, flow_bytes=np.asarray(size, dtype=float),
            flow_start_s=np.asarray(start, dtype=float), flow_dscp=dscp_a,
            flow_tag=list(tags), flow_group=list(groups), flow_after=list(after),
            dcqcn=self.port_dcqcn[src_a].tolist(),
            hop_flow=hop_flow.astype(i64), hop_port=hop_port.astype(i64), hop_queue=self.queue_of[dev, code],
            hop_ingress=before.astype(i64), hop_pg=self.pg_of[dev, code],
            notes={"builder": "topology", "hash": "crc32 per switch"})


def _positions(names: list[str], items: list[str]) -> I64:
    index = {name: i for i, name in enumerate(names)}
    return np.array([index[x] for x in items], dtype=np.int64)


def scenario(net: Network, knobs: Mapping[str, DeviceKnobs], flows: Sequence[FlowLike],
             first_ordinal: int = 0, slow_receivers: Iterable[int] = ()) -> Scenario:
    """The Scenario of ``flows`` over ``net`` with ``knobs`` applied. A flow's queue at each hop comes from
    that device's DSCP->TC->queue map and its PG from the DSCP->TC map of the device it arrives at; ports
    that are down get capacity 0 (see ``Builder``)."""
    return Builder(net, knobs, slow_receivers).build(
        [net.port(*f.src) for f in flows], [net.port(*f.dst) for f in flows], [float(f.bytes) for f in flows],
        [f.start_s for f in flows], [f.dscp for f in flows],
        [flow_key(f, first_ordinal + i) for i, f in enumerate(flows)], [f.tag for f in flows],
        [f.group for f in flows], [getattr(f, "after", "") for f in flows])  # FlowSpec's dependency, if any


def cable_headroom_need(net: Network, p: int, mtu: int) -> float:
    """Bytes in flight after XOFF on the link of port ``p`` (reference §4.4: 2 C d + 2 MTU + C t_response,
    t_response one 1 us PFC reaction): what the ingress headroom must hold to stay lossless."""
    capacity = net.speed_gbps[p] * 1e9 / 8
    delay = net.cable_m[p] / LIGHT_SPEED_IN_FIBRE
    return math.ceil(2 * capacity * delay + 2 * mtu + capacity * 1e-6)
