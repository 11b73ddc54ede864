"""What one tier E epoch is computed over and leaves behind: its index spaces compressed to the queues, ingresses and
ports its flows touch (``Space``, ``compress``), its counters kept sparse (``EpochCounts``), what it did to its rows
(``Progress``, replayable), the rates of the rows that come and go in it (``Arrivals``), and what the bursts read of
it (``BurstContext``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fabric.lab.physics.rows import Flows
from fabric.lab.physics.scenario import F64, I64, QUEUES, B, CounterFrame, Scenario


class Scratch:
    """Reusable mark/lut arrays for ``compress`` over an id space that grows (the epoch's paths, groups, burst
    pairs): at least as long as asked, reallocated at twice that when too short."""

    def __init__(self) -> None:
        self.mark, self.lut = np.zeros(0, dtype=bool), np.zeros(0, dtype=np.int64)

    def at_least(self, size: int) -> tuple[B, I64]:
        """(mark, lut) of at least ``size`` entries."""
        if self.mark.size < size:
            self.mark, self.lut = np.zeros(2 * size, dtype=bool), np.zeros(2 * size, dtype=np.int64)
        return self.mark, self.lut


class Scratches:
    """An engine's reusable work arrays, which its epoch stages borrow: growing ones for the epoch's paths,
    groups and burst pairs, and exact-size ones per id-space size (``sized``)."""

    def __init__(self) -> None:
        self.path, self.group, self.burst = Scratch(), Scratch(), Scratch()
        self._sized: dict[int, tuple[B, I64]] = {}

    def sized(self, size: int) -> tuple[B, I64]:
        """Mark/lut arrays of exactly ``size`` for ``compress`` (allocated once per size)."""
        got = self._sized.get(size)
        if got is None:
            got = self._sized[size] = (np.zeros(size, dtype=bool), np.zeros(size, dtype=np.int64))
        return got


def per_resource(values: F64, path: I64, on: I64, size: int) -> F64:
    """A per-flow value summed over each flow's ``path``, then over the resources of ``on`` (rows per path)."""
    per = np.bincount(path, weights=values, minlength=on.shape[0])
    return np.asarray(np.bincount(on.reshape(-1), weights=np.repeat(per, on.shape[1]), minlength=size), dtype=float)


def tick(t: float) -> float:
    """Time on a nanosecond grid, so a flow starting at 5 ms starts exactly at the 5th 1 ms epoch boundary."""
    return round(t, 9)


@dataclass
class Progress:
    """What one epoch did to its rows (in the order of their indices), relative to the epoch's start: what a
    memo entry replays onto rows in the same state."""

    delivered: F64  # bytes each row delivered
    rate: F64  # bytes/s while it sent (0 where a watchdog lost them)
    finished: B
    done_rel: F64  # the finished rows' completion, seconds after the epoch's start
    fct_s: F64  # and their flow completion time (truth), with the mean queueing wait on their path
    eventful: bool  # a flow started, finished or sent for part of it, or the watchdog acted
    wait_s: F64  # that mean wait (part of fct_s)
    busy: F64  # the share of their flows that wait at all (the rest find their queues empty)


@dataclass
class EpochCounts:
    """One computed epoch's counters, sparse: what it adds where (flat indices into a CounterFrame's arrays)
    and the queue gauges it leaves. Only the queues, ingresses and ports the epoch's flows touch (or a pause
    holds) are listed, so applying it, or repeating it for a steady stretch, costs nothing per idle port."""

    adds: list[tuple[str, str, I64, NDArray[Any], bool]] = field(default_factory=list)
    occupancy: tuple[I64, F64] = (np.zeros(0, dtype=np.int64), np.zeros(0))
    watermark: tuple[I64, F64] = (np.zeros(0, dtype=np.int64), np.zeros(0))

    def add(self, kind: str, name: str, index: I64, values: NDArray[Any], unique: bool = False) -> None:
        """``values`` at flat ``index`` entries of a per queue/priority counter (``unique``: no repeats, so a
        plain indexed add does)."""
        self.adds.append((kind, name, index, values, unique))

    def add_ports(self, name: str, port: I64, values: NDArray[Any], n_ports: int) -> None:
        """``values`` summed per ``port`` (repeats allowed) into a per-port counter (kept sparse: an epoch is
        applied again for every repeat or replay of it)."""
        per_port = np.bincount(port, weights=values, minlength=n_ports)
        at = np.flatnonzero(per_port)
        self.adds.append(("port", name, at, per_port[at], True))

    def into(self, frame: CounterFrame, times: int) -> None:
        """Add ``times`` copies to ``frame``; gauges: this epoch's occupancy, the max watermark."""
        for kind, name, index, values, unique in self.adds:
            acc = getattr(frame, kind)[name].reshape(-1)
            add = values if times == 1 else values * times
            if unique:
                acc[index] += add
            else:
                np.add.at(acc, index, add)
        occ = frame.gauge["q{}_occupancy_bytes"]
        occ[:] = 0.0
        occ.reshape(-1)[self.occupancy[0]] = self.occupancy[1]
        water = frame.gauge["q{}_watermark_bytes"].reshape(-1)
        index, values = self.watermark
        water[index] = np.maximum(water[index], values)


@dataclass
class Space:
    """The index spaces of one epoch, compressed to what its flows touch. Resources (the columns of
    ``max_min``): ``uniq`` lists the full resource ids in use, sorted, so queues (< n x 8) come first
    (``nq`` of them, full ids ``qid``), then sinks, ports and the infinite dummy (last). Ingress x PG slots:
    ``slots`` (full ids) plus one dummy slot at the end (index ``n_slots``) where padding points."""

    uniq: I64
    nq: int
    qid: I64
    slots: I64  # full ingress x PG ids, then a 0 for the dummy slot
    n_slots: int

    @property
    def qport(self) -> I64:
        return np.asarray(self.qid // QUEUES)

    @property
    def sport(self) -> I64:
        return np.asarray(self.slots // QUEUES)


def compress(values: I64, mark: B, lut: I64, dummy: bool = True) -> tuple[I64, I64]:
    """(sorted distinct values, each value's rank) for ints in [-1, size) without a sort: ``mark``/``lut``
    are scratch arrays as long as the id space (index -1 is its last id, the dummy, always present); ``mark``
    is left cleared."""
    mark[values] = True
    if dummy:
        mark[-1] = True
    uniq = np.flatnonzero(mark)
    mark[uniq] = False
    lut[uniq] = np.arange(uniq.size)
    return uniq, lut[values]


class Arrivals:
    """What flows that come and go get in one epoch: on each resource of a flow's path, the line less the load of
    the other rows that come and go (rows finishing in the epoch, and aggregates: their members arrive spread over
    a window), split with the rows that send throughout (each as present as the part of the epoch it is active);
    the smallest on its path, at least its row's rate, at most its line. With only arrivals that is processor
    sharing (C (1 - rho)). An aggregate counts as the load it carries, not as a flow present throughout: twenty
    spread rows of a light mix at a few Mb/s each held a 400G newcomer to a 21st of the line. The per-resource
    sums are made on first use, once per epoch."""

    def __init__(self, fl: Flows, idx: I64, path: I64, rows_res: I64, cap: F64, span: F64, rate: F64, fr: F64,
                 finishing: B) -> None:
        self.fl, self.idx, self.path, self.rows_res, self.cap, self.span = fl, idx, path, rows_res, cap, span
        self.rate, self.fr, self.finishing = rate, fr, finishing
        self._sums: tuple[F64, F64] | None = None

    def rates(self, rows: I64, own: F64) -> F64:
        """The rate while it sends of a flow of each row ``rows`` (positions in the epoch's rows) that carries
        ``own`` of its row's bytes per second of the epoch."""
        fl, idx, path, rows_res, cap, span = self.fl, self.idx, self.path, self.rows_res, self.cap, self.span
        if self._sums is None:
            churn = self.finishing | (fl.members[idx] > 1)
            x = self.rate * self.fr  # each row's bytes over the epoch, per second of it
            self._sums = (per_resource(np.where(churn, x, 0.0), path, rows_res, cap.size),
                          per_resource(np.where(churn, 0.0, self.fr), path, rows_res, cap.size))
        load, present = self._sums
        res_a = rows_res[path[rows]]
        line = np.minimum(fl.nic_rate[idx[rows]], cap[res_a].min(axis=1))
        with np.errstate(divide="ignore", invalid="ignore"):
            others = np.where(span[res_a] > 0, (load[res_a] - own[:, None]) / span[res_a], 0.0)
        free = np.maximum(cap[res_a] - np.maximum(others, 0.0), 0.0) / (1 + present[res_a])
        return np.asarray(np.minimum(np.maximum(free.min(axis=1), self.rate[rows]), line), dtype=float)


@dataclass
class BurstContext:
    """What ``_bursts`` reads of an epoch: its spaces, per-resource capacity and lossy limit, per-queue MTU
    and ECN, per-slot thresholds, headroom need and set headroom, lossless flags."""

    space: Space
    cap: F64
    lossy_limit: F64
    mtu_q: F64
    kmin: F64
    kmax: F64
    pmax: F64
    xoff: F64
    xon: F64
    need: F64
    headroom: F64
    lossless: B
    paused: F64  # per slot: the share of the epoch the steady excess already pauses it
    sc: Scenario
    fl: Flows
    scratch: Scratch  # for the (window, queue) pairs

MemoEntry = tuple[EpochCounts, F64, Progress, tuple[I64, F64, F64, F64]]  # counts, pauses, progress, transients
