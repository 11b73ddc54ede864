"""Tier E's row store: the engine's flows as columns (``Flows``, one row per flow or per aggregate of a tick's
mice), their hops as a table of distinct paths (``PathTable``: flows of one source, destination and class share a
path, so an epoch's per-hop work is per path, not per flow x hop), and the ground truth of finished rows
(``Completed``). ``flows_of`` makes both from a Scenario's flow and flow-hop arrays."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fabric.lab.physics.scenario import F64, I64, QUEUES, B, Scenario

COMPLETED_KEEP = 100_000
PATH_MIX = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93],
                    dtype=np.uint64)


def row_hash(columns: I64) -> NDArray[np.uint64]:
    """A multiplicative hash per row of non-negative-or--1 ints; -1 padding adds nothing, so rows padded to
    different widths hash alike."""
    w = columns.shape[1]
    mix = PATH_MIX[np.arange(w) % PATH_MIX.size] + np.arange(w, dtype=np.uint64) * np.uint64(2)
    return np.asarray(((columns.astype(np.uint64) + np.uint64(1)) * mix).sum(axis=1), dtype=np.uint64)


class PathTable:
    """The distinct paths of the engine's flows (queue/sink, port and ingress-slot columns per hop), numbered
    as flows arrive, so an epoch works on the few paths its flows use (flows of one source, destination and
    class share one) instead of on flows x hops. Rows are matched exactly (a hash finds candidates: a sorted
    array of the rows' hashes, searched for a whole batch at once); they live in buffers grown geometrically,
    so adding a batch copies the batch, not the table."""

    FILL = (("res_q", -1), ("res_p", -1), ("jp", -1), ("sink", False))

    def __init__(self) -> None:
        self.size = 0
        self._buf: dict[str, NDArray[Any]] = {name: np.full((0, 1), fill, dtype=bool if name == "sink" else np.int64)
                                              for name, fill in self.FILL}
        self._keys = np.zeros(0, dtype=np.uint64)  # each row's hash
        self._sorted = np.zeros(0, dtype=np.uint64)  # the distinct hashes, sorted ...
        self._sorted_id = np.zeros(0, dtype=np.int64)  # ... and the newest row with each

    @property
    def res_q(self) -> I64:
        return self._buf["res_q"][:self.size]

    @property
    def res_p(self) -> I64:
        return self._buf["res_p"][:self.size]

    @property
    def jp(self) -> I64:
        return self._buf["jp"][:self.size]

    @property
    def sink(self) -> B:
        return self._buf["sink"][:self.size]

    @property
    def keys(self) -> NDArray[np.uint64]:
        return self._keys[:self.size]

    def _find(self, keys: NDArray[np.uint64]) -> tuple[I64, B, I64]:
        """(insertion position in the sorted hashes, found, the row with that hash or -1) per key."""
        pos = np.searchsorted(self._sorted, keys)
        if not self._sorted.size:
            return pos, np.zeros(keys.size, dtype=bool), np.full(keys.size, -1, dtype=np.int64)
        at = np.minimum(pos, self._sorted.size - 1)  # past the end: the largest hash, which is smaller
        found = self._sorted[at] == keys
        return pos, found, np.where(found, self._sorted_id[at], -1)

    def _reserve(self, rows: int, width: int) -> None:
        """Room for ``rows`` rows of ``width`` columns (capacity doubled, narrower rows padded)."""
        cap, have = self._buf["res_q"].shape
        if rows <= cap and width <= have:
            return
        cap = max(rows, 2 * cap) if rows > cap else cap
        width = max(width, have)
        for name, fill in self.FILL:
            old = self._buf[name]
            new = np.full((cap, width), fill, dtype=old.dtype)
            new[:self.size, :old.shape[1]] = old[:self.size]
            self._buf[name] = new
        keys = np.zeros(cap, dtype=np.uint64)
        keys[:self.size] = self._keys[:self.size]
        self._keys = keys

    def add(self, fl: Hops) -> I64:
        """Each flow's path id (new paths appended)."""
        n, w = fl.res_q.shape
        if n == 0:
            return np.zeros(0, dtype=np.int64)
        both = np.concatenate([fl.res_q, fl.jp], axis=1)
        # each block hashed alone: a row's hash does not depend on the batch's width (padding adds nothing)
        hashed = row_hash(fl.res_q) + row_hash(fl.jp) * np.uint64(0x9E3779B97F4A7C15)
        keys, first, inv = np.unique(hashed, return_index=True, return_inverse=True)
        inv = inv.reshape(-1)
        collision = not bool((both[first][inv] == both).all())
        if collision:  # a hash collision inside the batch: no sharing
            keys, first, inv = np.arange(n, dtype=np.uint64), np.arange(n), np.arange(n)
        pos, found, known = self._find(keys)
        if collision:
            known[:] = -1
        width = max(w, self.res_q.shape[1])
        hit = np.flatnonzero(known >= 0)
        if hit.size:  # exact check against the stored rows
            mine = _pad(both[first[hit]], 2, w, width)
            theirs = np.concatenate([_pad(self.res_q[known[hit]], 1, self.res_q.shape[1], width),
                                     _pad(self.jp[known[hit]], 1, self.jp.shape[1], width)], axis=1)
            known[hit[(mine != theirs).any(axis=1)]] = -1
        fresh = np.flatnonzero(known < 0)
        known[fresh] = self.size + np.arange(fresh.size)
        # the lookup: a fresh row whose hash is known (another path) takes the hash over; others are inserted
        taken = fresh[found[fresh]]
        self._sorted_id[pos[taken]] = known[taken]
        new = fresh[~found[fresh]]
        self._sorted = np.insert(self._sorted, pos[new], keys[new])
        self._sorted_id = np.insert(self._sorted_id, pos[new], known[new])
        rows, end = first[fresh], self.size + fresh.size
        self._reserve(end, width)
        for name, _ in self.FILL:
            add = getattr(fl, name)[rows]
            self._buf[name][self.size:end, :add.shape[1]] = add
        self._keys[self.size:end] = keys[fresh]
        self.size = end
        return np.asarray(known[inv], dtype=np.int64)

    def keep(self, used: I64) -> I64:
        """Keep only the paths ``used`` (sorted ids); returns the new id of every old one (-1: dropped)."""
        new_id = np.full(self.size, -1, dtype=np.int64)
        new_id[used] = np.arange(used.size)
        for name, _ in self.FILL:
            self._buf[name] = self._buf[name][used]
        self._keys = self._keys[used]
        self.size = int(used.size)
        # the lookup again (``add`` checks rows exactly): per distinct hash, its newest row
        order = np.argsort(self._keys, kind="stable")
        ordered = self._keys[order]
        last = np.append(ordered[1:] != ordered[:-1], True) if order.size else np.zeros(0, dtype=bool)
        self._sorted, self._sorted_id = ordered[last], order[last]
        return new_id


def _pad(block: I64, parts: int, width: int, to: int) -> I64:
    """``parts`` side-by-side blocks of ``width`` columns each padded with -1 to ``to`` columns."""
    return np.concatenate([np.pad(block[:, i * width:(i + 1) * width], ((0, 0), (0, to - width)),
                                  constant_values=-1) for i in range(parts)], axis=1)


@dataclass
class Hops:
    """A batch's flow-hop matrices (flows x columns; the last used column is the sink): registered in the
    engine's ``PathTable`` as the flows arrive, not kept per flow."""

    port: I64  # (F, W) egress port per column, -1 padding; the sink column holds the destination NIC port
    jp: I64  # (F, W) ingress port x 8 + PG feeding this column, -1 at the source NIC
    sink: B  # (F, W) the sink column
    res_q: I64  # (F, W) the column's queue resource: port x 8 + queue (a sink's: n x 8 + that), -1 padding
    res_p: I64  # (F, W) the column's port resource (2 n x 8 + port) at an egress, -1 elsewhere


@dataclass
class Flows:
    """Per-flow state; the hops are the flow's path in the engine's ``PathTable`` (``pid``)."""

    src: I64
    dst: I64
    size: F64
    start: F64
    remaining: F64
    dscp: I64
    nic_rate: F64
    cc: B  # DCQCN reaction point enabled on the flow's priority
    np_on: B
    cnp_s: F64
    rai: F64  # bytes/s
    timer_s: F64
    byte_reset: F64
    tau_alpha_s: F64
    cut_s: F64
    rtt_s: F64
    routed: B  # the flow has a first hop (its source NIC's port is up)
    pid: I64  # the flow's path in the engine's PathTable
    gid: I64  # the flow's group, numbered by the engine (completions are counted per group)
    after: I64  # the group this flow waits for (-1: none); while it waits its start is +inf
    not_before: F64  # a waiting flow starts at the later of this and its group's last completion
    serial: B  # waits for another launch's group (a collective's launch after the one before: skippable)
    tag: list[str]
    group: list[str]
    members: F64  # flows this row stands for (the live runner aggregates mice of one tick and pair)
    max_rate: F64  # an aggregate row sends its members' bytes spread over their window, not at line rate
    done: F64 = field(default_factory=lambda: np.zeros(0))
    delivered: F64 = field(default_factory=lambda: np.zeros(0))


@dataclass
class Completed:
    """Ground truth of finished flows (mean member size and member count per row); the oldest rows are
    forgotten beyond ``COMPLETED_KEEP`` so a long-running twin stays bounded."""

    weight: list[float] = field(default_factory=list)
    size: list[float] = field(default_factory=list)
    fct_s: list[float] = field(default_factory=list)
    wait_s: list[float] = field(default_factory=list)  # the mean queueing wait in fct_s
    busy: list[float] = field(default_factory=list)  # the share of the row's flows that wait at all
    ideal_s: list[float] = field(default_factory=list)
    start_s: list[float] = field(default_factory=list)
    done_s: list[float] = field(default_factory=list)
    tag: list[str] = field(default_factory=list)
    group: list[str] = field(default_factory=list)


def flows_of(sc: Scenario) -> tuple[Flows, Hops]:
    """The engine's flow arrays and the flows' hop matrices from a Scenario's flow and flow-hop arrays."""
    nf = sc.n_flows
    in_order = bool((sc.hop_flow[1:] >= sc.hop_flow[:-1]).all())  # as Builder makes them: no sort
    order = slice(None) if in_order else np.argsort(sc.hop_flow, kind="stable")
    hf = sc.hop_flow[order]
    counts = np.bincount(hf, minlength=nf)
    first = np.concatenate(([0], np.cumsum(counts)[:-1])) if nf else np.zeros(0, dtype=np.int64)
    col = np.arange(hf.size) - first[hf]
    width = int(counts.max()) + 1 if nf else 1
    port = np.full((nf, width), -1, dtype=np.int64)
    queue = np.zeros((nf, width), dtype=np.int64)
    jp = np.full((nf, width), -1, dtype=np.int64)
    port[hf, col] = sc.hop_port[order]
    queue[hf, col] = sc.hop_queue[order]
    ing = sc.hop_ingress[order]
    jp[hf, col] = np.where(ing >= 0, ing * QUEUES + sc.hop_pg[order], -1)
    rows = np.arange(nf)
    last_port = port[rows, counts - 1] if nf else np.zeros(0, dtype=np.int64)
    # sink column: the destination NIC, fed through its own ingress, PG = the last hop's queue
    last_q = queue[rows, counts - 1] if nf else np.zeros(0, dtype=np.int64)
    reaches = sc.peer[last_port] == sc.flow_dst if nf else np.zeros(0, dtype=bool)
    port[rows, counts] = np.where(reaches, sc.flow_dst, -1)
    queue[rows, counts] = last_q
    jp[rows, counts] = np.where(reaches, sc.flow_dst * QUEUES + last_q, -1)
    sink = np.zeros((nf, width), dtype=bool)
    sink[rows, counts] = reaches
    first_q = queue[:, 0] if nf else np.zeros(0, dtype=np.int64)
    npq = sc.n_ports * QUEUES
    valid = port >= 0
    res_q = np.where(valid, np.where(sink, npq, 0) + port * QUEUES + queue, -1)
    res_p = np.where(valid & ~sink, 2 * npq + port, -1)
    delay = np.where(port >= 0, sc.delay_s[np.maximum(port, 0)], 0.0).sum(axis=1) if nf else np.zeros(0)
    mtu = sc.mtu[sc.flow_src].astype(float) if nf else np.zeros(0)
    hops = Hops(port=port, jp=jp, sink=sink, res_q=res_q, res_p=res_p)
    cc, np_on, cnp_s, rai, timer_s, byte_reset, tau_alpha_s, cut_s = _dcqcn_columns(sc, first_q, mtu)
    return Flows(
        src=sc.flow_src.copy(), dst=sc.flow_dst.copy(), size=sc.flow_bytes.astype(float),
        start=sc.flow_start_s.astype(float), remaining=sc.flow_bytes.astype(float), dscp=sc.flow_dscp.copy(),
        nic_rate=sc.capacity[sc.flow_src].astype(float),
        cc=cc, np_on=np_on, cnp_s=cnp_s, rai=rai, timer_s=timer_s, byte_reset=byte_reset, tau_alpha_s=tau_alpha_s,
        cut_s=cut_s,
        rtt_s=2 * delay, routed=port[:, 0] >= 0, pid=np.zeros(nf, dtype=np.int64), gid=np.zeros(nf, dtype=np.int64),
        after=np.full(nf, -1, dtype=np.int64), not_before=sc.flow_start_s.astype(float),
        serial=np.zeros(nf, dtype=bool),
        tag=list(sc.flow_tag), group=list(sc.flow_group) or list(sc.flow_tag), members=np.ones(nf),
        max_rate=np.full(nf, np.inf),
        done=np.full(nf, np.nan), delivered=np.zeros(nf)), hops



def _dcqcn_columns(sc: Scenario, first_q: I64, mtu: F64) -> tuple[B, B, F64, F64, F64, F64, F64, F64]:
    """The flows' DCQCN knobs as ``Flows`` columns (cc, np_on, cnp_s, rai, timer_s, byte_reset, tau_alpha_s,
    cut_s): a handful of distinct objects (one per NIC configuration), looked up per flow; ``first_q``: each
    flow's first queue (its priority), ``mtu``: its source NIC's MTU (the byte counter's floor)."""
    nf = sc.n_flows
    ids = np.fromiter(map(id, sc.dcqcn), dtype=np.int64, count=nf)
    _, first_of, code = np.unique(ids, return_index=True, return_inverse=True)
    code = code.reshape(-1)
    kinds = [sc.dcqcn[i] for i in first_of.tolist()]

    def per_flow(values: list[float]) -> F64:
        return np.asarray(np.array(values, dtype=float)[code] if nf else np.zeros(0))

    def enabled(sets: list[frozenset[int]]) -> B:
        table = np.array([[q in prios for q in range(QUEUES)] for prios in sets], dtype=bool).reshape(-1, QUEUES)
        return np.asarray(table[code, first_q] if nf else np.zeros(0, dtype=bool))

    return (enabled([d.rp_enabled_priorities for d in kinds]), enabled([d.np_enabled_priorities for d in kinds]),
            per_flow([d.min_time_between_cnps_us * 1e-6 for d in kinds]),
            per_flow([d.rpg_ai_rate_mbps * 1e6 / 8 for d in kinds]),
            per_flow([d.rpg_time_reset_us * 1e-6 for d in kinds]),
            np.maximum(per_flow([float(d.rpg_byte_reset) for d in kinds]), mtu),
            per_flow([d.dce_tcp_rtt_us * 1e-6 for d in kinds]),
            per_flow([d.rate_reduce_monitor_period_us * 1e-6 for d in kinds]))


def concat_flows(a: Flows, b: Flows) -> Flows:
    out: dict[str, Any] = {}
    for name in Flows.__dataclass_fields__:
        x, y = getattr(a, name), getattr(b, name)
        out[name] = x + y if isinstance(x, list) else np.concatenate([x, y])
    return Flows(**out)


def take_flows(a: Flows, keep: B) -> Flows:
    idx = np.flatnonzero(keep)
    out: dict[str, Any] = {}
    for name in Flows.__dataclass_fields__:
        x = getattr(a, name)
        out[name] = list(map(x.__getitem__, idx.tolist())) if isinstance(x, list) else x[idx]
    return Flows(**out)
