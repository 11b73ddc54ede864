"""DCQCN's start transient per queue (tier E): flows with DCQCN that start at one instant and arrive at an
ECN-marking queue faster than it drains lose link time while DCQCN cuts and recovers them (``TRANSIENT_LOST`` in
meanfield.py); ``StartTransients`` keeps, per queue, the one running and the share of the line it leaves."""

from __future__ import annotations

import numpy as np

from fabric.lab.physics.epoch_state import Space
from fabric.lab.physics.meanfield import TRANSIENT_T, transient_lost
from fabric.lab.physics.rows import Flows
from fabric.lab.physics.scenario import F64, I64, QUEUES, B, Scenario


class StartTransients:
    """Per queue (of ``n_slots``): when a start transient began there (``onset_s``, nan: none), its overload
    (``overload``: arrival / line rate) and how long the group takes there (``span_s``, seconds, losses
    included); ``queues`` lists the queues with one running (sorted): no scan of the arrays."""

    def __init__(self, n_slots: int) -> None:
        self.onset_s = np.full(n_slots, np.nan)
        self.overload = np.zeros(n_slots)
        self.span_s = np.zeros(n_slots)
        self.queues = np.zeros(0, dtype=np.int64)

    def share(self, sc: Scenario, fl: Flows, sp: Space, idx: I64, path: I64, pq: I64, t0: float, t1: float,
              together: B) -> F64:
        """Per queue of the epoch (``sp.qid``): the share of its line rate DCQCN's start transient leaves it.
        Flows with DCQCN that start at one instant (an incast, a collective's step) and arrive at an ECN-marking
        queue faster than it drains start one there (``TRANSIENT_LOST`` with N = their arrival over the queue's
        line rate); it lasts while one of them sends, and a new start replaces it. ``together``: which rows share
        their start with another."""
        nq, qid = sp.nq, sp.qid
        if nq == 0:
            return np.ones(0)
        start = fl.start[idx]
        rows_q = pq[path]
        on_q = rows_q < nq
        new = (start >= t0) & fl.cc[idx] & together
        if new.any():
            hop = on_q & new[:, None]
            q = rows_q[hop]
            # at the rate they start with: flows a NIC starts together share its line (an all-to-all's sender)
            _, by_src, n_src = np.unique(fl.src[idx][new], return_inverse=True, return_counts=True)
            r0 = np.zeros(idx.size)
            r0[new] = np.minimum(fl.max_rate[idx][new], fl.nic_rate[idx][new] / n_src[by_src.reshape(-1)])
            arrive = np.bincount(q, weights=np.broadcast_to(r0[:, None], hop.shape)[hop], minlength=nq)
            nbytes = np.bincount(q, weights=np.broadcast_to(fl.remaining[idx][:, None], hop.shape)[hop], minlength=nq)
            first = np.full(nq, np.inf)
            np.minimum.at(first, q, np.broadcast_to(start[:, None], hop.shape)[hop])
            # as many flows as their arrival is times the line rate (N flows at line rate: N; one 400G flow into a
            # 100G queue: 4, as tier F loses about as much time there as 4 flows starting together)
            over = arrive / np.maximum(sc.capacity[qid // QUEUES], 1.0)
            onset = (sc.ecn_pmax.reshape(-1)[qid] > 0) & (over > 1 + 1e-9)
            self.onset_s[qid[onset]] = first[onset]
            self.overload[qid[onset]] = over[onset]
            # the group's own span: its bytes at line rate plus what the transient loses meanwhile (T = D + L(T))
            d, n_on = nbytes[onset] / sc.capacity[qid[onset] // QUEUES], over[onset]
            self.span_s[qid[onset]] = d + transient_lost(d + transient_lost(d, n_on), n_on)
        on = self.onset_s[qid]
        # the flows that started it still send (a queue no row of the epoch crosses has none left)
        started = on_q & (start[:, None] == on[np.minimum(rows_q, nq - 1)])
        alive = np.bincount(rows_q[started], minlength=nq) > 0
        keep = alive & (t0 - on < TRANSIENT_T[-1])
        self.onset_s[self.queues] = np.nan  # those of the last epoch, and this epoch's queues as they now stand
        self.onset_s[qid] = np.where(keep, on, np.nan)
        self.queues = qid[keep]
        share = np.ones(nq)
        if keep.any():
            on_k, n_k = on[keep], self.overload[qid[keep]]
            a, b = np.maximum(t0, on_k), np.minimum(t1, on_k + self.span_s[qid[keep]])
            ends = transient_lost(np.concatenate([b - on_k, a - on_k]), np.concatenate([n_k, n_k]))
            lost = ends[:on_k.size] - ends[on_k.size:]
            share[keep] = np.where(b > a, np.clip(1 - lost / np.maximum(b - a, 1e-12), 0.0, 1.0), 1.0)
        return share

    def state(self, t0: float) -> tuple[I64, F64, F64, F64]:
        """The start transients running: queues, onsets relative to ``t0`` (to the ps), N, span (for the memo)."""
        q = self.queues
        return q, np.round(self.onset_s[q] - t0, 12), self.overload[q], self.span_s[q]

    def restore(self, t0: float, state: tuple[I64, F64, F64, F64]) -> None:
        """The start transients of a ``state`` taken relative to ``t0`` run again (a replay)."""
        q, rel, overload, span_s = state
        self.onset_s[self.queues] = np.nan
        self.queues = q
        self.onset_s[q], self.overload[q], self.span_s[q] = t0 + rel, overload, span_s
