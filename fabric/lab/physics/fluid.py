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

from fabric.lab.physics.fluid_state import Counters, DcqcnArrays, Layout, frame_from, scatter
from fabric.lab.physics.scenario import F64, CounterFrame, Scenario


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
        self.next_start = float(scenario.flow_start_s.min(initial=np.inf))
        self.delivered = np.zeros(f)
        self.done = np.zeros(f, dtype=bool)
        self.completion = np.full(f, np.nan)
        self.cnp_ring = np.zeros((lay.cnp_ring, f), dtype=bool)
        self.np_pending = np.zeros(f, dtype=bool)
        self.next_cnp = np.zeros(f)
        self.acc = Counters(lay)

    # -- faults (§A.2 step 8) -------------------------------------------------------------------------
    def set_pfc_storm(self, port: int, on: bool = True) -> None:
        """A NIC port that asserts pause forever on its lossless priorities (a stuck receive pipeline)."""
        s = self.scenario
        prios = s.pfc_enabled[port] | s.pfc_enabled[s.peer[port]]
        self.fault_pause[port * 8: port * 8 + 8] = prios & on

    def set_slow_receiver(self, port: int, factor: float = 0.25) -> None:
        """The NIC of ``port`` drains at ``factor`` of its Scenario sink capacity (1.0 clears the fault)."""
        self.sink_capacity[port] = self.scenario.sink_capacity[port] * factor
        self._set_caps()

    def _set_caps(self) -> None:
        self.caps = np.concatenate((self.lay.capacity, self.sink_capacity)) * self.dt  # bytes per step
        self.caps_floor = np.maximum(self.caps, 1e-30)

    # -- running ----------------------------------------------------------------------------------------
    @property
    def time_s(self) -> float:
        return self.n * self.dt

    def advance(self, seconds: float) -> CounterFrame:
        """Run ``round(seconds / dt)`` steps and return the counter increments of those steps."""
        for _ in range(round(seconds / self.dt)):
            self._step()
        return frame_from(self.acc, self.lay, self.scenario, self.dt)

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
        inject = self._inject()
        x[lay.first] += inject
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
        if lay.hop_delay_same is not None:
            self.ring[(n + lay.hop_delay_same) % lay.ring, lay.next_hop] += fwd
        else:
            self.ring[(n + lay.hop_delay) % lay.ring, lay.next_hop] += fwd
        delivered = d[lay.n_real:]
        self.delivered += delivered
        if self.finite:
            self._finish(t)
        p_flow = self._mark(fwd)  # 3 ECN at dequeue
        if self.rp.any_enabled:  # 4 NP, 5 RP
            self._notify(t, delivered, p_flow)
            self._react(t, inject)
        self._pfc(seen)  # 6 PFC, drops
        if lay.has_watchdog:
            self._watchdog(seen)
        acc.tx += fwd
        acc.rx += x
        x[:] = 0.0
        self.n += 1

    def _start(self, t: float) -> None:
        """Flows whose start time has come join ``sending``; the next start time gates the next call."""
        starts = self.scenario.flow_start_s
        self.sending = (starts <= t + 1e-12) & ~self.done
        later = starts[starts > t + 1e-12]
        self.next_start = float(later.min()) if len(later) else np.inf

    def _inject(self) -> F64:
        """Step 1 at the source: each sending flow posts min(rate, what is left) unless its NIC is backed up."""
        lay = self.lay
        ready = self.sending & (self.q[lay.first] < lay.nic_backlog)
        inject = np.where(ready, np.minimum(self.rp.rc * self.dt, self.remaining), 0.0)
        self.remaining -= inject
        return inject

    def _finish(self, t: float) -> None:
        finished = self.sending & (self.delivered >= self.target)
        if finished.any():
            self.done |= finished
            self.sending &= ~finished
            self.completion[finished] = t + self.dt

    def _mark(self, fwd: F64) -> F64:
        """ECN on each egress queue's occupancy; returns each flow's end-to-end mark probability (the sum
        over its hops, exact to first order in p and capped at 1)."""
        lay, acc = self.lay, self.acc
        occ = scatter(lay.queue_index, self.q[: lay.n_real], lay.n_queues)
        np.maximum(acc.watermark, occ, out=acc.watermark)
        acc.occupancy = occ
        if not lay.red.any:
            return lay.zero_flows
        p_hop = lay.red(occ)[lay.queue_index]
        acc.marked += fwd * p_hop
        return np.minimum(scatter(lay.hop_flow, p_hop, lay.n_flows), 1.0)

    def _notify(self, t: float, delivered: F64, p_flow: F64) -> None:
        """Step 4: marked packets among the delivered ones (Bernoulli per step), one CNP per CNP interval,
        reaching the reaction point after the flow's one-way path delay."""
        lay, rp = self.lay, self.rp
        marks = delivered * p_flow / lay.flow_mtu
        self.acc.np_marked += marks
        self.np_pending |= self.rng.random(lay.n_flows) < -np.expm1(-marks)
        emit = self.np_pending & rp.enabled & (t >= self.next_cnp)
        self.next_cnp = np.where(emit, t + rp.cnp_interval - 1e-12, self.next_cnp)
        self.np_pending &= ~emit
        self.acc.cnp_sent += emit
        self.cnp_ring[(self.n + lay.cnp_delay) % lay.cnp_ring, lay.flow_range] |= emit

    def _react(self, t: float, inject: F64) -> None:
        row = self.n % self.lay.cnp_ring
        cnp_in = self.cnp_ring[row].copy()
        self.cnp_ring[row] = False
        self.acc.cnp_handled += cnp_in
        self.rp.react(t, cnp_in, inject)

    def _pfc(self, seen: Any) -> None:
        """Step 6: ingress occupancy per key -> drops past the limit, pause with XOFF/XON hysteresis."""
        lay, acc = self.lay, self.acc
        occ = scatter(lay.key_in, self.q, lay.n_keys)
        used = scatter(lay.hop_device, self.q, lay.n_devices)
        xoff = np.where(lay.static, lay.xoff, lay.alpha * np.maximum(lay.buffer - used, 0.0)[lay.key_device])
        limit = xoff + lay.headroom
        over = occ > limit
        if over.any():
            keep = np.where(over, limit / np.maximum(occ, 1e-30), 1.0)[lay.key_in]
            dropped = self.q * (1.0 - keep)
            self.q -= dropped
            acc.drop += dropped
            self.remaining += scatter(lay.flow_of_hop, dropped, lay.n_flows)
        xon = np.where(lay.static_xon, lay.xon, xoff - lay.two_mtu)
        state = (lay.lossless & ((occ >= xoff) | (self.pause & (occ > xon)))) | self.fault_pause
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
