"""Event-driven phases: incast bursts, ring all-reduce, all-to-all (and, in llm.py, training iterations).

Each phase builds a *template* once per host list: a ``FlowBatch`` of one launch, with start times relative to
the launch and group names as suffixes. A launch stamps the template at an event time and names its groups
``"<tag>@<launch time, s>"`` + suffix, so every collective instance and step has a unique, readable id.

Dependencies are modelled as groups, not as pre-computed start times: step k+1 of a ring all-reduce carries
``after = <step k's group>`` and the engine starts it when the last flow of step k is done (a per-step
barrier: conservative against NCCL, which pipelines chunks, but it makes collective completion time the
fabric's doing). Its ``start_s`` is the launch time, a lower bound.

Launches of one collective are serial, as NCCL runs the collectives of one communicator in order: the first
step of a launch waits for the last step of the launch one period before (its ``after`` names that launch's
group, another ``<tag>@<time>`` prefix: ``groups.launch_of``). The engine starts it at the later of its own
time and that completion, and skips a launch still waiting when the next one is due, so a collective slower
than its period runs back to back instead of piling up.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from fabric.lab.workload.errors import WorkloadError, check_flow_rate
from fabric.lab.workload.flows import FlowBatch
from fabric.lab.workload.hosts import Host, select
from fabric.lab.workload.schema import AllreducePhase, AlltoallPhase, HostSelect, IncastPhase, Phase
from fabric.lab.workload.timeline import Clock, event_times

F64 = NDArray[np.float64]
Row = tuple[int, int, int, int, float, float, int, int]  # src host, src NIC, dst host, dst NIC, bytes,
#                                                           offset s, group, after (-1: none)
Cols = tuple[NDArray[np.int64], ...]  # the same eight fields as columns (bytes and offset as float64)


def cols(rows: list[Row]) -> Cols:
    """Rows as the eight columns of a ``Cols`` block."""
    return tuple(np.array([r[k] for r in rows], dtype=float if k in (4, 5) else np.int64) for k in range(8))


def template(blocks: list[Cols], suffixes: list[str]) -> FlowBatch:
    """A launch template from column blocks; group/after index ``suffixes``. A flow's ``after`` -2 - k marks
    the first step of a serial collective whose last step is group k: ``launch`` makes it wait for group k of
    the launch before."""
    c = [blocks[0][k] if len(blocks) == 1 else np.concatenate([b[k] for b in blocks]) if blocks else np.zeros(0)
         for k in range(8)]
    n = len(c[0])
    ints = [c[k].astype(np.int64, copy=False) for k in (0, 1, 2, 3, 6, 7)]
    return FlowBatch(ints[0], ints[1], ints[2], ints[3], c[4].astype(float, copy=False),
                     c[5].astype(float, copy=False),
                     np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64), ints[4], ints[5], [""], suffixes)


def ring(members: list[int], rails: int, size_bytes: float, offset_s: float = 0.0, first_group: int = 0) -> Cols:
    """A ring all-reduce of ``size_bytes`` per member over ``rails`` parallel rings: 2(N-1) steps, member i ->
    member i+1, ``size_bytes / (N x rails)`` per flow; groups ``first_group + step``, each after the last, the
    first after the last step of the launch before (serial, see ``template``)."""
    n = len(members)
    step, rail, i = (a.ravel() for a in np.meshgrid(np.arange(2 * (n - 1)), np.arange(rails), np.arange(n),
                                                   indexing="ij"))
    ids = np.asarray(members, dtype=np.int64)
    last = first_group + 2 * (n - 1) - 1
    return (ids[i], rail, ids[(i + 1) % n], rail, np.full(len(i), size_bytes / (n * rails)),
            np.full(len(i), offset_s), first_group + step, np.where(step > 0, first_group + step - 1, -2 - last))


def alltoall(members: list[int], rails: int, size_bytes: float) -> Cols:
    """Every member to every other member on every rail, ``size_bytes / (N x rails)`` each; one group."""
    n = len(members)
    a, b, rail = (x.ravel() for x in np.meshgrid(np.arange(n), np.arange(n), np.arange(rails), indexing="ij"))
    keep = a != b
    ids = np.asarray(members, dtype=np.int64)
    a, b, rail = a[keep], b[keep], rail[keep]
    zeros = np.zeros(len(a), dtype=np.int64)
    return (ids[a], rail, ids[b], rail, np.full(len(a), size_bytes / (n * rails)), zeros.astype(float), zeros,
            zeros - 2)  # serial: after group 0 of the launch before


def ring_suffixes(n: int, name: str = "") -> list[str]:
    return [f"{name}/s{k}" for k in range(2 * (n - 1))]


def launch(tpl: FlowBatch, times: F64, tag: str, dscp: int, before: F64 | None = None) -> FlowBatch:
    """The template stamped at every time of ``times``. ``before``: per launch, the time of the launch before
    it (NaN: none); a serial collective's first step then waits for its last step in that launch (named by its
    time when it is not in ``times``: the engine ignores a group it does not know, one that ended long ago)."""
    e, n, g = len(times), len(tpl), len(tpl.groups)
    event = np.repeat(np.arange(e, dtype=np.int64), n)
    after = np.tile(tpl.after, e)
    stamped = np.where(after >= 0, after + event * g, -1)
    groups = [f"{tag}@{t:.6f}{s}" for t in times.tolist() for s in tpl.groups]
    serial = after <= -2
    if before is not None and e and serial.any():
        prev = np.full(e, -1, dtype=np.int64)  # per launch: the launch it follows, as a position in groups // g
        inside = np.zeros(e, dtype=bool)
        inside[1:] = before[1:] == times[:-1]
        prev[inside] = np.flatnonzero(inside) - 1
        if not np.isnan(before[0]):  # the first launch's predecessor came in an earlier window: named here
            prev[0] = e
            groups += [f"{tag}@{before[0]:.6f}{s}" for s in tpl.groups]
        waits = serial & (prev[event] >= 0)
        stamped[waits] = -2 - after[waits] + prev[event[waits]] * g
    return FlowBatch(np.tile(tpl.src_host, e), np.tile(tpl.src_nic, e), np.tile(tpl.dst_host, e),
                     np.tile(tpl.dst_nic, e), np.tile(tpl.bytes, e), np.tile(tpl.start_s, e) + np.repeat(times, n),
                     np.full(e * n, dscp, dtype=np.int64), np.zeros(e * n, dtype=np.int64),
                     np.tile(tpl.group, e) + event * g, stamped, [tag], groups)


def members_of(hosts: Sequence[Host], sel: HostSelect, where: str, at_least: int = 2) -> list[int]:
    picked = select(hosts, sel)
    if len(picked) < at_least:
        raise WorkloadError.at(where, f"selects {len(picked)} servers of this inventory, needs at least {at_least}",
                               "widen the names/pods selection")
    return picked


def rails_of(hosts: Sequence[Host], members: list[int]) -> int:
    """Parallel rings/rails: NIC k of every member talks to NIC k; as many as the member with fewest NICs."""
    return min(len(hosts[i].nics) for i in members)


def busiest_nic(tpl: FlowBatch, hosts: Sequence[Host]) -> tuple[float, float, str]:
    """The NIC one launch of ``tpl`` keeps busiest: (seconds its bytes, sent or received, take at its line rate,
    those bytes, ``"server:interface"``); the least time a launch can take."""
    best = (0.0, 0.0, "")
    for host, nic in ((tpl.src_host, tpl.src_nic), (tpl.dst_host, tpl.dst_nic)):
        pairs, where = np.unique(np.stack([host, nic], axis=1), axis=0, return_inverse=True)
        nbytes = np.bincount(where.reshape(-1), weights=tpl.bytes, minlength=len(pairs))
        line = np.array([hosts[i].nic_gbps[k] * 1e9 / 8 for i, k in pairs.tolist()])
        top = int(np.argmax(nbytes / line))
        if nbytes[top] / line[top] > best[0]:
            i, k = pairs[top].tolist()
            best = (float(nbytes[top] / line[top]), float(nbytes[top]), f"{hosts[i][0]}:{hosts[i][1][k]}")
    return best


class EventGen:
    """A phase whose flows are a template stamped at event times (subclasses build the template)."""

    period_s: float | None = None
    period_key = "period_s"
    serial = True  # launches of one collective run in order (an incast's bursts do not wait: ``IncastGen``)

    def __init__(self, phase: Phase, tag: str, clock: Clock, tpl: FlowBatch, where: str,
                 hosts: Sequence[Host]) -> None:
        self.phase, self.tag, self.clock, self.tpl = phase, tag, clock, tpl
        self.span_s = float(tpl.start_s.max()) if len(tpl) else 0.0
        # launches per second: every period, else once per active interval (a cycle's, else the timeline's)
        every = self.period_s or (phase.cycle.period_s if phase.cycle is not None else clock.duration_s)
        senders = len(set(zip(tpl.src_host.tolist(), tpl.src_nic.tolist(), strict=True))) or 1
        check_flow_rate(where, len(tpl) / senders / every)
        if self.period_s and len(tpl):
            self._check_period(hosts, where)

    def _check_period(self, hosts: Sequence[Host], where: str) -> None:
        """A launch that cannot end within its period, even at line rate, makes launches pile up without end
        (the twin's rows and each tick's cost grow until it stalls): refused, with the period that fits."""
        assert self.period_s is not None
        floor_s, nbytes, nic = busiest_nic(self.tpl, hosts)
        if floor_s > self.period_s:
            raise WorkloadError.at(f"{where}.{self.period_key}",
                                   f"one launch moves {nbytes:.4g} bytes through {nic}, at least {floor_s * 1e3:.4g} "
                                   f"ms at its line rate, longer than the {self.period_s * 1e3:.4g} ms period: "
                                   "launches would pile up without end",
                                   f"raise {self.period_key} to at least {floor_s:.3g} s (or move fewer bytes)")

    def batch(self, t0: float, t1: float, seed: int) -> FlowBatch:
        """Flows starting in [t0, t1): launches since t0 - span (the template's latest offset) may reach in."""
        if not (self.serial and self.period_s):
            times = event_times(self.phase, self.clock, self.period_s, t0 - self.span_s, t1)
            return launch(self.tpl, times, self.tag, self.phase.dscp).window(t0, t1)
        wider = event_times(self.phase, self.clock, self.period_s, t0 - self.span_s - 2 * self.period_s, t1)
        first = int(np.searchsorted(wider, t0 - self.span_s))
        times = wider[first:]
        before = np.full(len(times), np.nan)
        if len(times):  # the launch one period before, if the phase launched then
            earlier = wider[first - 1:-1] if first else np.concatenate([[np.nan], wider[:-1]])
            close = np.abs(times - earlier - self.period_s) < self.period_s / 2
            before[close] = earlier[close]
        return launch(self.tpl, times, self.tag, self.phase.dscp, before).window(t0, t1)

    def pieces(self, t0: float, t1: float, seed: int) -> list[FlowBatch]:
        return [self.batch(t0, t1, seed)]


def incast_senders(hosts: Sequence[Host], servers: list[int], nic: int) -> list[tuple[int, int]]:
    """Sender NICs, rail-major: NIC ``nic`` of every server first (same rail as the target), then the next
    rail of every server, and so on; so 16:1 fits a 16-server inventory whose servers have two NICs."""
    most = max((len(hosts[i].nics) for i in servers), default=0)
    rails = [(nic + r) % most for r in range(most)] if most else []
    return [(i, k) for k in rails for i in servers if k < len(hosts[i].nics)]


class IncastGen(EventGen):
    serial = False

    def __init__(self, phase: IncastPhase, index: int, tag: str, clock: Clock, hosts: Sequence[Host],
                 where: str) -> None:
        target = members_of(hosts, phase.target, f"{where}.target", 1)[0]
        senders = incast_senders(hosts, [i for i in select(hosts, phase.senders) if i != target], phase.nic)
        if len(senders) < phase.fan_in:
            raise WorkloadError.at(f"{where}.fan_in", f"{phase.fan_in} sender NICs needed besides the target's "
                                   f"server, the selection offers {len(senders)}", "lower fan_in or widen senders")
        dst = (target, phase.nic % len(hosts[target].nics))
        rows: list[Row] = [(s, k, *dst, float(phase.size_bytes), 0.0, 0, -1) for s, k in senders[:phase.fan_in]]
        self.period_s = phase.period_s
        super().__init__(phase, tag, clock, template([cols(rows)], [""]), where, hosts)


class CollectiveGen(EventGen):
    """``allreduce`` (ring, one group per step) or ``alltoall`` (one group per launch) over ``members``."""

    def __init__(self, phase: AllreducePhase | AlltoallPhase, index: int, tag: str, clock: Clock,
                 hosts: Sequence[Host], where: str) -> None:
        members = members_of(hosts, phase.members, f"{where}.members")
        rails, size = rails_of(hosts, members), float(phase.size_bytes)
        if isinstance(phase, AllreducePhase):
            tpl = template([ring(members, rails, size)], ring_suffixes(len(members)))
        else:
            tpl = template([alltoall(members, rails, size)], [""])
        self.period_s = phase.period_s
        super().__init__(phase, tag, clock, tpl, where, hosts)
