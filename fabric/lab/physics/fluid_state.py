"""Tier F's fixed index arrays, its DCQCN reaction-point state machine and its counter accumulators.

Split from ``fluid`` so the step function reads as the §A.2 recipe: ``Layout`` is everything derived once
from the Scenario (who feeds whom, which key may pause which hop, thresholds as flat arrays), ``DcqcnArrays``
is step 5 (per-flow due times instead of events), ``Counters`` collects per-hop/per-key sums between two
frames, and ``frame_from`` scatters them onto ports once per ``advance`` rather than once per step.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np

from fabric.lab.physics.red import RedRamp
from fabric.lab.physics.scenario import F64, QUEUES, CounterFrame, Scenario

NIC_BUFFER_BYTES = 1 << 20  # a NIC's receive buffer: what its dynamic PFC threshold divides
PAUSE_QUANTA = 65535 * 512  # bit times of one maximal PFC pause; a paused port refreshes at half of it
NIC_BACKLOG_MTUS = 4


class Layout:
    """Index arrays of one Scenario at one dt (see ``fluid`` for the extended-hop and key spaces)."""

    def __init__(self, s: Scenario, dt: float) -> None:
        n_ports, n_real, n_flows = s.n_ports, len(s.hop_flow), s.n_flows
        self.n_real, self.n_flows, self.n_hops = n_real, n_flows, n_real + n_flows
        self.n_keys = n_ports * QUEUES + 1
        dummy = self.n_keys - 1
        self.hop_flow = s.hop_flow
        self.flow_of_hop = np.concatenate((s.hop_flow, np.arange(n_flows)))
        self.flow_range = np.arange(n_flows)
        self.key_range = np.arange(self.n_keys)
        self._paths(s)
        last_pg = np.zeros(n_flows, dtype=np.int64)
        last = self.next_hop >= n_real
        last_pg[s.hop_flow[last]] = s.hop_pg[last]
        self.flow_prio = last_pg
        self.key_in = np.concatenate((np.where(s.hop_ingress >= 0, s.hop_ingress * QUEUES + s.hop_pg, dummy),
                                      s.flow_dst * QUEUES + last_pg))
        self.key_next = np.concatenate((self.key_in[self.next_hop], np.full(n_flows, dummy)))
        self.hop_delay = np.maximum(1, np.round(s.delay_s[s.hop_port] / dt)).astype(np.int64)
        key_port = np.minimum(self.key_range // QUEUES, n_ports - 1)
        self.key_delay = np.maximum(1, np.round(s.delay_s[key_port] / dt)).astype(np.int64)
        self.key_delay[dummy] = 1
        self.ring = int(max(self.hop_delay.max(initial=1), self.key_delay.max())) + 1
        self.hop_delay_same = _same(self.hop_delay)  # uniform cables: index one ring row, not a 2-D gather
        self._mark_delays(s, dt)
        self.key_delay_same = _same(self.key_delay[:-1])
        one_way = scatter(s.hop_flow, s.delay_s[s.hop_port], n_flows)
        self.cnp_delay = np.maximum(1, np.round(one_way / dt)).astype(np.int64)
        self.cnp_delay_same = _same(self.cnp_delay)
        self.capacity = s.capacity.astype(np.float64)
        self.cap_index = np.concatenate((s.hop_port, n_ports + s.flow_dst))
        self.n_caps = 2 * n_ports
        self.queue_index = s.hop_port * QUEUES + s.hop_queue
        self.n_queues = n_ports * QUEUES
        self.red = RedRamp(s.ecn_kmin.ravel(), s.ecn_kmax.ravel(), s.ecn_pmax.ravel())
        self.flow_mtu = s.mtu[s.flow_src].astype(np.float64)
        self.inv_mtu = 1.0 / self.flow_mtu
        self.nic_backlog = NIC_BACKLOG_MTUS * self.flow_mtu
        self._thresholds(s, key_port, dummy)
        self._devices(s, key_port)
        self._watchdog(s, key_port, dummy)
        self.refresh_s = np.append(PAUSE_QUANTA / np.maximum(self.capacity[key_port[:-1]] * 8, 1.0) / 2, np.inf)

    def _mark_delays(self, s: Scenario, dt: float) -> None:
        """Steps from each hop's dequeue to the flow's receiver (its own cable and every later one): a mark
        set at dequeue reaches the NP that much later, so the NP reads each hop's mark probability that many
        steps old (``mark_gather``: flat indices into a ring of per-hop probabilities, one table row per step
        modulo ``mark_rows``). The cables' propagation delay, rounded once: the byte ring's one-step floor per
        hop is a discretisation of short cables, not a delay to add. Queueing further down is not added."""
        down = s.delay_s[s.hop_port].astype(np.float64)
        nxt = self.next_hop.copy()
        while (live := nxt < self.n_real).any():
            down[live] += s.delay_s[s.hop_port[nxt[live]]]
            nxt[live] = self.next_hop[nxt[live]]
        steps = np.round(down / dt).astype(np.int64)
        self.mark_rows = int(steps.max(initial=0)) + 1
        rows = (np.arange(self.mark_rows)[:, None] - steps[None, :]) % self.mark_rows
        self.mark_gather = rows * self.n_real + np.arange(self.n_real)[None, :]

    def _paths(self, s: Scenario) -> None:
        """The hop each hop feeds: the same flow's hop entering through this hop's peer port, else the sink."""
        by_entry = {(int(f), int(i)): h for h, (f, i) in enumerate(zip(s.hop_flow, s.hop_ingress, strict=True))}
        self.next_hop = np.array([by_entry.get((int(f), int(s.peer[p])), self.n_real + int(f))
                                  for f, p in zip(s.hop_flow, s.hop_port, strict=True)], dtype=np.int64)
        first = np.zeros(self.n_flows, dtype=np.int64)
        src = s.hop_ingress < 0
        first[s.hop_flow[src]] = np.flatnonzero(src)
        self.first = first

    def _thresholds(self, s: Scenario, key_port: Any, dummy: int) -> None:
        def flat(a: Any, fill: float) -> F64:
            return np.append(np.asarray(a, dtype=np.float64).ravel(), fill)
        self.lossless = np.append(s.pfc_enabled.ravel(), False)
        self.xoff, self.xon = flat(s.xoff, np.inf), flat(s.xon, np.inf)
        self.static, self.static_xon = ~np.isnan(self.xoff), ~np.isnan(self.xon)
        self.alpha = flat(s.alpha, 1.0)
        self.headroom = np.where(self.lossless, flat(s.headroom, 0.0), 0.0)
        self.two_mtu = np.append(2.0 * s.mtu[key_port[:-1]], 0.0)

    def _devices(self, s: Scenario, key_port: Any) -> None:
        n_sw = len(s.buffer_bytes)
        self.buffer = np.concatenate((s.buffer_bytes.astype(np.float64), np.full(s.n_ports, float(NIC_BUFFER_BYTES))))
        self.n_devices = len(self.buffer)
        device_of_port = np.where(s.switch_of >= 0, s.switch_of, n_sw + np.arange(s.n_ports))
        self.hop_device = np.concatenate((device_of_port[s.hop_port], device_of_port[s.flow_dst]))
        self.key_device = device_of_port[key_port]

    def _watchdog(self, s: Scenario, key_port: Any, dummy: int) -> None:
        """A key's watchdog is the one on its upstream port (the port that receives the pauses)."""
        upstream = s.peer[key_port]
        self.wd_detect = s.watchdog_detect_s[upstream].astype(np.float64)
        self.wd_restore = s.watchdog_restore_s[upstream].astype(np.float64)
        self.wd_enabled = ~np.isnan(self.wd_detect) & self.lossless
        self.wd_enabled[dummy] = False
        self.has_watchdog = bool(self.wd_enabled.any())


def scatter(index: Any, values: Any, size: int) -> F64:
    """Sum ``values`` into ``size`` bins by ``index`` (np.bincount with weights is float; its stubs say int)."""
    return cast(F64, np.bincount(index, values, minlength=size))


def _same(values: Any) -> int | None:
    return int(values[0]) if len(values) and (values == values[0]).all() else None


class DcqcnArrays:
    """Step 5, the reaction point of every flow with its source NIC's knobs (reference §1.1, §1.2)."""

    def __init__(self, s: Scenario, flow_prio: Any) -> None:
        def per_flow(name: str, scale: float = 1.0) -> F64:
            return np.array([float(getattr(k, name)) * scale for k in s.dcqcn], dtype=np.float64)
        self.enabled = np.array([int(p) in k.rp_enabled_priorities and int(p) in k.np_enabled_priorities
                                 for k, p in zip(s.dcqcn, flow_prio, strict=True)], dtype=bool)
        self.cnp_interval = per_flow("min_time_between_cnps_us", 1e-6)
        self.cut_period = per_flow("rate_reduce_monitor_period_us", 1e-6)
        self.alpha_period = per_flow("dce_tcp_rtt_us", 1e-6)
        self.timer = per_flow("rpg_time_reset_us", 1e-6)
        self.byte_reset = np.maximum(per_flow("rpg_byte_reset"), 1.0)
        self.threshold = per_flow("rpg_threshold")
        self.ai, self.hai = per_flow("rpg_ai_rate_mbps", 1e6 / 8), per_flow("rpg_hai_rate_mbps", 1e6 / 8)
        self.min_rate = per_flow("rpg_min_rate_mbps", 1e6 / 8)
        self.min_factor = per_flow("rpg_min_dec_fac", 1e-2)
        self.clamp = np.array([k.clamp_tgt_rate for k in s.dcqcn], dtype=bool)
        self.any_enabled = bool(self.enabled.any())
        self.line = s.capacity[s.flow_src].astype(np.float64)
        self.rc, self.rt = self.line.copy(), self.line.copy()
        self.alpha = per_flow("initial_alpha_value", 1 / 1023)
        self.alpha0 = self.alpha.copy()
        n = s.n_flows
        self.alpha_flag, self.cut_pending = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
        self.cut_due = np.full(n, -np.inf)
        self.alpha_due = s.flow_start_s + self.alpha_period
        self.timer_due = s.flow_start_s + self.timer
        self.t_stage, self.b_stage, self.bytes = np.zeros(n), np.zeros(n), np.zeros(n)
        self.zero_events = np.zeros(n)
        self.pending = False
        self.next_alpha = float(self.alpha_due.min(initial=np.inf)) - 1e-12
        self.next_timer = float(self.timer_due.min(initial=np.inf)) - 1e-12

    def restart(self, flows: Any, t: F64) -> None:
        """Fresh reaction points for ``flows`` starting at ``t`` (per flow): a chained step starts later than the
        start time its state was set up for, and its alpha must not have decayed, nor its timer counted, since."""
        self.rc[flows], self.rt[flows], self.alpha[flows] = self.line[flows], self.line[flows], self.alpha0[flows]
        self.alpha_flag[flows], self.cut_pending[flows] = False, False
        self.cut_due[flows] = -np.inf
        self.alpha_due[flows], self.timer_due[flows] = t + self.alpha_period[flows], t + self.timer[flows]
        self.t_stage[flows], self.b_stage[flows], self.bytes[flows] = 0.0, 0.0, 0.0
        self.next_alpha = min(self.next_alpha, float(self.alpha_due[flows].min(initial=np.inf)) - 1e-12)
        self.next_timer = min(self.next_timer, float(self.timer_due[flows].min(initial=np.inf)) - 1e-12)

    def react(self, t: float, cnp: Any, sent: F64, any_cnp: bool, check_bytes: bool = True,
              g: float = 1.0 / 256) -> None:
        """CNPs arm a cut (at most one per cut period) and set alpha's flag; alpha ticks every alpha period;
        the timer and the byte counter count stages since the last cut: fast recovery while both are at
        most F (``rpg_threshold``), hyper increase once both are past F, additive increase otherwise.
        Scalar "next due" times skip the per-flow work on steps where nothing can happen; the byte counter
        is only read when ``check_bytes`` (the engine reads it every few steps: its expiries are counted
        exactly, at most that many steps late, and a cut in between still clears them)."""
        if any_cnp:
            self.cut_pending |= cnp
            self.alpha_flag |= cnp
            self.pending = True
        if t >= self.next_alpha:
            tick = t >= self.alpha_due - 1e-12
            self.alpha = np.where(tick, (1 - g) * self.alpha + g * self.alpha_flag, self.alpha)
            self.alpha_due = np.where(tick, self.alpha_due + self.alpha_period, self.alpha_due)
            self.alpha_flag &= ~tick
            self.next_alpha = float(self.alpha_due.min()) - 1e-12
        if self.pending:
            cut = self.cut_pending & (t >= self.cut_due - 1e-12)
            if cut.any():
                self._cut(t, cut)
            self.pending = bool(self.cut_pending.any())
        timer = self.zero_events
        if t >= self.next_timer:
            timer = (t >= self.timer_due - 1e-12).astype(np.float64)
            self.timer_due = np.where(timer > 0, self.timer_due + self.timer, self.timer_due)
            self.next_timer = float(self.timer_due.min()) - 1e-12
        self.bytes += sent
        if check_bytes:
            over = self.bytes >= self.byte_reset
            if over.any():
                expiries = np.where(over, np.floor(self.bytes / self.byte_reset), 0.0)
                self.bytes -= expiries * self.byte_reset
                self._increase(timer, expiries, timer + expiries)
                return
        if timer is not self.zero_events:
            self._increase(timer, self.zero_events, timer)

    def _cut(self, t: float, cut: Any) -> None:
        factor = np.maximum(1 - self.alpha / 2, self.min_factor)
        # mlx firmware: without clamp_tgt_rate, RT follows RC only if an increase event came since the last
        # cut (HPCC's ns-3 port checks its timer stage; it has no byte counter, so either stage counts here)
        clamp = cut & (self.clamp | (self.t_stage + self.b_stage > 0))
        self.rt = np.where(clamp, self.rc, self.rt)
        self.rc = np.where(cut, np.maximum(self.min_rate, self.rc * factor), self.rc)
        self.cut_pending &= ~cut
        self.cut_due = np.where(cut, t + self.cut_period, self.cut_due)
        self.t_stage[cut], self.b_stage[cut], self.bytes[cut] = 0.0, 0.0, 0.0
        self.timer_due = np.where(cut, t + self.timer, self.timer_due)
        self.next_timer = float(self.timer_due.min()) - 1e-12

    def _increase(self, timer: Any, expiries: F64, events: F64) -> None:
        self.t_stage += timer
        self.b_stage += expiries
        hi, lo = np.maximum(self.t_stage, self.b_stage), np.minimum(self.t_stage, self.b_stage)
        step = np.where(hi <= self.threshold, 0.0,
                        np.where(lo > self.threshold, (lo - self.threshold) * self.hai, self.ai))
        self.rt = np.minimum(self.line, self.rt + step * events)
        self.rc = np.minimum(self.rt, self.rt - (self.rt - self.rc) * 0.5 ** events)


class LastBytes:
    """When each flow is done, first in, first out. The queues of the fluid model serve a port's hops in
    proportion to what each holds, which moves the right bytes but drains one flow's last bytes behind a
    queue another flow keeps full exponentially (a 200 KB flow next to a long one "finished" after 20 time
    constants of the queue: 322 us, where a FIFO switch lets its last packet out once the bytes ahead of it,
    its own and as many of the other flow's, have left: ~35 us). So the last byte of a flow that has posted all
    of its bytes is followed through its path: at each egress queue (and its receiver) it waits for the bytes
    that were there when it arrived, which leave as the queue is served, paused or not, then crosses the link;
    it is done when it leaves the receiver's."""

    def __init__(self, lay: Layout, s: Scenario) -> None:
        n_flows = s.n_flows
        self.hop = np.full(n_flows, -1, dtype=np.int64)  # the extended hop its last byte is at or heads to
        self.due = np.zeros(n_flows, dtype=np.int64)  # the step it arrives there
        self.ahead = np.full(n_flows, np.nan)  # bytes ahead of it in that FIFO (NaN: not yet arrived)
        self.fifo = np.concatenate((lay.queue_index, lay.n_queues + s.flow_dst))  # per extended hop
        self.n_fifo = lay.n_queues + s.n_ports
        self.next = np.concatenate((lay.next_hop, np.full(n_flows, -1)))
        self.delay = np.concatenate((lay.hop_delay, np.zeros(n_flows, dtype=np.int64)))
        self.first = lay.first

    def post(self, flows: Any, step: int) -> None:
        """``flows`` have just posted their last byte at their source."""
        self.hop[flows], self.due[flows], self.ahead[flows] = self.first[flows], step, np.nan

    def cancel(self, flows: Any) -> None:
        """``flows`` have bytes to send again (dropped ones are resent): their last byte is still to come."""
        self.hop[flows] = -1

    def advance(self, step: int, queued: F64, served: F64) -> Any:
        """One step: ``queued`` bytes per extended hop before service (arrivals included), ``served`` what left
        each; returns the flows whose last byte left their receiver's queue."""
        moving = np.flatnonzero((self.hop >= 0) & (self.due <= step))
        if moving.size == 0:
            return moving
        at = self.hop[moving]
        key = self.fifo[at]
        fresh = np.isnan(self.ahead[moving])
        if fresh.any():
            content = np.bincount(self.fifo, weights=queued, minlength=self.n_fifo)
            self.ahead[moving[fresh]] = content[key[fresh]]
        self.ahead[moving] -= np.bincount(self.fifo, weights=served, minlength=self.n_fifo)[key]
        left = self.ahead[moving] <= 1e-6
        out, from_hop = moving[left], at[left]
        nxt = self.next[from_hop]
        self.hop[out], self.due[out], self.ahead[out] = nxt, step + self.delay[from_hop], np.nan
        return out[nxt < 0]


class Counters:
    """Sums between two frames, per extended hop (bytes), per key (steps, edges) and per flow (events)."""

    def __init__(self, lay: Layout) -> None:
        self.lay = lay
        self.marks_counted = np.zeros(lay.n_flows)  # pending marks already reported by the last frame
        self.in_flight = np.zeros(lay.n_hops)  # bytes on the cables towards each hop at the last frame
        self.reset(np.zeros(lay.n_queues))

    def reset(self, occupancy: F64) -> None:
        lay = self.lay
        self.tx, self.marked, self.wd_drop = np.zeros(lay.n_real), np.zeros(lay.n_real), np.zeros(lay.n_real)
        self.drop = np.zeros(lay.n_hops)
        self.edges, self.paused, self.seen = (np.zeros(lay.n_keys) for _ in range(3))
        self.wd_detected, self.wd_restored = np.zeros(lay.n_keys), np.zeros(lay.n_keys)
        self.np_marked, self.cnp_sent, self.cnp_handled = (np.zeros(lay.n_flows) for _ in range(3))
        self.occupancy, self.watermark = occupancy, occupancy.copy()


def frame_from(acc: Counters, lay: Layout, s: Scenario, dt: float, pending_marks: F64, in_flight: F64
               ) -> CounterFrame:
    """Scatter the accumulated sums onto ports/queues/priorities (canonical counter names) and reset them.

    Received bytes are the bytes each hop's predecessor sent in the frame, less what is still on the cable
    (``in_flight`` per destination hop, now and at the last frame): rx lags the upstream tx by the link's
    in-flight bytes, as on a real link. Marks not yet turned into a CNP
    (``pending_marks``) are counted now and subtracted from the next frame's."""
    n = s.n_ports
    frame = CounterFrame.zeros(n)
    mtu = s.mtu.astype(np.float64)[:, None]

    def by_queue(values: F64) -> F64:
        return scatter(lay.queue_index, values, lay.n_queues).reshape(n, QUEUES)

    def by_key(values: F64) -> F64:
        return scatter(lay.key_in, values, lay.n_keys)[:-1].reshape(n, QUEUES)

    def key_rows(values: F64) -> F64:
        return values[:-1].reshape(n, QUEUES)

    tx, drop, marked = by_queue(acc.tx), by_queue(acc.drop[: lay.n_real] + acc.wd_drop), by_queue(acc.marked)
    received = acc.in_flight - in_flight
    received[lay.next_hop] += acc.tx
    acc.in_flight = in_flight
    # a lossy queue's drop is an egress discard (a tail drop); a lossless PG past its headroom, or a NIC's
    # receive buffer, discards at the ingress
    tail = acc.drop[: lay.n_real] * ~lay.lossless[lay.key_in[: lay.n_real]]
    rx, ingress_drop = by_key(received), by_key(acc.drop - np.append(tail, np.zeros(lay.n_flows)))
    frames = key_rows(acc.edges + acc.paused * dt / lay.refresh_s)
    q, p, pr = frame.queue, frame.port, frame.prio
    q["q{}_tx_bytes"], q["q{}_tx_pkts"] = tx, tx / mtu
    q["q{}_drop_bytes"], q["q{}_drop_pkts"] = drop, drop / mtu
    q["q{}_ecn_marked_bytes"], q["q{}_ecn_marked_pkts"] = marked, marked / mtu
    pr["rx_pg{}_bytes"], pr["rx_pg{}_pkts"] = rx, rx / mtu
    pr["tx_pfc{}_frames"], pr["rx_pfc{}_frames"] = frames, frames[s.peer]
    pr["tx_pfc{}_pause_us"] = key_rows(acc.paused) * dt * 1e6
    pr["rx_pfc{}_pause_us"] = key_rows(acc.seen)[s.peer] * dt * 1e6
    p["tx_octets"], p["tx_ucast_pkts"] = tx.sum(1), (tx / mtu).sum(1)
    p["rx_octets"], p["rx_ucast_pkts"] = rx.sum(1), (rx / mtu).sum(1)
    p["rx_discards"] = (ingress_drop / mtu).sum(1)
    p["tx_discards"] = scatter(s.hop_port, acc.wd_drop + tail, n) / mtu[:, 0]
    p["np_cnp_sent"] = scatter(s.flow_dst, acc.cnp_sent, n)
    p["np_ecn_marked_roce_packets"] = scatter(s.flow_dst, acc.np_marked, n)
    p["rp_cnp_handled"] = scatter(s.flow_src, acc.cnp_handled, n)
    p["pfcwd_storm_detected"] = key_rows(acc.wd_detected)[s.peer].sum(1)
    p["pfcwd_storm_restored"] = key_rows(acc.wd_restored)[s.peer].sum(1)
    frame.gauge["q{}_occupancy_bytes"] = acc.occupancy.reshape(n, QUEUES).copy()
    frame.gauge["q{}_watermark_bytes"] = acc.watermark.reshape(n, QUEUES).copy()
    acc.reset(acc.occupancy)
    return frame
