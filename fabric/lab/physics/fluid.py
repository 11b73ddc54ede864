"""Tier F: the 1 us fluid DCQCN + RED/ECN + PFC + watchdog model (reference §A.2 steps 1-8), vectorised.

Everything is an array over flow-hops, PFC keys (ingress port x priority) or flows, and one step is a fixed
list of NumPy operations with no Python loop over flows, so the cost per step is overhead-bound. Index
spaces beyond the Scenario's:

- extended hops: the Scenario's flow-hops ``0..H-1`` plus one *sink hop* per flow (``H + f``): the flow's
  bytes waiting in the destination NIC, drained at ``sink_capacity`` and accounted to the NIC's ingress,
  so a NIC that cannot drain pauses its leaf port exactly like a switch ingress.
- keys ``k = port * 8 + priority``: a PFC ingress (port, PG); key ``K = 8 P`` is a dummy for the source NIC
  hop (bytes from the host's own stack arrive through no ingress and are never paused).
- devices: the Scenario's switches (shared buffer) then one pseudo-buffer per NIC port (``NIC_BUFFER_BYTES``).

Delays: a byte leaving hop h reaches the next hop ``round(delay / dt)`` steps later (at least one); a pause
asserted by ingress j is seen by its upstream port after the same link delay; a CNP reaches the reaction
point after the flow's one-way path delay, so the control loop delay tau* is twice the one-way path delay.
Fluid loss is go-back-N: dropped bytes go back to the sender's remaining bytes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fabric.lab.physics.fluid_state import Counters, DcqcnArrays, LastBytes, Layout, frame_from, scatter
from fabric.lab.physics.groups import GroupCompletion
from fabric.lab.physics.scenario import F64, CounterFrame, Scenario

THRESHOLD_EVERY = 4  # steps between refreshes of the dynamic PFC / tail-drop thresholds
BYTE_COUNTER_EVERY = 4  # steps between reads of the reaction points' byte counters


def _group(steps: Any, flows: Any) -> list[tuple[int, Any]]:
    """(arrival step, flow indices) pairs of one CNP emission, one pair per distinct step."""
    return [(int(step), flows[steps == step]) for step in np.unique(steps)]


class FluidEngine:
    """``FluidEngine(scenario, dt_s=1e-6, seed=0).advance(seconds) -> CounterFrame``; state persists between
    calls, so a long run is advanced in chunks. ``truth()`` is the ground truth the tuner never sees."""

    def __init__(self, scenario: Scenario, dt_s: float = 1e-6, seed: int = 0) -> None:
        self.scenario = scenario
        self.dt = dt_s
        self.rng = np.random.default_rng(seed)
        self.lay = Layout(scenario, dt_s)
        self.rp = DcqcnArrays(scenario, self.lay.flow_prio)
        lay, f = self.lay, scenario.n_flows
        self.n = 0
        self.q = np.zeros(lay.n_hops)  # bytes queued per extended hop
        self.ring = np.zeros((lay.ring, lay.n_hops))  # bytes in flight towards each hop, by arrival step
        self.pause = np.zeros(lay.n_keys, dtype=bool)  # asserted by each ingress key
        self.pause_hist = np.zeros((lay.ring, lay.n_keys), dtype=bool)
        self.storm = np.zeros(lay.n_keys, dtype=bool)  # watchdog storm state (upstream ignores the pause)
        self.wd_run = np.zeros(lay.n_keys)
        self.wd_clear = np.zeros(lay.n_keys)
        self.fault_pause = np.zeros(lay.n_keys, dtype=bool)  # pfc-storm fault: keys asserting forever
        self.sink_capacity = scenario.sink_capacity.astype(np.float64).copy()
        self._set_caps()
        self.remaining = scenario.flow_bytes.astype(np.float64).copy()
        self.target = scenario.flow_bytes * (1 - 1e-9)
        self.finite = bool(np.isfinite(scenario.flow_bytes).any())
        self.sending = np.zeros(f, dtype=bool)
        self.start = scenario.flow_start_s.astype(np.float64).copy()
        self._chain(scenario)
        self.next_start = float(self.start.min(initial=np.inf))
        self.delivered = np.zeros(f)
        self.done = np.zeros(f, dtype=bool)
        self.completion = np.full(f, np.nan)
        self.last = LastBytes(lay, scenario)  # when a flow is done: its last byte, first in, first out
        self.marks = np.zeros(f)  # expected marked packets received since the flow's last CNP
        self.p_ring = np.zeros(lay.mark_rows * lay.n_real)  # per-hop mark probability of the last steps
        self.mark_at = np.where(self.rp.enabled, self.rng.exponential(size=f), np.inf)
        self.next_cnp = np.zeros(f)
        self.cnp_due: dict[int, list[Any]] = {}  # step -> flow index arrays whose CNP arrives then
        self.no_cnp = np.zeros(f, dtype=bool)
        self.pfc_live = bool(lay.lossless.any())
        self._thresholds()
        self.acc = Counters(lay)

    # -- faults (§A.2 step 8) -------------------------------------------------------------------------
    def set_pfc_storm(self, port: int, on: bool = True) -> None:
        """A NIC port that asserts pause forever on its lossless priorities (a stuck receive pipeline)."""
        s = self.scenario
        prios = s.pfc_enabled[port] | s.pfc_enabled[s.peer[port]]
        self.fault_pause[port * 8: port * 8 + 8] = prios & on
        self.pfc_live = self.pfc_live or bool(self.fault_pause.any())
        self._thresholds()

    def set_slow_receiver(self, port: int, factor: float = 0.25) -> None:
        """The NIC of ``port`` drains at ``factor`` of its Scenario sink capacity (1.0 clears the fault)."""
        self.sink_capacity[port] = self.scenario.sink_capacity[port] * factor
        self._set_caps()

    def _set_caps(self) -> None:
        self.caps = np.concatenate((self.lay.capacity, self.sink_capacity)) * self.dt  # bytes per step
        self.caps_floor = np.maximum(self.caps, 1e-30)

    def set_rates(self, rate_bytes_s: F64) -> None:
        """Start every reaction point at ``rate_bytes_s`` (RC = RT): a warm start at a known operating point
        (the validation gates start at the CoNEXT fixed point instead of at line rate)."""
        self.rp.rc = np.minimum(np.asarray(rate_bytes_s, dtype=np.float64), self.rp.line)
        self.rp.rt = self.rp.rc.copy()

    # -- running ----------------------------------------------------------------------------------------
    @property
    def time_s(self) -> float:
        return self.n * self.dt

    def advance(self, seconds: float) -> CounterFrame:
        """Run ``round(seconds / dt)`` steps and return the counter increments of those steps."""
        for _ in range(round(seconds / self.dt)):
            self._step()
        return frame_from(self.acc, self.lay, self.scenario, self.dt, self.marks, self.ring.sum(axis=0))

    def truth(self) -> dict[str, Any]:
        """Per-flow ground truth: ``rate_bytes_s`` (the reaction point's current rate, 0 when not sending),
        ``delivered_bytes``, ``completion_s`` (NaN until done), ``done``, and ``time_s``."""
        return {"time_s": self.time_s, "rate_bytes_s": np.where(self.sending, self.rp.rc, 0.0),
                "delivered_bytes": self.delivered.copy(), "completion_s": self.completion.copy(),
                "done": self.done.copy()}

    def _step(self) -> None:
        lay, acc, dt, n = self.lay, self.acc, self.dt, self.n
        t, slot = n * dt, n % lay.ring
        x = self.ring[slot]  # 1 arrivals this step (a view: the row is cleared at the end of the step)
        if t >= self.next_start:
            self._start(t)
        x[lay.first] = self._inject()  # nothing else ever feeds a source hop
        if lay.key_delay_same is not None:
            seen = self.pause_hist[(n - lay.key_delay_same) % lay.ring]
        else:
            seen = self.pause_hist[(n - lay.key_delay) % lay.ring, lay.key_range]
        held = seen & ~self.storm if lay.has_watchdog else seen
        qx = self.q + x  # 2 service: proportional FIFO over the unpaused hops of each port
        demand = np.where(held[lay.key_next], 0.0, qx)
        share = self.caps / np.maximum(scatter(lay.cap_index, demand, lay.n_caps), self.caps_floor)
        d = demand * share[lay.cap_index]
        np.subtract(qx, d, out=self.q)
        fwd = d[: lay.n_real]
        if lay.has_watchdog:  # 7 a storming ingress's upstream queue drops instead of forwarding
            lost = fwd * self.storm[lay.key_next[: lay.n_real]]
            fwd = fwd - lost
            acc.wd_drop += lost
        if lay.hop_delay_same is not None:  # each row is written by exactly one step
            self.ring[(n + lay.hop_delay_same) % lay.ring, lay.next_hop] = fwd
        else:
            self.ring[(n + lay.hop_delay) % lay.ring, lay.next_hop] += fwd
        delivered = d[lay.n_real:]
        self.delivered += delivered
        if self.finite:
            self._finish(t, self.last.advance(n, qx, d))
        if lay.red.any:  # 3 ECN at dequeue, NP counts what it receives marked
            self.marks += delivered * self._mark(fwd) * lay.inv_mtu
        else:
            self._occupancy()
        if self.rp.any_enabled:  # 4 NP, 5 RP
            self._notify(t)
            self._react(t, x[lay.first])
        if n % THRESHOLD_EVERY == 0:
            self._thresholds()
        self._pfc(seen)  # 6 PFC, drops
        if lay.has_watchdog:
            self._watchdog(seen)
        acc.tx += fwd
        x[:] = 0.0
        self.n += 1

    def _chain(self, scenario: Scenario) -> None:
        """Flows with a ``flow_after`` group wait (start +inf) until that group's last flow is done; a group
        no flow of the scenario belongs to is not waited for (as in tier E: the launch before the first)."""
        groups = scenario.flow_group or scenario.flow_tag
        ids = {name: i for i, name in enumerate(dict.fromkeys(groups))}
        after = [a if a in ids else "" for a in scenario.flow_after]
        self.after = np.zeros(0, dtype=np.int64)
        if not any(after):
            return
        self.gid = np.array([ids[g] for g in groups], dtype=np.int64)
        self.after = np.array([ids[a] if a else -1 for a in after], dtype=np.int64)
        self.group_state = GroupCompletion()
        self.group_state.grow(len(ids))
        self.group_state.add(self.gid)
        self.start[self.after >= 0] = np.inf

    def _release(self, finished: Any, t: float) -> None:
        """Flows waiting for a group that is now complete start now (or at their own start, if later)."""
        self.group_state.finish(self.gid[finished], t)
        ready = (self.after >= 0) & self.group_state.complete(np.maximum(self.after, 0))
        if ready.any():
            self.start[ready] = np.maximum(self.scenario.flow_start_s[ready], t)
            self.after[ready] = -1
            self.rp.restart(np.flatnonzero(ready), self.start[ready])
            self.next_start = min(self.next_start, float(self.start[ready].min()))

    def _start(self, t: float) -> None:
        """Flows whose start time has come join ``sending``; the next start time gates the next call."""
        starts = self.start
        self.sending = (starts <= t + 1e-12) & ~self.done
        later = starts[starts > t + 1e-12]
        self.next_start = float(later.min()) if len(later) else np.inf

    def _inject(self) -> F64:
        """Step 1 at the source: each sending flow posts min(rate, what is left) unless its NIC is backed up."""
        lay = self.lay
        ready = self.sending & (self.q[lay.first] < lay.nic_backlog)
        inject = np.where(ready, np.minimum(self.rp.rc * self.dt, self.remaining), 0.0)
        self.remaining -= inject
        if self.finite:
            posted = np.flatnonzero((inject > 0) & (self.remaining <= 0))
            if posted.size:
                self.last.post(posted, self.n)
        return inject

    def _finish(self, t: float, out: Any) -> None:
        """Flows whose last byte is out (``LastBytes``), or whose bytes are all delivered, are done."""
        finished = self.sending & (self.delivered >= self.target)
        finished[out] = self.sending[out]
        if finished.any():
            self.done |= finished
            self.sending &= ~finished
            self.completion[finished] = t + self.dt
            if self.after.size:
                self._release(np.flatnonzero(finished), t + self.dt)

    def _occupancy(self) -> F64:
        """Egress queue occupancy (bytes per port x queue), also the frame's gauges."""
        acc = self.acc
        occ = scatter(self.lay.queue_index, self.q[: self.lay.n_real], self.lay.n_queues)
        np.maximum(acc.watermark, occ, out=acc.watermark)
        acc.occupancy = occ
        return occ

    def _mark(self, fwd: F64) -> F64:
        """ECN at dequeue on each egress queue's occupancy; returns each flow's end-to-end mark probability
        for the bytes its receiver gets now (the sum over its hops: exact to first order in p, and a rate of
        a Poisson process either way). Those bytes left hop h ``down[h]`` steps ago, so the NP sees h's
        probability of then: the loop delay from a queue back to itself is the flow's round trip, tau*."""
        lay = self.lay
        p_hop = lay.red(self._occupancy())[lay.queue_index]
        self.acc.marked += fwd * p_hop
        row = self.n % lay.mark_rows
        self.p_ring[row * lay.n_real: (row + 1) * lay.n_real] = p_hop
        return scatter(lay.hop_flow, self.p_ring[lay.mark_gather[row]], lay.n_flows)

    def _notify(self, t: float) -> None:
        """Step 4: marked packets among the delivered ones form a Poisson process per flow; the first mark
        since the last CNP is when its cumulative mean crosses an Exp(1) draw (one comparison per step, no
        random numbers per step). A flow with a mark sends a CNP as soon as its CNP interval allows."""
        emit = (self.marks >= self.mark_at) & (t >= self.next_cnp)
        if emit.any():
            self._emit(t, emit)

    def _emit(self, t: float, emit: Any) -> None:
        rp, idx = self.rp, np.flatnonzero(emit)
        self.acc.np_marked[idx] += self.marks[idx]
        self.marks[idx] = 0.0
        self.mark_at[idx] = self.rng.exponential(size=len(idx))
        self.next_cnp[idx] = t + rp.cnp_interval[idx] - 1e-12
        self.acc.cnp_sent[idx] += 1
        if self.lay.cnp_delay_same is not None:
            self.cnp_due.setdefault(self.n + self.lay.cnp_delay_same, []).append(idx)
            return
        for step, flows in _group(self.n + self.lay.cnp_delay[idx], idx):
            self.cnp_due.setdefault(step, []).append(flows)

    def _react(self, t: float, inject: F64) -> None:
        cnp_in = self.no_cnp
        arriving = self.cnp_due.pop(self.n, None)
        if arriving is not None:
            cnp_in = np.zeros(self.lay.n_flows, dtype=bool)
            for flows in arriving:
                cnp_in[flows] = True
            self.acc.cnp_handled += cnp_in
        self.rp.react(t, cnp_in, inject, arriving is not None, self.n % BYTE_COUNTER_EVERY == 0)

    def _thresholds(self) -> None:
        """Dynamic XOFF = alpha x free buffer of the device (lossy keys: their tail-drop limit). Refreshed
        every ``THRESHOLD_EVERY`` steps: the shared buffer moves slowly next to a microsecond step."""
        lay = self.lay
        used = scatter(lay.hop_device, self.q, lay.n_devices)
        xoff = np.where(lay.static, lay.xoff, lay.alpha * np.maximum(lay.buffer - used, 0.0)[lay.key_device])
        self.limit = xoff + lay.headroom
        self.xoff_on = np.where(self.fault_pause, -np.inf, np.where(lay.lossless, xoff, np.inf))
        self.xon_on = np.where(lay.static_xon, lay.xon, xoff - lay.two_mtu)

    def _pfc(self, seen: Any) -> None:
        """Step 6: ingress occupancy per key -> drops past the limit (XOFF + headroom on lossless keys, the
        dynamic threshold on lossy ones), pause with XOFF/XON hysteresis (a storm fault asserts always)."""
        lay, acc = self.lay, self.acc
        occ = scatter(lay.key_in, self.q, lay.n_keys)
        over = occ > self.limit
        if over.any():
            keep = np.where(over, self.limit / np.maximum(occ, 1e-30), 1.0)[lay.key_in]
            dropped = self.q * (1.0 - keep)
            self.q -= dropped
            acc.drop += dropped
            # dropped bytes are resent, except a done flow's (its last byte is out: these trail it in the fluid)
            self.remaining += np.where(self.done, 0.0, scatter(lay.flow_of_hop, dropped, lay.n_flows))
            if self.finite:  # a flow with bytes to resend has not posted its last byte yet
                self.last.cancel(self.remaining > 0)
        if not self.pfc_live:
            return
        state = (occ >= self.xoff_on) | (self.pause & (occ > self.xon_on))
        acc.edges += state != self.pause
        acc.paused += state
        acc.seen += seen
        self.pause = state
        self.pause_hist[self.n % lay.ring] = state

    def _watchdog(self, seen: Any) -> None:
        """Step 7: a key whose upstream queue is held (paused, bytes queued) for detect_s becomes a storm:
        the upstream ignores its pauses and drops what it would send, until the pause has been gone for
        restore_s (SONiC's detection/restoration)."""
        lay, acc, dt = self.lay, self.acc, self.dt
        held = seen & (scatter(lay.key_next, self.q, lay.n_keys) > 0)
        self.wd_run = np.where(held & ~self.storm, self.wd_run + dt, 0.0)
        detect = lay.wd_enabled & ~self.storm & (self.wd_run >= lay.wd_detect - 1e-12)
        self.wd_clear = np.where(self.storm & ~seen, self.wd_clear + dt, 0.0)
        restore = self.storm & (self.wd_clear >= lay.wd_restore - 1e-12)
        self.storm = (self.storm | detect) & ~restore
        acc.wd_detected += detect
        acc.wd_restored += restore
