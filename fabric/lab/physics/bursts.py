"""Tier E's bursts (reference §A.3 step 3; step 4 of ``epoch.py``'s model): flows that start this epoch and exceed
a queue's line rate build a peak: bytes-bound, or, when DCQCN reacts, Kmin + (k r0 - C) t_r + the cut cascade;
its share per ingress above XOFF pauses for (peak/m - XON)/(C/m); beyond XOFF + headroom it drops (headroom below
the cable's in-flight bytes drops lossless traffic). A burst's arrival rate is its bytes over the span from the
first start to the last end, at most the flows' send rates (flows a NIC starts together share its line) summed per
ingress link and capped by that link's rate: flows spread over the window, an all-to-all's senders and a
collective's steps from one NIC are no burst. Burst bytes are marked with the RED ramp averaged over the sweep
0 -> peak (``red_mean``)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from fabric.lab.physics.epoch_state import BurstContext, EpochCounts, compress
from fabric.lab.physics.meanfield import reaction_s
from fabric.lab.physics.red import red_mean
from fabric.lab.physics.scenario import F64, I64, QUEUES, B

BURST_WINDOW_S = 1e-3  # flows starting this close together build one burst (an incast's senders)
PAUSE_QUANTA_BITS = 65535 * 512  # a pause frame's maximum quanta; senders refresh at half of it


def bursts(ctx: BurstContext, fidx: I64, window: I64, pq: I64, jpc: I64, jp_ok: B, egress: B, dt: float,
           rec: EpochCounts, peak_out: F64, marks_out: F64) -> None:
    """§A.3 step 3 for the flows ``fidx`` that start in this epoch: peak per queue (into ``peak_out``), marks
    (into ``marks_out``), pauses/drops per ingress (into ``rec``). Flows of one ``window`` (0, 1, ...: starts
    within one BURST_WINDOW) arrive together; windows are separate bursts, computed at once over (window, queue)
    pairs. ``pq``, ``jpc``, ``jp_ok``, ``egress``: the flows' queue, ingress slot, has-ingress and egress columns."""
    burst = _Burst(ctx, fidx, window, pq, egress)
    burst.arrival_rates(jpc, jp_ok, dt)
    if not burst.find_hot():
        return
    burst.peaks()
    burst.ingress_pauses(dt, rec)
    burst.tail_drops_and_marks(rec, peak_out, marks_out)


class _Burst:
    """One epoch's bursts, stage by stage (``bursts`` runs them in order); per (window, queue) pair ``v`` and,
    from ``find_hot`` on, per hot pair ``h``."""

    def __init__(self, ctx: BurstContext, fidx: I64, window: I64, pq: I64, egress: B) -> None:
        """(window, queue) pairs the bursts cross, numbered compactly: window x nq + queue -> 0..n_v-1."""
        self.ctx, self.fidx, self.pq = ctx, fidx, pq
        sp = ctx.space
        nq = sp.nq
        self.w = w = egress & (pq < nq)
        size = (int(window.max()) + 1) * nq
        vu, self.flat = compress((window[:, None] * nq + pq)[w], *ctx.scratch.at_least(size), dummy=False)
        self.n_v = vu.size
        self.v_queue = vu % max(nq, 1)
        self.window = window

    def per_hop(self, values: NDArray[Any]) -> NDArray[Any]:
        """A per-flow value on each of the flows' egress hops (as ``flat`` lists them)."""
        return np.asarray(np.broadcast_to(values[:, None], self.pq.shape)[self.w])

    def arrival_rates(self, jpc: I64, jp_ok: B, dt: float) -> None:
        """Per (window, queue): the bursts' bytes (``bytes_q``), flows (``k_q``) and arrival rate (``r0_q``)."""
        ctx, fidx, flat, n_v, per_hop = self.ctx, self.fidx, self.flat, self.n_v, self.per_hop
        fl, sc, sp = ctx.fl, ctx.sc, ctx.space
        n_j = sp.n_slots + 1
        # flows a NIC starts together share its line (an all-to-all's sender splits it over its peers)
        _, by_src, n_src = np.unique(self.window * sc.n_ports + fl.src[fidx], return_inverse=True,
                                     return_counts=True)
        r0_f = np.minimum(np.minimum(fl.nic_rate[fidx], fl.max_rate[fidx]),
                          fl.nic_rate[fidx] / n_src[by_src.reshape(-1)])
        bytes_f = np.minimum(fl.size[fidx], r0_f * dt)
        start_f = fl.start[fidx]
        end_f = start_f + bytes_f / np.maximum(r0_f, 1.0)
        bytes_q = np.bincount(flat, weights=per_hop(bytes_f), minlength=n_v)
        self.k_q = np.bincount(flat, minlength=n_v)
        # a burst arrives at its flows' summed send rate only while they overlap: flows that start spread over
        # the window (open-loop arrivals, an aggregate row sending its members over its window) bring their
        # bytes over the span from the first start to the last end, so the arrival rate is bytes / span
        first, last = np.full(n_v, np.inf), np.full(n_v, -np.inf)
        np.minimum.at(first, flat, per_hop(start_f))
        np.maximum.at(last, flat, per_hop(end_f))
        # and no faster than the links it comes in on: flows sharing an ingress (a NIC's flows to many
        # destinations, a collective's steps) arrive at most at that link's rate
        ingress = np.where(jp_ok, jpc, n_j - 1)[self.w]
        pair, pair_of = np.unique(flat * n_j + ingress, return_inverse=True)
        pair_slot = pair % n_j
        link = np.where(pair_slot < n_j - 1, sc.capacity[sc.peer[sp.slots[pair_slot] // QUEUES]], np.inf)
        via = np.minimum(np.bincount(pair_of.reshape(-1), weights=per_hop(r0_f), minlength=pair.size), link)
        with np.errstate(divide="ignore", invalid="ignore"):
            r0_q = np.minimum(np.bincount(pair // n_j, weights=via, minlength=n_v),
                              bytes_q / np.maximum(last - first, 1e-12))
        self.bytes_q, self.r0_q, self.pair, self.pair_slot, self.n_j = bytes_q, r0_q, pair, pair_slot, n_j

    def find_hot(self) -> bool:
        """Which (window, queue) pairs a burst overruns (``hot``; ``h`` their numbers, ``hq`` their queues):
        the rest is computed on those only."""
        self.c_v = self.ctx.cap[self.v_queue]
        self.hot = (self.r0_q > self.c_v * (1 + 1e-6)) & (self.bytes_q > 0)  # one flow from a faster link too
        if not self.hot.any():
            return False
        self.h = np.flatnonzero(self.hot)
        self.hq = self.v_queue[self.h]
        return True

    def mean_q(self, values: F64) -> F64:
        """Per hot (window, queue): the mean of the bursts' rows' ``values`` (given for ``fidx``)."""
        total = np.bincount(self.flat, weights=self.per_hop(values), minlength=self.n_v)
        return np.asarray((total / np.maximum(self.k_q, 1))[self.h])

    def peaks(self) -> None:
        """Per (window, queue) the peak (``peak``): bytes-bound, or where DCQCN reacts, Kmin + (k r0 - C) t_r +
        the cascade of cuts."""
        ctx, h, hq = self.ctx, self.h, self.hq
        fl, fidx = ctx.fl, self.fidx
        cut_f = fl.cut_s[fidx]
        cc_q = self.mean_q(fl.cc[fidx].astype(float)) > 0.5
        t_r = self.mean_q(reaction_s(fl.rtt_s[fidx], fl.cnp_s[fidx], cut_f))
        cut = self.mean_q(cut_f)
        kmin, pmax = ctx.kmin[hq], ctx.pmax[hq]
        r0_h, c_h, bytes_h = self.r0_q[h], self.c_v[h], self.bytes_q[h]
        bound = bytes_h * (1 - c_h / np.maximum(r0_h, 1e-9))
        cascade = sum(np.maximum(r0_h / 2**j - c_h, 0.0) * cut for j in range(1, 7))
        react = cc_q & (pmax > 0)
        peak = np.zeros(self.n_v)
        peak[h] = np.where(react, np.minimum(bound, kmin + (r0_h - c_h) * t_r + cascade), bound)
        self.peak, self.r0_h, self.c_h, self.bytes_h = peak, r0_h, c_h, bytes_h

    def ingress_pauses(self, dt: float, rec: EpochCounts) -> None:
        """Per ingress feeding a hot queue (m distinct (queue, ingress) pairs share its peak): what stays in the
        queue (``stay``), the pauses its bytes above XOFF cause and the drops beyond the headroom, counted."""
        ctx, n_j, pair = self.ctx, self.n_j, self.pair
        sc, sp = ctx.sc, ctx.space
        uniq = pair[self.hot[pair // n_j] & (self.pair_slot < n_j - 1)]  # hot (window, queue) x real ingress
        uv, uj = uniq // n_j, uniq % n_j
        uq = self.v_queue[uv]
        m = np.bincount(uv, minlength=self.n_v)
        per_in = self.peak[uv] / np.maximum(m[uv], 1)
        xoff, xon, need, headroom = ctx.xoff[uj], ctx.xon[uj], ctx.need[uj], ctx.headroom[uj]
        ll = ctx.lossless[uj]
        over = ll & (per_in >= xoff)
        stay = np.where(over, np.minimum(per_in, xoff + np.minimum(headroom, need)), per_in)
        # what XOFF keeps out is held upstream and drains at this ingress's share; each XON->XOFF cycle
        # lets (XOFF - XON) more in: pause time and pause events grow as XOFF falls
        held_up = np.where(over, per_in - xoff, 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            t_p = held_up / np.maximum(ctx.cap[uq] / np.maximum(m[uv], 1), 1.0)
        events = np.where(over, 1 + held_up / np.maximum(xoff - xon, ctx.mtu_q[uq]), 0.0)
        # an ingress the epoch's steady excess pauses already: that pause is the one these bytes see (it
        # holds the ingress between XON and XOFF from the start), not a second one on top
        steady = ctx.paused[uj] > 0
        t_p, events = np.where(steady, 0.0, t_p), np.where(steady, 0.0, events)
        drop_ll = np.minimum(events * np.maximum(need - headroom, 0.0), held_up)
        slot = sp.slots[uj]
        jport, prio = slot // QUEUES, slot % QUEUES
        c_up = sc.capacity[sc.peer[jport]]
        t_refresh = PAUSE_QUANTA_BITS / np.maximum(c_up * 8, 1.0) / 2
        frames = events + np.floor(t_p / t_refresh)
        peer_slot = sc.peer[jport] * QUEUES + prio
        for name, values in (("tx_pfc{}_frames", frames), ("tx_pfc{}_pause_us", np.minimum(t_p, dt) * 1e6)):
            rec.add("prio", name, slot, values)
            rec.add("prio", name.replace("tx_", "rx_"), peer_slot, values)
        rec.add_ports("rx_discards", jport, drop_ll / sc.mtu[jport], sc.n_ports)
        self.uv, self.uq, self.ll, self.per_in, self.stay = uv, uq, ll, per_in, stay

    def tail_drops_and_marks(self, rec: EpochCounts, peak_out: F64, marks_out: F64) -> None:
        """A lossy queue's tail drop beyond its limit (counted); what each queue holds at the peak (into
        ``peak_out``) and the marks of the bytes that cross it while it ramps up and drains (into ``marks_out``)."""
        ctx, uv, uq, per_in = self.ctx, self.uv, self.uq, self.per_in
        sc, sp = ctx.sc, ctx.space
        limit = ctx.lossy_limit[uq]
        lossy_over = ~self.ll & (per_in > limit)
        tail = np.where(lossy_over, per_in - limit, 0.0)  # a lossy queue's tail drop
        rec.add("queue", "q{}_drop_bytes", sp.qid[uq], tail)
        rec.add("queue", "q{}_drop_pkts", sp.qid[uq], tail / ctx.mtu_q[uq])
        rec.add_ports("tx_discards", sp.qport[uq], tail / ctx.mtu_q[uq], sc.n_ports)
        held = np.bincount(uv, weights=np.where(self.ll, self.stay, np.minimum(per_in, limit)), minlength=self.n_v)
        np.maximum.at(peak_out, self.v_queue, held)
        hq, r0_h, c_h = self.hq, self.r0_h, self.c_h
        held_h = held[self.h]
        ramp = red_mean(0.0, held_h, ctx.kmin[hq], ctx.kmax[hq], ctx.pmax[hq])  # the queue sweeps 0 -> peak -> 0
        # the bytes that cross the queue while it ramps up to the peak and drains back see the ramp
        seen = np.minimum(self.bytes_h, held_h * (r0_h / np.maximum(r0_h - c_h, 1.0) + 1))
        marks_out += np.bincount(hq, weights=seen / ctx.mtu_q[hq] * ramp, minlength=sp.nq)
