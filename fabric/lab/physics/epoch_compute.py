"""Tier E, one computed epoch, last part: bursts (``bursts.py``), the watchdog's drops, the epoch's counters and
what it did to its rows (``Progress``). ``EpochCompute.run`` is the whole epoch, stage by stage.

From ``epoch.py``'s model:

5. Counters (CounterFrame): bytes/packets per queue and port, ECN marks, pauses (frames, duration) on both
   ends of each link, drops, CNPs (np_cnp_sent at the receiver, rp_cnp_handled at the sender, at most one
   per flow per CNP interval), watchdog storms, queue occupancy (mean) and watermark (max of p99 and peak).
"""

from __future__ import annotations

import numpy as np

from fabric.lab.physics.bursts import BURST_WINDOW_S, bursts
from fabric.lab.physics.epoch_queues import EpochQueues
from fabric.lab.physics.epoch_state import BurstContext, Progress
from fabric.lab.physics.scenario import QUEUES


class EpochCompute(EpochQueues):
    """One computed epoch (``EpochRates`` explains the method object); ``run`` computes it."""

    def run(self) -> Progress:
        """The epoch, stage by stage; its counters go to ``rec``, the pauses it asserts to the engine's ``u_jp``."""
        self._paths()
        self._capacities()
        self._demand()
        self._fair_shares()
        self._bottlenecks()
        self._offered()
        self._thresholds()
        self._uncontrolled()
        self._operating_points()
        self._unsaturated()
        self._depths_and_marks()
        self._utilisation()
        self._pauses()
        self._bursts()
        self._watchdog_drops()
        self._count_queues()
        self._count_ecn()
        return self._progress()

    def _bursts(self) -> None:
        """Bursts of the rows that start in this epoch (``bursts.py``): peaks, marks, their pauses and drops."""
        nq, t0, t1, sp, cap, lossy_limit = self.nq, self.t0, self.t1, self.sp, self.cap, self.lossy_limit
        mtu_q, kmin, kmax, pmax, xoff, xon = self.mtu_q, self.kmin, self.kmax, self.pmax, self.xoff, self.xon
        need, lossless, u_unc, sc, fl, path = self.need, self.lossless, self.u_unc, self.sc, self.fl, self.path
        dt, rec, idx, slots, eng, rows_q = self.dt, self.rec, self.idx, self.slots, self.eng, self.rows_q
        rows_j, e_f, n_j = self.rows_j, self.e_f, self.n_j
        new = (fl.start[idx] >= t0) & (fl.start[idx] < t1)
        burst_peak = np.zeros(nq)
        burst_marks = np.zeros(nq)
        if new.any():  # flows starting within one BURST_WINDOW of each other arrive together
            sel = np.flatnonzero(new)
            window = np.floor((fl.start[idx[sel]] - t0) / BURST_WINDOW_S).astype(np.int64)
            ctx = BurstContext(sp, cap, lossy_limit, mtu_q, kmin, kmax, pmax, xoff, xon, need,
                               sc.headroom.reshape(-1)[slots], lossless, u_unc, sc, fl, eng.scratch.burst)
            on = path[sel]
            bursts(ctx, idx[sel], np.unique(window, return_inverse=True)[1].reshape(-1), rows_q[on], rows_j[on],
                   rows_j[on] < n_j - 1, e_f[on], dt, rec, burst_peak, burst_marks)
        self.new, self.burst_peak, self.burst_marks = new, burst_peak, burst_marks

    def _watchdog_drops(self) -> None:
        """What rows send through a queue the watchdog holds is lost."""
        path, e_f, stormed, rows_q, nq = self.path, self.e_f, self.stormed, self.rows_q, self.nq
        st_rows = e_f & (rows_q < nq) & stormed[np.minimum(rows_q, max(nq - 1, 0))]
        lost = np.asarray(st_rows.any(axis=1))[path]
        self.st_rows, self.lost = st_rows, lost

    def _count_queues(self) -> None:
        """Queue, port and ingress counters (bytes, packets, marks, drops, pauses)."""
        dt, qid, qport, n, slots, rate, fr = self.dt, self.qid, self.qport, self.n, self.slots, self.rate, self.fr
        nq, rec, mtu_q, sc, rows_j, n_j = self.nq, self.rec, self.mtu_q, self.sc, self.rows_j, self.n_j
        frames, sport, e_f, rows_q, dummy = self.frames, self.sport, self.e_f, self.rows_q, self.dummy
        st_rows, mark, burst_marks, flat_gq, mtu_j = self.st_rows, self.mark, self.burst_marks, self.flat_gq, self.mtu_j
        paused, hr_drop, k_res, lossy_drop = self.paused, self.hr_drop, self.k_res, self.lossy_drop
        bytes_f = rate * fr * dt
        tx_q = self.per_path(bytes_f, np.where(e_f, rows_q, dummy))[:nq]
        drop_st = self.per_path(bytes_f, np.where(st_rows, rows_q, dummy))[:nq]
        tx_q2 = tx_q - drop_st
        rec.add("queue", "q{}_tx_bytes", qid, tx_q2, True)
        rec.add("queue", "q{}_tx_pkts", qid, tx_q2 / mtu_q, True)
        marked = np.minimum(tx_q2 * mark + burst_marks * mtu_q, tx_q2)  # what a watchdog drops leaves unmarked
        rec.add("queue", "q{}_ecn_marked_bytes", qid, marked, True)
        rec.add("queue", "q{}_ecn_marked_pkts", qid, marked / mtu_q, True)
        ld = np.bincount(flat_gq, weights=lossy_drop.reshape(-1), minlength=k_res)[:nq] + drop_st
        rec.add("queue", "q{}_drop_bytes", qid, ld, True)
        rec.add("queue", "q{}_drop_pkts", qid, ld / mtu_q, True)
        peer_q = sc.peer[qport]
        rec.add_ports("tx_octets", qport, tx_q2, n)
        rec.add_ports("tx_ucast_pkts", qport, tx_q2 / mtu_q, n)
        rec.add_ports("rx_octets", peer_q, tx_q2, n)
        rec.add_ports("rx_ucast_pkts", peer_q, tx_q2 / mtu_q, n)
        rec.add_ports("tx_discards", qport, ld / mtu_q, n)  # packets, as IF-MIB's ifOutDiscards
        in_bytes = self.per_path(bytes_f, rows_j, n_j)[:-1]
        real = slots[:-1]
        rec.add("prio", "rx_pg{}_bytes", real, in_bytes, True)
        rec.add("prio", "rx_pg{}_pkts", real, in_bytes / mtu_j[:-1], True)
        pause_us = paused[:-1] * dt * 1e6
        peer_slot = sc.peer[sport[:-1]] * QUEUES + real % QUEUES
        rec.add("prio", "tx_pfc{}_pause_us", real, pause_us, True)
        rec.add("prio", "tx_pfc{}_frames", real, frames[:-1], True)
        rec.add("prio", "rx_pfc{}_pause_us", peer_slot, pause_us, True)  # a MAC counts what it receives, obeyed or not
        rec.add("prio", "rx_pfc{}_frames", peer_slot, frames[:-1], True)
        rec.add_ports("rx_discards", sport[:-1], hr_drop[:-1] / mtu_j[:-1], n)
        self.bytes_f = bytes_f

    def _count_ecn(self) -> None:
        """ECN at the receiver, CNPs sent and handled, queue gauges."""
        path, lost, bytes_f, n, rec, qid = self.path, self.lost, self.bytes_f, self.n, self.rec, self.qid
        q_mean, e_f, mark, idx, q_99 = self.q_mean, self.e_f, self.mark, self.idx, self.q_99
        burst_peak, rows_q, nq, fl, sc, fr = self.burst_peak, self.rows_q, self.nq, self.fl, self.sc, self.fr
        dt = self.dt
        hop_mark = np.where(e_f & (rows_q < nq), mark[np.minimum(rows_q, max(nq - 1, 0))], 0.0)
        p_e2e = (1 - np.exp(np.log1p(-np.minimum(hop_mark, 1 - 1e-12)).sum(axis=1)))[path]
        delivered = np.where(lost, 0.0, bytes_f)
        marked_f = delivered / sc.mtu[fl.dst[idx]] * p_e2e
        cnp = np.where(fl.np_on[idx], np.minimum(fr * dt / fl.cnp_s[idx], marked_f), 0.0)
        rec.add_ports("np_ecn_marked_roce_packets", fl.dst[idx], marked_f, n)
        rec.add_ports("np_cnp_sent", fl.dst[idx], cnp, n)
        rec.add_ports("rp_cnp_handled", fl.src[idx], np.where(fl.cc[idx], cnp, 0.0), n)
        rec.occupancy = (qid, np.minimum(q_mean, self.q_limit))
        rec.watermark = (qid, np.minimum(np.maximum(q_99, burst_peak), self.q_limit))
        self.delivered = delivered

    def _progress(self) -> Progress:
        """What the epoch did to its rows: bytes delivered, completions and FCTs (truth)."""
        idx, path, inst, eventful, delivered = self.idx, self.path, self.inst, self.eventful, self.delivered
        fl, rows_q, lost, rate, nq, t0 = self.fl, self.rows_q, self.lost, self.rate, self.nq, self.t0
        arrivals, new, e_f, q_mean, fr, cap = self.arrivals, self.new, self.e_f, self.q_mean, self.fr, self.cap
        before = fl.remaining[idx]
        left = np.maximum(before - delivered, 0.0)
        finished = (left < 1.0) & (delivered > 0)  # under a byte left is float dust: the flow is done
        fi = idx[finished]
        on = path[finished]
        pf = np.minimum(rows_q[on], max(nq - 1, 0))
        seen = np.minimum(q_mean, self.q_limit)[pf] / np.maximum(cap[pf], 1.0)
        hop_wait = np.where(e_f[on] & (rows_q[on] < nq), seen, 0.0)
        qdelay = hop_wait.sum(axis=1)
        # a flow waits if it finds a queue busy: as likely as the busiest queue on its path (at least)
        busy = np.where(hop_wait > 0, self.busy[pf], 0.0).max(axis=1, initial=0.0)
        done_rel = np.maximum(fl.start[fi] - t0, 0.0) + before[finished] / np.maximum(inst[finished], 1e-9)
        # an aggregate row's members arrive one after another over its window, as a mix's flows do: each sends
        # the row's mean size at what one arrival gets next to the row's other members (it was the row's spread
        # rate: a member took window / members whatever the load, so a light mix's FCTs followed the live
        # engine's tick, slowdown 30 at 0.25 s ticks, 2.5 at 0.01 s)
        agg = fl.members[fi] > 1
        each = inst[finished]
        if agg.any():
            rows = np.flatnonzero(finished)[agg]
            each = each.copy()
            each[agg] = arrivals.rates(rows, rate[rows] * fr[rows] / fl.members[idx[rows]])
        fct = np.where(agg, fl.size[fi] / fl.members[fi] / np.maximum(each, 1e-9),
                       done_rel - (fl.start[fi] - t0)) + qdelay + fl.rtt_s[fi] / 2
        eventful = eventful or bool(new.any()) or bool(finished.any()) or bool((fr < 1).any())
        return Progress(delivered, np.where(lost, 0.0, rate), finished, done_rel, fct, eventful, qdelay,
                        np.where(busy > 0, busy, 1.0))
