"""Tier E, one computed epoch (step 3 of ``epoch.py``'s model), second part: PFC thresholds, what excess does
(pauses on lossless ingresses, tail drops on lossy queues), queue depths (the DCQCN operating point at controlled
queues, M/G/1 at queues saturated only while their flows overlap) and marks, and the pauses each ingress asserts.

From ``epoch.py``'s model:

3. Queues: an ECN-controlled congested queue sits at the DCQCN fixed point (§2.3, q* and p* from the
   flows' knobs, N = DCQCN flows bottlenecked there), scaled by the response surface ``RESPONSE`` (mean and
   p99 around q*, utilisation). A queue with excess on a lossless ingress holds each feeding ingress between
   XON and XOFF and pauses it for the share it cannot serve (1 - served/offered): the upstream port loses
   that fraction of its capacity next epoch, which is how pauses spread one hop per epoch. A lossy queue
   with excess fills to its tail-drop limit and drops the excess. A queue saturated only while its flows
   overlap (open-loop arrivals) is M/G/1: mean q = train rho^2/2(1-rho) (1 - 1/N_eff), train = bytes-weighted
   E[S^2]/E[S] of the flows starting or ending this epoch (whole trains at line rate) and MTU for the rest,
   N_eff the number of equal ingresses its bytes come through (one link no faster than the port: no queue);
   flows that start at one instant (a collective, an incast) are no Poisson trains (the bursts handle them),
   and N steady streams queue at most N packets (N*D/D/1: the MTU part is held to N MTU / 2, the whole depth
   to N MTU where no train arrives);
   its depth is exponential, and where DCQCN reacts the excursion above Kmin decays with scale C t_r / 2.
   Its marks are the RED ramp averaged over that depth (``red_tail_mean``): a lower Kmin marks more and
   queues less.
"""

from __future__ import annotations

import math

import numpy as np

from fabric.lab.physics.bursts import PAUSE_QUANTA_BITS
from fabric.lab.physics.epoch_rates import EpochRates
from fabric.lab.physics.meanfield import dcqcn_fixed_point, reaction_s, response
from fabric.lab.physics.red import red_probability, red_tail_mean
from fabric.lab.physics.scenario import F64

LOSSY_LIMIT_ALPHA = 1 / 8  # lossy egress tail-drop limit: alpha x buffer / (1 + alpha) (HPCC MMU shift 3)
NIC_RX_BUFFER = 1 << 20  # a NIC's receive buffer when its XOFF is dynamic (bytes)
RESPONSE_US = 1e-6  # PFC reaction time in the headroom need (reference §4.4)
RHO_MAX = 0.95


class EpochQueues(EpochRates):
    """The queue stages of one computed epoch (``EpochRates`` explains the method object)."""

    def _thresholds(self) -> None:
        """PFC thresholds per ingress x PG slot (static, or dynamic over the switch's shared buffer and
        the congested ingresses), and each queue's lossy tail-drop limit."""
        g_jp_ok, k_res, sp, eng, sc, nq = self.g_jp_ok, self.k_res, self.sp, self.eng, self.sc, self.nq
        excess, gq, gj, n_j, qport = self.excess, self.gq, self.gj, self.n_j, self.qport
        slots, sport = sp.slots, sp.sport
        mtu_j = sc.mtu[sport].astype(float)
        lossless = sc.pfc_enabled.reshape(-1)[slots]
        buf = eng.port_buffer()
        has_ex = (excess[gq] > 0) & g_jp_ok
        cong_jp = np.bincount(gj[has_ex], minlength=n_j) > 0
        sw_of_jp = sc.switch_of[sport]
        m_sw = np.bincount(np.maximum(sw_of_jp, 0), weights=cong_jp & (sw_of_jp >= 0),
                           minlength=max(sc.buffer_bytes.size, 1))
        m_j = np.where(sw_of_jp >= 0, np.maximum(m_sw[np.maximum(sw_of_jp, 0)], 1), 1)
        alpha = sc.alpha.reshape(-1)[slots]
        dyn = alpha * buf[sport] / (1 + alpha * m_j)
        xoff_set, xon_set = sc.xoff.reshape(-1)[slots], sc.xon.reshape(-1)[slots]
        xoff = np.where(np.isnan(xoff_set), dyn, xoff_set)
        xon = np.where(np.isnan(xon_set), np.maximum(xoff - 2 * mtu_j, 0.0), xon_set)
        lossy_limit = np.full(k_res, float(NIC_RX_BUFFER))
        lossy_limit[:nq] = buf[qport] * LOSSY_LIMIT_ALPHA / (1 + LOSSY_LIMIT_ALPHA)
        self.mtu_j, self.lossless, self.has_ex, self.xoff, self.xon = mtu_j, lossless, has_ex, xoff, xon
        self.lossy_limit, self.slots, self.sport = lossy_limit, slots, sport

    def _uncontrolled(self) -> None:
        """Excess no DCQCN controls: lossless ingresses pause for the share they cannot serve, lossy
        queues fill to their limit and drop it."""
        g_jp_ok, rate_fr, n_j, has_ex, flat_gq = self.g_jp_ok, self.rate_fr, self.n_j, self.has_ex, self.flat_gq
        lossless, gj, rows_j, sc, sport, k_res = self.lossless, self.gj, self.rows_j, self.sc, self.sport, self.k_res
        g_eg, dt, off_fr, off, lossy_limit, gq = self.g_eg, self.dt, self.off_fr, self.off, self.lossy_limit, self.gq
        o_r, excess, rows_q, xoff, xon, cap = self.o_r, self.excess, self.rows_q, self.xoff, self.xon, self.cap
        ll_h = lossless[gj] & g_jp_ok
        o_jp = np.bincount(gj[has_ex], weights=off_fr[has_ex], minlength=n_j)
        s_jp = self.per_path(rate_fr, np.where((excess[rows_q] > 0) & (rows_j < n_j - 1), rows_j, n_j - 1), n_j)
        s_jp[-1] = 0.0
        c_up = sc.capacity[sc.peer[sport]]
        o_link = np.minimum(o_jp, c_up)  # arrivals: at most the link's rate
        with np.errstate(divide="ignore", invalid="ignore"):
            u_unc = np.where(lossless & (o_link > 0), np.clip(1 - s_jp / o_link, 0.0, 1.0), 0.0)
            share_in = np.where(o_jp[gj] > 0, off / np.maximum(o_jp[gj], 1e-9), 0.0)
            share_q = np.where(o_r[gq] > 0, off / np.maximum(o_r[gq], 1e-9), 0.0)
        # bytes held for a queue that drains nothing (its peer pauses it for good: a storm, or the deadlock
        # spreading from one) never leave the ingress's share of the buffer: it stays above XON, paused
        stuck = np.bincount(gj[has_ex & ll_h & (cap[gq] <= 0)], minlength=n_j) > 0
        u_unc = np.where(stuck & lossless, 1.0, u_unc)
        hold = np.where(ll_h, (xoff[gj] + xon[gj]) / 2 * share_in, lossy_limit[gq] * share_q)
        hold = np.where(has_ex, hold, 0.0)
        q_ex = np.bincount(flat_gq, weights=hold.reshape(-1), minlength=k_res)
        lossy_drop = np.where(has_ex & ~ll_h & g_eg, (off_fr - self.gsum(rate_fr)) * dt, 0.0)
        self.s_jp, self.c_up, self.o_link, self.u_unc, self.q_ex = s_jp, c_up, o_link, u_unc, q_ex
        self.lossy_drop, self.share_q = lossy_drop, share_q

    def _operating_points(self) -> None:
        """ECN-controlled congested queues sit at the DCQCN fixed point (``dcqcn_fixed_point``),
        scaled by the response surface (``response``)."""
        cpq, controlled, pmax, nq, cap, qid = self.cpq, self.controlled, self.pmax, self.nq, self.cap, self.qid
        k_res, qport, fl, excess, sc, idx = self.k_res, self.qport, self.fl, self.excess, self.sc, self.idx
        at_ctl = cpq[controlled]
        n_cc = np.bincount(at_ctl, minlength=k_res)[:nq]
        mtu_q = sc.mtu[qport].astype(float)

        def mean_at(values: F64) -> F64:
            total = np.bincount(at_ctl, weights=values[idx][controlled], minlength=k_res)[:nq]
            return np.asarray(total / np.maximum(n_cc, 1))

        c_pk = cap[:nq] / mtu_q
        p_star = dcqcn_fixed_point(n_cc.astype(float), c_pk, mean_at(fl.rai) / mtu_q, mean_at(fl.tau_alpha_s),
                                   mean_at(fl.timer_s), mean_at(fl.byte_reset) / mtu_q)
        kmin, kmax = sc.ecn_kmin.reshape(-1)[qid], sc.ecn_kmax.reshape(-1)[qid]
        pm = np.maximum(pmax, 1e-12)
        q_star = np.where(p_star >= pm, kmax, kmin + p_star / pm * (kmax - kmin))
        r_mean, r_99, util, r_mark = response(n_cc.astype(float))
        ctl_q = (n_cc > 0) & (excess[:nq] == 0)
        q_ctl = kmin + r_mean * (q_star - kmin)
        q_ctl99 = kmin + r_99 * (q_star - kmin)
        self.mtu_q, self.p_star, self.ctl_q, self.q_ctl, self.q_ctl99 = mtu_q, p_star, ctl_q, q_ctl, q_ctl99
        self.kmin, self.kmax, self.util, self.r_mark = kmin, kmax, util, r_mark

    def _unsaturated(self) -> None:
        """Queues saturated only while their flows overlap: M/G/1 depth (mean and p99)."""
        dt, mtu_q, rate, fr, together, rows_q = self.dt, self.mtu_q, self.rate, self.fr, self.together, self.rows_q
        nq, kmin, t0, width, n_j, k_res, idx = self.nq, self.kmin, self.t0, self.width, self.n_j, self.k_res, self.idx
        pmax, rows_j, path, fl, cap_e, s_r = self.pmax, self.rows_j, self.path, self.fl, self.cap_e, self.s_r
        n_p, cap = self.n_p, self.cap
        # unsaturated queues: M/G/1 (Pollaczek-Khinchine), depth exponential around that mean. The jobs are
        # packets for flows sending through the epoch, and a whole flow (its bytes this epoch) for one that
        # starts or ends in it, arriving at line rate as one train (an aggregate row's train is one member's
        # share): train = bytes-weighted E[S^2] / E[S]. Where DCQCN flows cross a marking queue, what passes
        # Kmin is pulled back within the reaction's overshoot C t_r (the bursts' term with one extra train at
        # line rate): the excursion ramps up to it and back, so above Kmin the depth decays with scale C t_r / 2
        with np.errstate(divide="ignore", invalid="ignore"):
            rho = np.clip(np.where(cap_e[:nq] > 0, s_r[:nq] / cap_e[:nq], 0.0), 0.0, RHO_MAX)
        sent = rate * fr * dt
        # flows that start at one instant (a collective's launch or step, an incast's fan-in) are no Poisson
        # arrivals: how they overlap is known, and the bursts compute it; they queue here as packets only
        # an aggregate row's members arrive one after another over its window: each a train of a member's size
        agg = fl.members[idx] > 1
        transient = ((fl.start[idx] >= t0) | (sent >= fl.remaining[idx] * (1 - 1e-9)) | agg) & ~together
        train = np.where(agg, fl.size[idx] / fl.members[idx], sent)
        x2 = self.per_path(np.where(transient, sent * train, 0.0), rows_q)[:nq]
        x_steady = self.per_path(np.where(transient, 0.0, sent), rows_q)[:nq]
        x_all = self.per_path(sent, rows_q)[:nq]
        # a queue fed through one link no faster than its own drains as it fills: only overlapping ingresses
        # queue. P-K for N_eff = (sum x)^2 / sum x^2 equal sources over their ingresses, scaled by 1 - 1/N_eff
        # (0 for one source, M/G/1 for many)
        pair, pair_of = np.unique((rows_q * n_j + rows_j).reshape(-1), return_inverse=True)
        x_pair = np.bincount(pair_of.reshape(-1), weights=np.repeat(np.bincount(path, weights=sent, minlength=n_p),
                                                                   width), minlength=pair.size)
        x_sq = np.bincount(pair // n_j, weights=x_pair * x_pair, minlength=k_res)[:nq]
        overlap = np.where(x_all > 0, 1 - x_sq / np.maximum(x_all * x_all, 1e-30), 0.0)
        # steady flows send at constant rates: N such streams whose rates fit the line never queue more than
        # N packets (N*D/D/1), so the packets' part of P-K is held to N MTU / 2 and, with no trains, so is
        # the depth (no tail beyond N MTU)
        pk = rho**2 / (2 * (1 - rho)) * np.clip(overlap, 0.0, 1.0)
        n_steady = self.per_path((~transient).astype(float), rows_q)[:nq]
        bound = np.maximum(n_steady, 1) * mtu_q
        with np.errstate(divide="ignore", invalid="ignore"):
            q_trains = np.where(x_all > 0, x2 / x_all, 0.0) * pk
            q_pkts = np.where(x_all > 0, x_steady / x_all, 1.0) * mtu_q * pk
        q_free = q_trains + np.minimum(q_pkts, bound / 2)
        bounded = x2 == 0
        cc_f = fl.cc[idx].astype(float)
        n_react = self.per_path(cc_f, rows_q)[:nq]
        t_react = self.per_path(cc_f * reaction_s(fl.rtt_s[idx], fl.cnp_s[idx], fl.cut_s[idx]), rows_q)[:nq]
        t_react = t_react / np.maximum(n_react, 1)
        above = np.where((n_react > 0) & (pmax > 0), np.minimum(q_free, cap[:nq] * t_react / 2), q_free)
        reach = np.exp(-kmin / np.maximum(q_free, 1e-9))  # P(q > Kmin)
        q_unsat = q_free * (1 - reach) + reach * above
        q_unsat99 = np.where(reach <= 0.01, q_free * math.log(100),
                             kmin + above * (math.log(100) + np.log(np.maximum(reach, 1e-300))))
        q_unsat99 = np.where(bounded, np.minimum(q_unsat99, bound), q_unsat99)
        self.bound, self.q_free, self.bounded, self.above, self.q_unsat = bound, q_free, bounded, above, q_unsat
        self.q_unsat99, self.rho = q_unsat99, rho

    def _depths_and_marks(self) -> None:
        """Each queue's mean and p99 depth (excess, operating point or M/G/1) and its marked share."""
        ctl_q, q_ex, q_ctl, q_unsat, q_ctl99 = self.ctl_q, self.q_ex, self.q_ctl, self.q_unsat, self.q_ctl99
        q_unsat99, kmin, kmax, pmax, excess, nq = self.q_unsat99, self.kmin, self.kmax, self.pmax, self.excess, self.nq
        bounded, q_free, above, p_star, r_mark = self.bounded, self.q_free, self.above, self.p_star, self.r_mark
        bound = self.bound
        q_mean = np.where(excess[:nq] > 0, q_ex[:nq], np.where(ctl_q, q_ctl, q_unsat))
        q_99 = np.where(excess[:nq] > 0, q_ex[:nq], np.where(ctl_q, q_ctl99, q_unsat99))
        # what a queue can hold: a lossy one drops at its tail-drop limit, a lossless one at most fills its
        # switch's shared buffer (a NIC's, its receive buffer); the M/G/1 tail of heavy-tailed trains at high
        # load does not know that (557 MB watermarks under WebSearch at 30 % with no ECN). The depths the
        # devices report and the waits flows see are held to it (the pauses still follow the unbounded tail)
        self.q_limit = np.where(self.sc.pfc_enabled.reshape(-1)[self.qid], self.eng.port_buffer()[self.qport],
                                self.lossy_limit[:nq])
        # marks: the fixed point's at a controlled queue; a queue held by excess marks at its depth; an
        # unsaturated one over its tail (its mean alone sits below any Kmin and would never mark)
        mark = np.where(excess[:nq] > 0, red_probability(q_mean, kmin, kmax, pmax),
                        np.where(bounded & (bound <= kmin), 0.0, red_tail_mean(q_free, above, kmin, kmax, pmax)))
        mark = np.where(ctl_q, np.minimum(p_star * r_mark, 1.0), mark)
        mark = np.where(pmax > 0, mark, 0.0)
        # the share of arrivals that find the queue busy (PASTA: its utilisation where it is unsaturated; every
        # one where excess or a DCQCN operating point holds it): what a mouse's own wait is drawn from (truth)
        busy = np.where((excess[:nq] > 0) | ctl_q, 1.0, self.rho)
        self.q_mean, self.q_99, self.mark, self.busy = q_mean, q_99, mark, busy

    def _utilisation(self) -> None:
        """Rows at a DCQCN-controlled bottleneck send at its utilisation (below line rate)."""
        ctl_q, util, rate, controlled, nq = self.ctl_q, self.util, self.rate, self.controlled, self.nq
        cpq_e = self.cpq_e
        eta = np.where(ctl_q, util, 1.0)
        rate = rate * np.where(controlled, eta[cpq_e] if nq else 1.0, 1.0)
        self.rate = rate

    def _pauses(self) -> None:
        """Per ingress slot: the share of the epoch it pauses its peer (excess, the tail of controlled queues,
        NIC storms), pause frames and drops for want of headroom; kept for the next epoch's capacities."""
        gq, n_j, rate_fr, rows_j, lossless = self.gq, self.n_j, self.rate_fr, self.rows_j, self.lossless
        mtu_j, npq, eng, g_jp_ok, has_ex, gj = self.mtu_j, self.npq, self.eng, self.g_jp_ok, self.has_ex, self.gj
        u_unc, c_up, xoff, xon, slots, nq, sc = self.u_unc, self.c_up, self.xoff, self.xon, self.slots, self.nq, self.sc
        dt, share_q, sport, s_jp, q_mean, q_99 = self.dt, self.share_q, self.sport, self.s_jp, self.q_mean, self.q_99
        o_link = self.o_link
        # pauses from the tail of controlled queues (exponential tail between mean and p99)
        gq_e = np.minimum(gq, max(nq - 1, 0))
        tail = g_jp_ok & (gq < nq) & ~has_ex
        i_mean = np.bincount(gj[tail], weights=(q_mean[gq_e] * share_q)[tail], minlength=n_j)
        i_99 = np.bincount(gj[tail], weights=(q_99[gq_e] * share_q)[tail], minlength=n_j)
        beta = np.maximum(i_99 - i_mean, 1.0) / math.log(50)
        u_tail = np.where(lossless & (i_99 > 0), np.clip(0.5 * np.exp(-(xoff - i_mean) / beta), 0.0, 1.0), 0.0)
        u_tail = np.where(u_tail < 1e-6, 0.0, u_tail)  # below one microsecond per second: none

        # NIC storms: the NIC's ingress asserts pause on its PFC priorities (priority 3 when none is set)
        storm_u = np.zeros(n_j)
        if eng.storm.any():
            prios = sc.pfc_enabled | sc.pfc_enabled[sc.peer]
            storm_u[:-1] = (eng.storm[:, None] & prios).reshape(-1)[slots[:-1]]
        u_new = np.maximum(np.maximum(u_unc, u_tail), storm_u)
        s_in = self.per_path(rate_fr, rows_j, n_j)
        s_in[-1] = 0.0  # the dummy slot: source NICs have no ingress
        need = 2 * c_up * sc.delay_s[sport] + 2 * mtu_j + c_up * RESPONSE_US
        short = np.where(lossless, np.maximum(need - sc.headroom.reshape(-1)[slots], 0.0), 0.0)
        hyst = np.maximum(xoff - xon, mtu_j)
        with np.errstate(divide="ignore", invalid="ignore"):
            cycle = hyst / np.maximum(o_link - s_jp, 1.0) + hyst / np.maximum(s_jp, 1.0)
            events = np.where(u_unc > 0, dt / cycle, 0.0) + u_tail * dt / (hyst / np.maximum(s_in, 1.0))
        t_refresh = PAUSE_QUANTA_BITS / np.maximum(c_up * 8, 1.0) / 2
        u_jp = np.zeros(npq)
        u_jp[slots[:-1]] = u_new[:-1]
        eng.u_jp = u_jp
        paused = u_new
        frames = events + paused * dt / t_refresh
        hr_drop = events * short * (paused > 0)
        self.need, self.paused, self.frames, self.hr_drop = need, paused, frames, hr_drop
