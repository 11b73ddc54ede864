"""Poisson flow-size mixes (websearch, hadoop) and storage I/O, generated in fixed time chunks.

As in HPCC's ``traffic_gen.py``, each source NIC is a Poisson process of rate ``load x line rate / mean
size``; a size comes from the CDF and a destination is uniform over the NICs of the other servers of the
destination set in the source NIC's plane (all of them on a CLOS; on separate spine planes NIC k talks to the NICs
its own plane reaches, as a rail's traffic does). Time is cut into ``CHUNK_S`` chunks, each drawn from its own
``SeedSequence((seed, crc32(phase name), chunk))``: a chunk's flows do not depend on which window asked for them,
and the last chunk is cached so an engine pulling millisecond epochs draws each chunk once. The sources' Poisson
processes are drawn as their superposition (one Poisson process of the summed rate whose arrivals pick source i
with probability rate_i / total), and given a chunk's arrival count the arrival times are sorted independent
uniforms over the chunk: a few vectorised calls per chunk, already in time order.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from fabric.lab.workload.cdf import CDFS, Cdf, mean_bytes, sample_bytes
from fabric.lab.workload.errors import WorkloadError, check_flow_rate
from fabric.lab.workload.flows import FlowBatch, constant
from fabric.lab.workload.hosts import Host, select
from fabric.lab.workload.lookup import Lookup
from fabric.lab.workload.schema import HostSelect, MixPhase, StoragePhase
from fabric.lab.workload.timeline import Clock, active, intervals

CHUNK_S = 0.01
MAX_REDRAWS = 64
I64 = NDArray[np.int64]
F64 = NDArray[np.float64]
Chunk = tuple[I64, I64, I64, I64, F64, F64]  # src host, src NIC, dst host, dst NIC, bytes, start s


@dataclass(frozen=True)
class Endpoints:
    """NICs of a set of servers, flattened: server index, NIC index, line rate in bytes/s, plane."""

    host: I64
    nic: I64
    rate_bps: NDArray[np.float64]
    plane: I64

    @classmethod
    def of(cls, hosts: Sequence[Host], picked: list[int]) -> Endpoints:
        pairs = [(i, k) for i in picked for k in range(len(hosts[i].nics))]
        return cls(np.array([i for i, _ in pairs], dtype=np.int64), np.array([k for _, k in pairs], dtype=np.int64),
                   np.array([hosts[i].nic_gbps[k] * 1e9 / 8 for i, k in pairs], dtype=float),
                   np.array([hosts[i].nic_plane[k] for i, k in pairs], dtype=np.int64))


def phase_cdf(cdf: str | list[tuple[float, float]] | None, default: str) -> Cdf:
    """The CDF a phase asked for (validated at load time)."""
    if cdf is None:
        return CDFS[default]
    return CDFS[cdf] if isinstance(cdf, str) else tuple(cdf)


def _endpoints(hosts: Sequence[Host], sel: HostSelect, where: str, exclude: set[int] | None = None) -> Endpoints:
    picked = [i for i in select(hosts, sel) if not exclude or i not in exclude]
    if not picked:
        raise WorkloadError.at(where, "selects no server of this inventory", "widen the names/pods selection")
    return Endpoints.of(hosts, picked)


def pick_peers(rng: np.random.Generator, peers: Endpoints, src_host: I64, src_plane: I64) -> I64:
    """A uniformly random peer NIC per source, in the source NIC's plane (any peer where its plane has none),
    never on the source's own server (redrawn until it is not)."""
    if (peers.plane == peers.plane[0]).all() and (src_plane == peers.plane[0]).all():  # one plane (a CLOS)
        def draw(rows: I64) -> I64:
            return rng.integers(0, len(peers.host), len(rows))
    else:
        order = np.argsort(peers.plane, kind="stable")
        lo = np.searchsorted(peers.plane[order], src_plane, side="left")
        hi = np.searchsorted(peers.plane[order], src_plane, side="right")
        lo, hi = np.where(hi > lo, lo, 0), np.where(hi > lo, hi, len(order))

        def draw(rows: I64) -> I64:
            return np.asarray(order[lo[rows] + (rng.random(len(rows)) * (hi[rows] - lo[rows])).astype(np.int64)])
    choice = draw(np.arange(len(src_host)))
    same = np.flatnonzero(peers.host[choice] == src_host)
    for _ in range(MAX_REDRAWS):
        if not len(same):
            break
        choice[same] = draw(same)
        same = same[peers.host[choice[same]] == src_host[same]]  # only the redrawn can still be on the source
    return choice


class PoissonGen:
    """Flows of a websearch/hadoop/storage phase for one host list."""

    def __init__(self, phase: MixPhase | StoragePhase, index: int, tag: str, clock: Clock,
                 hosts: Sequence[Host], where: str) -> None:
        self.phase, self.tag, self.clock = phase, tag, clock
        self.stream = zlib.crc32(tag.encode())  # keyed by name: adding or moving a phase leaves the others' draws
        if isinstance(phase, StoragePhase):
            self.cdf = phase_cdf(phase.cdf, "storage")
            targets = _endpoints(hosts, phase.targets, f"{where}.targets")
            self.src = _endpoints(hosts, phase.clients, f"{where}.clients", set(targets.host.tolist()))
            self.dst = targets
        else:
            self.cdf = phase_cdf(phase.cdf, phase.kind)
            self.src = _endpoints(hosts, phase.src, f"{where}.src")
            self.dst = _endpoints(hosts, phase.dst, f"{where}.dst")
            receivers = set(self.dst.host.tolist())
            if len(receivers) < 2 and receivers <= set(self.src.host.tolist()):
                raise WorkloadError.at(f"{where}.dst", "needs a server other than the sender",
                                       "select at least two servers")
        self.rate = phase.load * self.src.rate_bps / mean_bytes(self.cdf)  # flows/s per source NIC
        check_flow_rate(f"{where}.load", float(self.rate.max()))
        self.rate_cdf = np.cumsum(self.rate)
        self.total_rate = float(self.rate_cdf[-1])
        self.source = Lookup(self.rate_cdf, 0.0, self.total_rate)
        self._cache: tuple[tuple[int, int], Chunk] | None = None
        # active at every instant (repeating, whole timeline, no cycle): no per-flow activity mask
        self.always_on = (clock.repeat and phase.cycle is None and phase.start_s == 0
                          and (phase.stop_s is None or phase.stop_s >= clock.duration_s))

    def batch(self, t0: float, t1: float, seed: int) -> FlowBatch:
        """The flows starting in [t0, t1) as one batch."""
        return FlowBatch.merge([self.pieces(t0, t1, seed)])

    def pieces(self, t0: float, t1: float, seed: int) -> list[FlowBatch]:
        """The flows starting in [t0, t1), chunk by chunk in time order: views of the chunks' columns, and the
        phase's class, tag and group as ``constant`` views, so nothing is copied before the merge of every phase
        (``FlowBatch.merge``) writes the tick's batch."""
        spans = intervals(self.phase, self.clock, t0, t1)
        chunks = sorted({c for a, b in spans
                         for c in range(math.floor(max(a, t0) / CHUNK_S), math.ceil(min(b, t1) / CHUNK_S))})
        out = []
        for c in chunks:
            sh, sn, dh, dn, size, start = self._chunk(c, seed)
            lo, hi = np.searchsorted(start, (t0, t1), side="left").tolist()
            if hi > lo:
                n = hi - lo
                out.append(FlowBatch(sh[lo:hi], sn[lo:hi], dh[lo:hi], dn[lo:hi], size[lo:hi], start[lo:hi],
                                     constant(self.phase.dscp, n), constant(0, n), constant(0, n), constant(-1, n),
                                     [self.tag], [self.tag]))
        return out

    def _chunk(self, c: int, seed: int) -> Chunk:
        """Chunk ``c``'s flows as (src host, src NIC, dst host, dst NIC, bytes, start) columns, time-ordered."""
        if self._cache is not None and self._cache[0] == (seed, c):
            return self._cache[1]
        rng = np.random.default_rng(np.random.SeedSequence((seed, self.stream, c)))
        n = rng.poisson(self.total_rate * CHUNK_S)
        start = rng.random(n)
        start.sort()
        start += c
        start *= CHUNK_S  # (c + sorted uniforms) x CHUNK_S, in place
        pick = rng.random(n)
        pick *= self.rate_cdf[-1]
        src = self.source(pick)  # searchsorted(rate_cdf, pick, side="right"), by buckets
        np.minimum(src, len(self.rate) - 1, out=src)
        size = sample_bytes(rng, self.cdf, len(src))
        sh = self.src.host[src]
        dst = pick_peers(rng, self.dst, sh, self.src.plane[src])
        sn, dh, dn = self.src.nic[src], self.dst.host[dst], self.dst.nic[dst]
        if isinstance(self.phase, StoragePhase):  # a read carries the bytes from the target to the client
            read = rng.random(len(src)) < self.phase.read_fraction
            sh, dh = np.where(read, dh, sh), np.where(read, sh, dh)
            sn, dn = np.where(read, dn, sn), np.where(read, sn, dn)
        out: Chunk = (sh, sn, dh, dn, size, start)
        if not self.always_on:
            on = active(self.phase, self.clock, start)
            out = (sh[on], sn[on], dh[on], dn[on], size[on], start[on])
        self._cache = ((seed, c), out)
        return out
