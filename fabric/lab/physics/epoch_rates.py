"""Tier E, one computed epoch (steps 1-2 of ``epoch.py``'s model), first part: the rows' paths and index spaces, the
resources' capacities, the rows' demands, max-min fair shares and send rates, each limited row's bottleneck and
the offered load per hop. ``EpochCompute`` (epoch_compute.py) runs these stages, then ``EpochQueues``' and its own.

From ``epoch.py``'s model:

1. Rates: max-min fair shares (progressive filling) of the epoch's bytes over three kinds of resources:
   each egress queue (its port's line rate minus the time it was paused by the peer last epoch), each egress
   port (queues share the line), and each destination NIC's drain rate (the sink; a slow receiver drains at
   25 %). A flow sending for a fraction of the epoch (it starts or ends in it) offers that fraction of its
   demand: flows that come and go within an epoch do not all overlap.
2. Offered load: a flow sends its demand (line rate, or what is left of it) up to its bottleneck unless
   DCQCN controls it there (RP enabled on its priority and the bottleneck queue marks ECN); then it sends
   its share everywhere. Load beyond a queue's capacity is *excess*.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from fabric.lab.physics.epoch_state import Arrivals, EpochCounts, Space, compress, per_resource, tick
from fabric.lab.physics.maxmin import max_min
from fabric.lab.physics.scenario import F64, I64, QUEUES, B

if TYPE_CHECKING:
    from fabric.lab.physics.epoch import EpochEngine

SATURATED = 0.98  # a queue serving this share of its capacity is a bottleneck


def shared(values: F64) -> B:
    """Which values occur more than once."""
    order = np.argsort(values)  # any order: equal values end up adjacent either way
    ordered = values[order]
    same = ordered[1:] == ordered[:-1]
    out = np.zeros(values.size, dtype=bool)
    out[order[1:]] = same
    out[order[:-1]] |= same
    return out


class EpochRates:
    """One computed epoch of an ``EpochEngine`` for its active rows ``idx`` sending ``fr`` of it, as a method
    object: each stage reads what the stages before it left on ``self`` (same names as the equations use) and
    leaves what later stages read. Same statements, same order as one long function: the numbers are the same."""

    def __init__(self, eng: EpochEngine, dt: float, rec: EpochCounts, idx: I64, fr: F64) -> None:
        self.eng, self.dt, self.rec, self.idx, self.fr = eng, dt, rec, idx, fr
        self.sc, self.fl, self.n = eng.sc, eng.fl, eng.sc.n_ports
        self.npq = self.n * QUEUES
        self.t0, self.t1 = eng.t, tick(eng.t + dt)

    def per_path(self, values: F64, on: I64, size: int | None = None) -> F64:
        """A per-row value summed over each row's path, then over the resources of ``on`` (rows per path) in an
        index space of ``size`` (the epoch's resources by default)."""
        return per_resource(values, self.path, on, self.k_res if size is None else size)

    def gsum(self, values: F64) -> F64:
        """A per-row value summed per group of rows alike in path, bottleneck column and control (a column)."""
        return np.asarray(np.bincount(self.grp, weights=values, minlength=self.n_g), dtype=float)[:, None]

    def _paths(self) -> None:
        """The epoch's paths (flows of one path share all per-hop columns, so per-hop work is per path) and
        its index spaces compressed to the queues, ingresses and ports they touch (``Space``)."""
        eng, idx, fl = self.eng, self.idx, self.fl
        mark, lut = eng.scratch.path.at_least(eng.paths.size)  # grown geometrically with the path table
        used_paths, path = compress(fl.pid[idx], mark, lut, dummy=False)
        tbl = eng.paths
        res_q, res_p, jp, s_f = (tbl.res_q[used_paths], tbl.res_p[used_paths], tbl.jp[used_paths],
                                 tbl.sink[used_paths])
        sp, pq, pres, jpc = self._index_spaces(res_q, res_p, jp)
        nq, qid, qport, n_j = sp.nq, sp.qid, sp.qport, sp.n_slots + 1
        self.used_paths, self.path, self.res_q, self.res_p, self.s_f, self.sp = used_paths, path, res_q, res_p, s_f, sp
        self.pq, self.pres, self.jpc, self.nq, self.qid, self.qport, self.n_j = pq, pres, jpc, nq, qid, qport, n_j

    def _capacities(self) -> None:
        """Each resource's capacity this epoch (``_resource_capacities``), less what DCQCN's start
        transients lose; the watchdog acts on the pauses of the last epoch."""
        sp, t0, idx, path, pq, t1, rec = self.sp, self.t0, self.idx, self.path, self.pq, self.t1, self.rec
        eng, nq, fl = self.eng, self.nq, self.fl
        # before the watchdog: a queue it stops now obeys this epoch
        cap, stormed, held = self._resource_capacities(sp, t0)
        together = shared(fl.start[idx])  # rows that start at one instant with another (a launch, a fan-in)
        cap[:nq] *= eng.transients.share(eng.sc, fl, sp, idx, path, pq, t0, t1, together)
        eventful = eng.watchdog.detect(eng.sc, eng.u_jp, eng.t, t0, t1, rec)
        self.together, self.eventful, self.cap, self.stormed, self.held = together, eventful, cap, stormed, held

    def _demand(self) -> None:
        """What each row asks for: its line (or an aggregate's spread rate), or what is left of it over the
        part of the epoch it sends; nothing for a row whose path ends at a dead port."""
        cap, pq, jpc, path, used_paths, res_q = self.cap, self.pq, self.jpc, self.path, self.used_paths, self.res_q
        res_p, idx, pres, fl, fr, dt, s_f = self.res_p, self.idx, self.pres, self.fl, self.fr, self.dt, self.s_f
        k_res = cap.size
        dummy = k_res - 1
        width = pq.shape[1]
        demand = np.minimum(np.minimum(fl.nic_rate[idx], fl.max_rate[idx]),
                            fl.remaining[idx] / np.maximum(fr * dt, 1e-12))
        rows_res, rows_q, rows_j, n_p = np.concatenate([pq, pres], axis=1), pq, jpc, used_paths.size
        v_f, e_f = res_q >= 0, res_p >= 0
        # unroutable: ends at a dead port
        dead = np.asarray((~v_f[:, 1:] & ~s_f[:, :-1] & e_f[:, :-1]).any(axis=1))[path]
        demand = np.where(dead, 0.0, demand)
        self.k_res, self.dummy, self.width, self.demand, self.rows_res = k_res, dummy, width, demand, rows_res
        self.rows_q, self.rows_j, self.n_p, self.v_f, self.e_f = rows_q, rows_j, n_p, v_f, e_f

    def _fair_shares(self) -> None:
        """Rates: the max-min fair shares of the epoch's bytes, and each row's rate while it sends
        (``_send_rates``)."""
        k_res, fr, rows_res, idx, path, cap = self.k_res, self.fr, self.rows_res, self.idx, self.path, self.cap
        demand, dt, together, n_p = self.demand, self.dt, self.together, self.n_p
        # fair shares of the epoch's bytes: a flow that sends for a fraction of the epoch offers that fraction
        # of its demand (flows that come and go in an epoch do not all overlap), then sends at rate = share / fr
        # ... but a resource carries bytes only while one of its flows sends: over the epoch, its line rate
        # times the longest share of it any of them is active (flows that all start late, an incast or a
        # collective step mid-epoch, cannot fill the part of the epoch before them)
        span = np.zeros(k_res)
        if fr.size:
            span_p = np.zeros(n_p)
            np.maximum.at(span_p, path, fr)
            np.maximum.at(span, rows_res.reshape(-1), np.repeat(span_p, rows_res.shape[1]))
        cap_e = np.where(span > 0, cap, 0.0) * span
        avg, share = max_min(demand * fr, rows_res, cap_e, (path, rows_res))
        rate, share = avg / fr, share / fr
        served = self.per_path(rate * fr, rows_res)
        inst, arrivals = self._send_rates(idx, path, rows_res, cap, span, demand, rate, share, fr, dt, together)
        self.cap_e, self.served, self.rate, self.inst, self.arrivals = cap_e, served, rate, inst, arrivals

    def _bottlenecks(self) -> None:
        """Each limited row's bottleneck column (``bcol``), where it is marked (``cpq``) and whether
        DCQCN controls it there (``controlled``)."""
        served, rate, rows_res, v_f, cap, width = self.served, self.rate, self.rows_res, self.v_f, self.cap, self.width
        dummy, qid, cap_e, demand, path, s_f = self.dummy, self.qid, self.cap_e, self.demand, self.path, self.s_f
        rows_q, nq, held, sc, idx, fl = self.rows_q, self.nq, self.held, self.sc, self.idx, self.fl
        # bottleneck column: the first saturated resource of a flow limited below its demand (queue and port
        # resources are distinct ids, so one count serves both)
        # saturated over the epoch, not only while its flows overlap: open-loop flows that come and go in
        # an epoch congest a queue now and then (its tail, below) without holding it at an operating point
        sat = served >= SATURATED * cap_e
        limited = rate < demand * (1 - 1e-6)
        rows_p = rows_res[:, width:]
        # a queue full only because its peer pauses it, with a saturated queue or port further on, is no
        # bottleneck of its own: the pause is that downstream excess coming back, and the excess must stay
        # (or the pause would lapse every other epoch: a 2:1 onto one port paused half of one epoch, none of
        # the next). The last one with nothing saturated beyond (a storm's pause, a victim's head-of-line
        # block) is one
        full = (sat[rows_q] | sat[rows_p]) & v_f
        beyond = np.zeros_like(full)
        beyond[:, :-1] = np.logical_or.accumulate(full[:, :0:-1], axis=1)[:, ::-1]
        at_sat = full & ~(held[rows_q] & beyond)
        # a limited flow's bottleneck: the saturated column with the smallest equal share
        level = cap / np.maximum(self.per_path(np.ones(idx.size), rows_res), 1)  # the dummy's is infinite
        col_level = np.where(at_sat, np.minimum(level[rows_q], level[rows_p]), np.inf)
        # ties (a flow held as much by its NIC as by the port it ends at) go upstream: the first limiter paces
        # what the later one receives, so only the first one queues
        lowest = col_level.min(axis=1, keepdims=True)
        first_low = np.argmax(col_level <= lowest * (1 + 1e-9), axis=1)
        bcol = np.where(limited & np.asarray(at_sat.any(axis=1))[path], first_low[path], width)
        bsink = s_f[path, np.minimum(bcol, width - 1)] & (bcol < width)
        ccol = np.where(bsink, bcol - 1, bcol)  # a slow receiver is marked at the leaf port feeding it
        cpq = np.where(ccol < width, rows_q[path, np.minimum(ccol, width - 1)], dummy)
        cpq_e = np.minimum(cpq, max(nq - 1, 0))
        pmax = sc.ecn_pmax.reshape(-1)[qid]
        controlled = fl.cc[idx] & (cpq < nq) & (pmax[cpq_e] > 0 if nq else False) & (cap[cpq] > 0)
        self.bcol, self.cpq, self.cpq_e, self.pmax, self.controlled = bcol, cpq, cpq_e, pmax, controlled

    def _offered(self) -> None:
        """Offered load per hop, summed over groups of rows alike in path, bottleneck column and control,
        and each queue's excess over its capacity."""
        controlled, path, rate, fr, rows_q = self.controlled, self.path, self.rate, self.fr, self.rows_q
        dummy, n_p, rows_j, e_f, n_j, demand = self.dummy, self.n_p, self.rows_j, self.e_f, self.n_j, self.demand
        k_res, bcol, width, cap_e, eng = self.k_res, self.bcol, self.width, self.cap_e, self.eng
        # a flow offers its demand up to its bottleneck column (unless DCQCN holds it to its rate there) and
        # its rate beyond: per-hop sums need only sums over groups of flows alike in path, bottleneck column
        # and control
        g_key = (path * (width + 1) + bcol) * 2 + controlled
        size = n_p * (width + 1) * 2
        g_used, grp = compress(g_key, *eng.scratch.group.at_least(size), dummy=False)
        n_g = g_used.size
        self.grp, self.n_g = grp, n_g  # for gsum
        g_first = np.empty(n_g, dtype=np.int64)
        g_first[grp[::-1]] = np.arange(grp.size - 1, -1, -1)  # each group's first flow
        g_path = path[g_first]
        gq, gj, g_eg = rows_q[g_path], rows_j[g_path], e_f[g_path]
        g_jp_ok = gj < n_j - 1  # the dummy slot stands for "no ingress" (source NICs)


        up_to = (np.arange(width)[None, :] <= bcol[g_first][:, None]) & ~controlled[g_first][:, None]
        rate_fr = rate * fr
        off = np.where(up_to, self.gsum(demand), self.gsum(rate))  # sum of the group's offered load per column
        off_fr = np.where(up_to, self.gsum(demand * fr), self.gsum(rate_fr))  # the same weighted by time sending
        flat_gq = gq.reshape(-1)
        s_r = self.per_path(rate_fr, rows_q)
        o_r = np.bincount(flat_gq, weights=off_fr.reshape(-1), minlength=k_res)
        excess = np.maximum(o_r - cap_e, 0.0) * (o_r > cap_e * (1 + 1e-6))
        excess[dummy] = 0.0
        self.n_g, self.g_jp_ok, self.rate_fr, self.off, self.off_fr = n_g, g_jp_ok, rate_fr, off, off_fr
        self.flat_gq, self.s_r, self.o_r, self.excess, self.grp, self.gq = flat_gq, s_r, o_r, excess, grp, gq
        self.gj, self.g_eg = gj, g_eg

    def _send_rates(self, idx: I64, path: I64, rows_res: I64, cap: F64, span: F64, demand: F64, rate: F64,
                    share: F64, fr: F64, dt: float, together: B) -> tuple[F64, Arrivals]:
        """Each row's rate while it sends (what its completion time and FCT follow), at most its NIC's and the
        slowest line on its path: its max-min share among the epoch's rows, except for a row that finishes
        within the epoch on its own start (an open-loop arrival: a mix's flow, a storage request; or the end of
        one under way). Such a row overlaps the others only part of the time: on each resource it shares the
        line with the rows that send throughout (those that do not finish, each as present as the part of the
        epoch it is active) after the load of those that come and go, (C - X / span) / (1 + n), the smallest on
        its path. With only arrivals that is processor sharing (C (1 - rho)), with long flows under way their
        equal split. (The max-min share split it with every row of the epoch, as if all of them overlapped: ten
        1 MB flows 1 ms apart into one NIC took 5-10x their line-rate time at 5-20 ms epochs, tier F 1.06x.)
        Also returns the epoch's ``Arrivals``, which times an aggregate's member flows."""
        fl = self.fl
        line = np.minimum(fl.nic_rate[idx], cap[rows_res].min(axis=1)[path])
        inst = np.minimum(line, np.maximum(share, rate))
        finishing = (rate > 0) & (rate * fr * dt >= fl.remaining[idx] * (1 - 1e-9))
        arrivals = Arrivals(fl, idx, path, rows_res, cap, span, rate, fr, finishing)
        alone = np.flatnonzero(finishing & ~together & (rate >= demand * (1 - 1e-6)))
        if alone.size:
            inst[alone] = arrivals.rates(alone, rate[alone] * fr[alone])
        return np.asarray(inst, dtype=float), arrivals

    def _index_spaces(self, res_q: I64, res_p: I64, jp: I64) -> tuple[Space, I64, I64, I64]:
        """The epoch's compressed index spaces and the flows' columns in them (queue, port, ingress slot)."""
        sc, n, eng = self.sc, self.sc.n_ports, self.eng
        npq = n * QUEUES
        mark, lut = eng.scratch.sized(2 * npq + n + 1)
        uniq, ranks = compress(np.concatenate([res_q.reshape(-1), res_p.reshape(-1)]), mark, lut)
        pq, pres = ranks[:res_q.size].reshape(res_q.shape), ranks[res_q.size:].reshape(res_q.shape)
        nq = int(np.searchsorted(uniq, npq))
        smark, slut = eng.scratch.sized(npq + 1)
        if eng.storm.any():  # a storming NIC pauses its link whether or not a flow crosses it
            prios = sc.pfc_enabled | sc.pfc_enabled[sc.peer]
            smark[np.flatnonzero((eng.storm[:, None] & prios).reshape(-1))] = True
        slots, jpc = compress(jp.reshape(-1), smark, slut)
        slots = slots.copy()
        slots[-1] = 0  # the dummy slot gathers port 0's knobs; nothing is ever counted there
        sp = Space(uniq=uniq, nq=nq, qid=uniq[:nq], slots=slots, n_slots=slots.size - 1)
        return sp, pq, pres, jpc.reshape(jp.shape)

    def _resource_capacities(self, sp: Space, t0: float) -> tuple[F64, B, B]:
        """Each resource's capacity this epoch: an egress queue's line rate minus the share of the last epoch
        its peer paused it (unless the watchdog holds it), a sink's drain rate, a port's line rate."""
        sc, n, eng = self.sc, self.sc.n_ports, self.eng
        npq = n * QUEUES
        qid, nq, uniq = sp.qid, sp.nq, sp.uniq
        qport = sp.qport
        u_rx = np.where(sc.pfc_enabled.reshape(-1)[qid], eng.u_jp[sc.peer[qport] * QUEUES + qid % QUEUES], 0.0)
        stormed = eng.watchdog.until[qid] > t0
        cap = np.full(uniq.size, np.inf)
        cap[:nq] = sc.capacity[qport] * (1 - np.where(stormed, 0.0, u_rx))
        ns = int(np.searchsorted(uniq, 2 * npq))
        sink_port = (uniq[nq:ns] - npq) // QUEUES
        cap[nq:ns] = sc.sink_capacity[sink_port] * eng.sink_factor[sink_port]
        ports = uniq[ns:-1] - 2 * npq
        cap[ns:-1] = sc.capacity[ports]
        held = np.zeros(uniq.size, dtype=bool)
        held[:nq] = (u_rx > 0) & ~stormed
        return cap, stormed, held
