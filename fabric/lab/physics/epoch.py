"""Tier E: the epoch engine (reference §A.3). Mean-field operating points per queue, vectorised over flow-hops.

Every epoch (0.5-5 ms) the engine does, with NumPy over all active flows at once:

1. Rates: max-min fair shares (progressive filling) over three kinds of resources: each egress queue (its
   port's line rate minus the time it was paused by the peer last epoch), each egress port (queues share
   the line), and each destination NIC's drain rate (the sink; a slow receiver drains at 25 %).
2. Offered load: a flow sends its demand (line rate, or what is left of it) up to its bottleneck unless
   DCQCN controls it there (RP enabled on its priority and the bottleneck queue marks ECN); then it sends
   its share everywhere. Load beyond a queue's capacity is *excess*.
3. Queues: an ECN-controlled congested queue sits at the DCQCN fixed point (§2.3, q* and p* from the
   flows' knobs, N = DCQCN flows bottlenecked there), scaled by the response surface ``RESPONSE`` (mean and
   p99 around q*, utilisation). A queue with excess on a lossless ingress holds each feeding ingress between
   XON and XOFF and pauses it for the share it cannot serve (1 - served/offered): the upstream port loses
   that fraction of its capacity next epoch, which is how pauses spread one hop per epoch. A lossy queue
   with excess fills to its tail-drop limit and drops the excess. Other queues: M/D/1, q = MTU rho^2/2(1-rho).
4. Bursts: flows that start this epoch and exceed a queue's line rate build a peak (§A.3 step 3): bytes-
   bound, or, when DCQCN reacts, Kmin + (k r0 - C) t_r + the cut cascade; its share per ingress above XOFF
   pauses for (peak/m - XON)/(C/m); beyond XOFF + headroom it drops (headroom below the cable's in-flight
   bytes drops lossless traffic). Burst bytes are marked with the mean RED probability of the ramp.
5. Counters (CounterFrame): bytes/packets per queue and port, ECN marks, pauses (frames, duration) on both
   ends of each link, drops, CNPs (np_cnp_sent at the receiver, rp_cnp_handled at the sender, at most one
   per flow per CNP interval), watchdog storms, queue occupancy (mean) and watermark (max of p99 and peak).
6. Watchdog: an egress queue paused through a whole ``detect`` interval is a storm: it ignores pauses and
   drops what it sends for ``restore``; then it obeys pauses again (and re-detects if the storm goes on).

Limits (honest): no per-packet dynamics, no DCQCN sawtooth or transient rate recovery (rates jump to the
new max-min point each epoch); ETS/DWRR between classes is not modelled (queues of a port share it max-min);
the priority of a queue is taken equal to its index; CNPs use the sender's NP knobs; watchdog action is
always drop. Tier F (fluid.py) has the dynamics; ``tests/physics/test_epoch*.py`` checks tier E against it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fabric.lab.physics.red import red_probability
from fabric.lab.physics.scenario import QUEUES, CounterFrame, Scenario

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
B = NDArray[np.bool_]

# Response surface around the DCQCN fixed point, per N (flows bottlenecked at the queue), interpolated in
# log N and clamped. Columns: N, (mean - Kmin)/(q* - Kmin), (p99 - Kmin)/(q* - Kmin), utilisation, marked
# fraction / p*. Fitted to tier F (FluidEngine, 1 us steps) on the CoNEXT dumbbell: star(N) at 40 Gb/s, MTU
# 1 KB, ECN Kmin 5 KB / Kmax 200 KB / Pmax 1 %, PFC XOFF 400 KB, NIC firmware DCQCN defaults, 20 ms warm-up
# then 20 ms sampled every 20 us (tests/physics/test_epoch_vs_fluid.py runs these cases): N = 2: mean 87 KB, p99
# 203 KB, 39.84 Gb/s, marked 2.44 % (p* 0.47 %); N = 10: mean 177 KB, p99 201 KB (q* = Kmax), 39.96 Gb/s,
# marked 3.12 % (p* 1.51 %). One operating point: other speeds and knobs reuse the same ratios.
RESPONSE = np.array([[2.0, 0.90, 2.18, 0.996, 5.2],
                     [10.0, 0.88, 1.00, 0.999, 2.07]])
# Incast reaction: tier F's 16:1 x 500 KB incast at 100 Gb/s (NIC defaults, Kmin 100 KB / Kmax 400 KB /
# Pmax 20 %) peaks at 3.9 MB where Kmin + (k r0 - C) t_r + cascade gives 1.4 MB with t_r = tau* + tau_cnp/2 +
# cut/2: the first marks come late (RED is small just above Kmin), so t_r is scaled by this factor.
REACTION_SCALE = 4.2
SATURATED = 0.98  # a queue serving this share of its capacity is a bottleneck
LOSSY_LIMIT_ALPHA = 1 / 8  # lossy egress tail-drop limit: alpha x buffer / (1 + alpha) (HPCC MMU shift 3)
NIC_RX_BUFFER = 1 << 20  # a NIC's receive buffer when its XOFF is dynamic (bytes)
PAUSE_QUANTA_BITS = 65535 * 512  # a pause frame's maximum quanta; senders refresh at half of it
RESPONSE_US = 1e-6  # PFC reaction time in the headroom need (reference §4.4)
FILL_ROUNDS = 12
BURST_WINDOW_S = 1e-3  # flows starting this close together build one burst (an incast's senders)
COMPLETED_KEEP = 100_000


def response(n_flows: F64) -> tuple[F64, F64, F64, F64]:
    """(mean ratio, p99 ratio, utilisation, mark ratio) for ``n_flows`` DCQCN flows bottlenecked at a queue."""
    x = np.log(np.maximum(n_flows, 1.0))
    knots = np.log(RESPONSE[:, 0])
    return (np.interp(x, knots, RESPONSE[:, 1]), np.interp(x, knots, RESPONSE[:, 2]),
            np.interp(x, knots, RESPONSE[:, 3]), np.interp(x, knots, RESPONSE[:, 4]))


def dcqcn_fixed_point(n: F64, capacity_pkts: F64, rai_pkts: F64, tau_alpha_s: F64, timer_s: F64,
                      byte_counter_pkts: F64) -> F64:
    """p* of the CoNEXT'16 fixed point (reference §2.3, packet units), element-wise."""
    inner = 1 / np.maximum(byte_counter_pkts, 1e-9) + n / np.maximum(timer_s * capacity_pkts, 1e-9)
    return np.asarray(np.cbrt(rai_pkts * n**2 / np.maximum(tau_alpha_s * capacity_pkts**2, 1e-30) * inner**2))


def max_min(demand: F64, res: I64, cap: F64) -> tuple[F64, F64]:
    """Max-min fair rates by progressive filling; ``res`` (flows x k) indexes ``cap`` (its last entry is an
    infinite dummy used for padding). Returns (rates, each flow's final share)."""
    n, k = res.shape
    rate = np.zeros(n)
    frozen = demand <= 0
    share_f = np.zeros(n)
    for round_ in range(FILL_ROUNDS):
        live = np.flatnonzero(~frozen)
        if live.size == 0:
            break
        rl = res[live]
        cnt = np.bincount(rl.ravel(), minlength=cap.size)
        done = np.flatnonzero(frozen)
        used = np.bincount(res[done].ravel(), weights=np.repeat(rate[done], k), minlength=cap.size)
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(cnt > 0, np.maximum(cap - used, 0.0) / np.maximum(cnt, 1), np.inf)
        b = share[rl].min(axis=1)
        d = demand[live]
        level = min(float(b.min()), float(d.min()))
        last = round_ == FILL_ROUNDS - 1
        fix = (d <= level * (1 + 1e-9)) | (b <= level * (1 + 1e-9)) | last
        rate[live[fix]] = np.minimum(d[fix], b[fix])
        share_f[live] = b
        frozen[live[fix]] = True
    return rate, share_f


@dataclass
class _Flows:
    """Per-flow state and the flow-hop matrices (flows x columns; the last used column is the sink)."""

    src: I64
    dst: I64
    size: F64
    start: F64
    remaining: F64
    dscp: I64
    nic_rate: F64
    cc: B  # DCQCN reaction point enabled on the flow's priority
    np_on: B
    cnp_s: F64
    rai: F64  # bytes/s
    timer_s: F64
    byte_reset: F64
    tau_alpha_s: F64
    cut_s: F64
    rtt_s: F64
    port: I64  # (F, W) egress port per column, -1 padding; the sink column holds the destination NIC port
    queue: I64  # (F, W)
    jp: I64  # (F, W) ingress port x 8 + PG feeding this column, -1 at the source NIC
    sink: B  # (F, W) the sink column
    tag: list[str]
    group: list[str]
    members: F64  # flows this row stands for (the live runner aggregates mice of one tick and pair)
    max_rate: F64  # an aggregate row sends its members' bytes spread over their window, not at line rate
    done: F64 = field(default_factory=lambda: np.zeros(0))
    delivered: F64 = field(default_factory=lambda: np.zeros(0))


@dataclass
class Completed:
    """Ground truth of finished flows (mean member size and member count per row); the oldest rows are
    forgotten beyond ``COMPLETED_KEEP`` so a long-running twin stays bounded."""

    weight: list[float] = field(default_factory=list)
    size: list[float] = field(default_factory=list)
    fct_s: list[float] = field(default_factory=list)
    ideal_s: list[float] = field(default_factory=list)
    start_s: list[float] = field(default_factory=list)
    done_s: list[float] = field(default_factory=list)
    tag: list[str] = field(default_factory=list)
    group: list[str] = field(default_factory=list)


def _flows_of(sc: Scenario) -> _Flows:
    """The engine's flow arrays from a Scenario's flow and flow-hop arrays."""
    nf = sc.n_flows
    order = np.argsort(sc.hop_flow, kind="stable")
    hf = sc.hop_flow[order]
    counts = np.bincount(hf, minlength=nf)
    first = np.concatenate(([0], np.cumsum(counts)[:-1])) if nf else np.zeros(0, dtype=np.int64)
    col = np.arange(hf.size) - first[hf]
    width = int(counts.max()) + 1 if nf else 1
    port = np.full((nf, width), -1, dtype=np.int64)
    queue = np.zeros((nf, width), dtype=np.int64)
    jp = np.full((nf, width), -1, dtype=np.int64)
    port[hf, col] = sc.hop_port[order]
    queue[hf, col] = sc.hop_queue[order]
    ing = sc.hop_ingress[order]
    jp[hf, col] = np.where(ing >= 0, ing * QUEUES + sc.hop_pg[order], -1)
    rows = np.arange(nf)
    last_port = port[rows, counts - 1] if nf else np.zeros(0, dtype=np.int64)
    # sink column: the destination NIC, fed through its own ingress, PG = the last hop's queue
    last_q = queue[rows, counts - 1] if nf else np.zeros(0, dtype=np.int64)
    reaches = sc.peer[last_port] == sc.flow_dst if nf else np.zeros(0, dtype=bool)
    port[rows, counts] = np.where(reaches, sc.flow_dst, -1)
    queue[rows, counts] = last_q
    jp[rows, counts] = np.where(reaches, sc.flow_dst * QUEUES + last_q, -1)
    sink = np.zeros((nf, width), dtype=bool)
    sink[rows, counts] = reaches
    k = sc.dcqcn
    first_q = queue[:, 0] if nf else np.zeros(0, dtype=np.int64)
    delay = np.where(port >= 0, sc.delay_s[np.maximum(port, 0)], 0.0).sum(axis=1) if nf else np.zeros(0)
    mtu = sc.mtu[sc.flow_src].astype(float) if nf else np.zeros(0)
    return _Flows(
        src=sc.flow_src.copy(), dst=sc.flow_dst.copy(), size=sc.flow_bytes.astype(float),
        start=sc.flow_start_s.astype(float), remaining=sc.flow_bytes.astype(float), dscp=sc.flow_dscp.copy(),
        nic_rate=sc.capacity[sc.flow_src].astype(float),
        cc=np.array([int(q) in d.rp_enabled_priorities for q, d in zip(first_q, k, strict=True)], dtype=bool),
        np_on=np.array([int(q) in d.np_enabled_priorities for q, d in zip(first_q, k, strict=True)], dtype=bool),
        cnp_s=np.array([d.min_time_between_cnps_us * 1e-6 for d in k]),
        rai=np.array([d.rpg_ai_rate_mbps * 1e6 / 8 for d in k]),
        timer_s=np.array([d.rpg_time_reset_us * 1e-6 for d in k]),
        byte_reset=np.maximum(np.array([float(d.rpg_byte_reset) for d in k]), mtu),
        tau_alpha_s=np.array([d.dce_tcp_rtt_us * 1e-6 for d in k]),
        cut_s=np.array([d.rate_reduce_monitor_period_us * 1e-6 for d in k]),
        rtt_s=2 * delay, port=port, queue=queue, jp=jp, sink=sink,
        tag=list(sc.flow_tag), group=list(sc.flow_group) or list(sc.flow_tag), members=np.ones(nf),
        max_rate=np.full(nf, np.inf),
        done=np.full(nf, np.nan), delivered=np.zeros(nf))


def _concat(a: _Flows, b: _Flows) -> _Flows:
    width = max(a.port.shape[1], b.port.shape[1])

    def pad(m: NDArray[Any], fill: Any) -> NDArray[Any]:
        return np.pad(m, ((0, 0), (0, width - m.shape[1])), constant_values=fill)

    out: dict[str, Any] = {}
    for name in _Flows.__dataclass_fields__:
        x, y = getattr(a, name), getattr(b, name)
        if isinstance(x, list):
            out[name] = x + y
        elif x.ndim == 2:
            fill = False if x.dtype == bool else (0 if name == "queue" else -1)
            out[name] = np.concatenate([pad(x, fill), pad(y, fill)])
        else:
            out[name] = np.concatenate([x, y])
    return _Flows(**out)


def _take(a: _Flows, keep: B) -> _Flows:
    idx = np.flatnonzero(keep)
    out: dict[str, Any] = {}
    for name in _Flows.__dataclass_fields__:
        x = getattr(a, name)
        out[name] = [x[i] for i in idx] if isinstance(x, list) else x[idx]
    return _Flows(**out)


def _tick(t: float) -> float:
    """Time on a nanosecond grid, so a flow starting at 5 ms starts exactly at the 5th 1 ms epoch boundary."""
    return round(t, 9)


def _add(frame: CounterFrame, epoch: CounterFrame, times: int) -> None:
    """Add ``times`` copies of one epoch's counters; gauges: last occupancy, max watermark."""
    for kind in ("port", "prio", "queue"):
        acc, add = getattr(frame, kind), getattr(epoch, kind)
        for name, values in add.items():
            acc[name] += values * times
    frame.gauge["q{}_occupancy_bytes"] = epoch.gauge["q{}_occupancy_bytes"]
    frame.gauge["q{}_watermark_bytes"] = np.maximum(frame.gauge["q{}_watermark_bytes"],
                                                    epoch.gauge["q{}_watermark_bytes"])


class EpochEngine:
    """Tier E over a Scenario. ``advance(seconds)`` runs whole epochs and returns their summed CounterFrame;
    ``truth()`` is the ground truth (FCT slowdown, collective completion, goodput, per-flow rates).

    Live use (fabric.lab.physics.engine): ``add_flows`` appends flows built over the same ports,
    ``set_ports`` swaps knob/capacity arrays, ``reroute`` replaces every flow's hops (link down), ``storm``
    and the scenario's ``sink_capacity`` are the physics faults."""

    def __init__(self, scenario: Scenario, epoch_s: float = 1e-3) -> None:
        self.sc = scenario
        self.epoch_s = epoch_s
        self.t = 0.0
        self.epochs = 0
        n = scenario.n_ports
        self.storm = np.zeros(n, dtype=bool)  # NIC ports that assert pause forever (pfc-storm)
        self.sink_factor = np.ones(n)  # slow-receiver: a NIC drains at this share of its sink capacity
        self.u_jp = np.zeros(n * QUEUES)  # fraction of the last epoch each ingress x PG paused its peer
        self.wd_paused_s = np.zeros(n * QUEUES)
        self.wd_until = np.full(n * QUEUES, -1.0)
        self.fl = _flows_of(scenario)
        self.completed = Completed()
        self.finished: list[tuple[str, float]] = []  # (group, flows) completed since the owner last drained it
        self.delivered_total = 0.0
        self.rate = np.zeros(scenario.n_flows)
        self.q_mean = np.zeros(n * QUEUES)
        self._carry = 0.0
        self._steady: tuple[CounterFrame, I64, F64] | None = None  # last epoch's counters, flows, bytes

    # -- live changes -----------------------------------------------------------------------------

    def add_flows(self, batch: Scenario, members: F64 | None = None, max_rate: F64 | None = None) -> None:
        """Append the flows (and hops) of ``batch``, a Scenario over the same ports; ``members``: how many
        workload flows each row aggregates (its size is their total; truth weighs it by this count);
        ``max_rate``: bytes/s a row sends at most (an aggregate spreads its members over their window)."""
        self._steady = None
        if batch.n_flows:
            new = _flows_of(batch)
            if members is not None:
                new.members = np.asarray(members, dtype=float)
            if max_rate is not None:
                new.max_rate = np.asarray(max_rate, dtype=float)
            self.fl = _concat(self.fl, new)
            self.rate = np.concatenate([self.rate, np.zeros(batch.n_flows)])

    def set_ports(self, scenario: Scenario) -> None:
        """New port/knob arrays (same ports); flows and their state stay."""
        self._steady = None
        self.sc = scenario

    def reroute(self, scenario: Scenario) -> None:
        """New hops for the current flows (``scenario`` lists them in the engine's order); state stays."""
        self._steady = None
        new = _flows_of(scenario)
        for name in ("port", "queue", "jp", "sink", "rtt_s"):
            setattr(self.fl, name, getattr(new, name))
        self.sc = scenario

    def set_pfc_storm(self, port: int, on: bool = True) -> None:
        """The NIC of ``port`` asserts pause forever on the lossless priorities of its link (tier F's hook)."""
        self._steady = None
        self.storm[port] = on

    def set_slow_receiver(self, port: int, factor: float = 0.25) -> None:
        """The NIC of ``port`` drains at ``factor`` of its sink capacity (1.0 clears the fault)."""
        self._steady = None
        self.sink_factor[port] = factor

    def live(self) -> B:
        """Flows not yet finished (the live runner keeps its own per-flow list aligned with this)."""
        return np.asarray(np.isnan(self.fl.done))

    def compact(self) -> B:
        """Forget finished flows (their truth is recorded); returns the kept mask."""
        keep = self.live()
        if keep.all():
            return keep
        self._steady = None
        self.fl = _take(self.fl, keep)
        self.rate = self.rate[keep]
        return keep

    # -- running ----------------------------------------------------------------------------------

    def advance(self, seconds: float) -> CounterFrame:
        """Run ``seconds`` (whole epochs; a remainder carries into the next call). Epochs in which nothing
        can change (same active flows, no start, completion or watchdog event, pauses settled) repeat the
        last epoch's counters instead of recomputing them: a steady fabric costs almost nothing."""
        frame = CounterFrame.zeros(self.sc.n_ports)
        self._carry += seconds
        steps = int(self._carry / self.epoch_s + 1e-9)
        self._carry -= steps * self.epoch_s
        while steps > 0:
            k = min(steps, self._steady_epochs())
            if k > 0:
                self._repeat(k, frame)
            else:
                k = 1
                self._epoch(self.epoch_s, frame)
            steps -= k
        return frame

    def _steady_epochs(self) -> int:
        """How many coming epochs are copies of the last one (0: compute the next one)."""
        if self._steady is None:
            return 0
        dt, t0 = self.epoch_s, self.t
        _, idx, delivered = self._steady
        fl = self.fl
        later = fl.start[(fl.start >= t0) & (fl.remaining > 0)]
        k = int((later.min() - t0) / dt) if later.size else 1 << 30
        moving = delivered > 0
        finite = moving & np.isfinite(fl.remaining[idx])
        if finite.any():
            k = min(k, int((fl.remaining[idx][finite] / delivered[finite]).min()) - 1)
        detect = np.repeat(self.sc.watchdog_detect_s, QUEUES)
        counting = self.wd_paused_s > 0
        if counting.any():
            k = min(k, int(((detect - self.wd_paused_s)[counting]).min() / dt) - 1)
        ending = self.wd_until > t0
        if ending.any():
            k = min(k, int((self.wd_until[ending].min() - t0) / dt) - 1)
        return max(k, 0)

    def _repeat(self, k: int, frame: CounterFrame) -> None:
        """Fast-forward ``k`` epochs identical to the last computed one."""
        assert self._steady is not None
        last, idx, delivered = self._steady
        _add(frame, last, k)
        self.fl.remaining[idx] = np.maximum(self.fl.remaining[idx] - delivered * k, 0.0)
        self.fl.delivered[idx] += delivered * k
        self.delivered_total += float(delivered.sum()) * k
        self.wd_paused_s = np.where(self.wd_paused_s > 0, self.wd_paused_s + k * self.epoch_s, 0.0)
        self.epochs += k
        self.t = _tick(self.t + k * self.epoch_s)

    def _capacities(self, t0: float) -> tuple[F64, F64, B]:
        sc = self.sc
        peer_pq = (sc.peer[:, None] * QUEUES + np.arange(QUEUES)).ravel()
        u_rx = np.where(sc.pfc_enabled.ravel(), self.u_jp[peer_pq], 0.0)
        stormed = self.wd_until > t0
        u_eff = np.where(stormed, 0.0, u_rx)
        cap_pq = np.repeat(sc.capacity, QUEUES) * (1 - u_eff)
        sink_pq = np.repeat(sc.sink_capacity * self.sink_factor, QUEUES)
        cap = np.concatenate([cap_pq, sink_pq, sc.capacity, [np.inf]])
        return cap, u_rx, stormed

    def _epoch(self, dt: float, frame: CounterFrame) -> None:
        """One computed epoch; remembers it as steady when the next one would be a copy."""
        if self._idle(dt):
            frame.gauge["q{}_occupancy_bytes"] = np.zeros((self.sc.n_ports, QUEUES))
            self.q_mean[:] = 0.0
            self.rate[:] = 0.0
            self.t = _tick(self.t + dt)
            self.epochs += 1
            return
        last = CounterFrame.zeros(self.sc.n_ports)
        u_before = self.u_jp
        idx, delivered, eventful = self._compute(dt, last)
        _add(frame, last, 1)
        settled = not eventful and np.array_equal(u_before, self.u_jp)
        self._steady = (last, idx, delivered) if settled else None

    def _idle(self, dt: float) -> bool:
        """Nothing to compute: no flow sends in this epoch, no pause is asserted, no watchdog is counting or
        holding a queue (idle gaps between bursts and collectives cost one mask instead of a whole epoch)."""
        fl, t0 = self.fl, self.t
        if self.storm.any() or self.u_jp.any() or self.wd_paused_s.any() or (self.wd_until > t0 - dt).any():
            return False
        return not bool(((fl.start < _tick(t0 + dt)) & (fl.remaining > 0)).any())

    def _compute(self, dt: float, frame: CounterFrame) -> tuple[I64, F64, bool]:
        sc, fl, n = self.sc, self.fl, self.sc.n_ports
        npq = n * QUEUES
        t0, t1 = self.t, _tick(self.t + dt)
        cap, u_rx, stormed = self._capacities(t0)
        eventful = self._watchdog(u_rx, stormed, t0, t1, frame)
        act = (fl.start < t1) & (fl.remaining > 0) & (fl.port[:, 0] >= 0)
        frac = np.where(act, np.clip((t1 - np.maximum(fl.start, t0)) / dt, 0.0, 1.0), 0.0)
        idx = np.flatnonzero(act & (frac > 1e-9))
        self.rate[:] = 0.0
        fr = frac[idx]
        port, queue, jp, sink = fl.port[idx], fl.queue[idx], fl.jp[idx], fl.sink[idx]
        valid = port >= 0
        egress = valid & ~sink
        dummy = cap.size - 1
        pq = np.where(valid, np.where(sink, npq + port * QUEUES + queue, port * QUEUES + queue), dummy)
        pres = np.where(egress, 2 * npq + port, dummy)
        demand = np.minimum(np.minimum(fl.nic_rate[idx], fl.max_rate[idx]),
                            fl.remaining[idx] / np.maximum(fr * dt, 1e-12))
        dead = (~valid[:, 1:] & ~sink[:, :-1] & egress[:, :-1]).any(axis=1)  # unroutable: ends at a dead port
        demand = np.where(dead, 0.0, demand)
        rate, share = max_min(demand, np.concatenate([pq, pres], axis=1), cap)
        inst = np.minimum(fl.nic_rate[idx], np.maximum(share, rate))  # a flow's rate while it sends

        # bottleneck column: the first saturated resource of a flow limited below its demand
        served = np.bincount(pq.ravel(), weights=np.repeat(rate, pq.shape[1]), minlength=cap.size)
        served_port = np.bincount(pres.ravel(), weights=np.repeat(rate, pq.shape[1]), minlength=cap.size)
        sat = (served >= SATURATED * cap) | (served_port >= SATURATED * cap)
        limited = rate < demand * (1 - 1e-6)
        at_sat = (sat[pq] | sat[pres]) & valid
        # a limited flow's bottleneck: the saturated column with the smallest equal share
        n_res = np.bincount(pq.ravel(), minlength=cap.size) + np.bincount(pres.ravel(), minlength=cap.size)
        level = cap / np.maximum(n_res, 1)
        col_level = np.where(at_sat, np.minimum(level[pq], np.where(pres == dummy, np.inf, level[pres])), np.inf)
        bcol = np.where(limited & at_sat.any(axis=1), col_level.argmin(axis=1), pq.shape[1])
        rows = np.arange(idx.size)
        bsink = sink[rows, np.minimum(bcol, pq.shape[1] - 1)] & (bcol < pq.shape[1])
        ccol = np.where(bsink, bcol - 1, bcol)  # a slow receiver is marked at the leaf port feeding it
        cpq = np.where(ccol < pq.shape[1], pq[rows, np.minimum(ccol, pq.shape[1] - 1)], dummy)
        cpq_e = np.minimum(cpq, npq - 1)
        pmax = sc.ecn_pmax.ravel()
        controlled = fl.cc[idx] & (cpq < npq) & (pmax[cpq_e] > 0) & (cap[cpq] > 0)
        cols = np.arange(pq.shape[1])[None, :]
        offered = np.where((cols <= bcol[:, None]) & ~controlled[:, None], demand[:, None], rate[:, None])
        w_rate = (rate * fr)[:, None] * np.ones_like(offered)
        w_off = offered * fr[:, None]
        flat_pq = pq.ravel()
        s_r = np.bincount(flat_pq, weights=w_rate.ravel(), minlength=cap.size)
        o_r = np.bincount(flat_pq, weights=w_off.ravel(), minlength=cap.size)
        excess = np.maximum(o_r - cap, 0.0) * (o_r > cap * (1 + 1e-6))
        excess[dummy] = 0.0

        # thresholds per ingress x PG
        mtu_j = np.repeat(sc.mtu.astype(float), QUEUES)
        lossless = sc.pfc_enabled.ravel()
        buf = np.where(sc.switch_of >= 0, sc.buffer_bytes[np.maximum(sc.switch_of, 0)] if sc.buffer_bytes.size
                       else 0.0, NIC_RX_BUFFER)
        flat_jp = jp.ravel()
        has_ex = (excess[pq] > 0) & (jp >= 0)
        cong_jp = np.bincount(flat_jp[has_ex.ravel()], minlength=npq) > 0
        sw_of_jp = np.repeat(sc.switch_of, QUEUES)
        m_sw = np.bincount(np.maximum(sw_of_jp, 0), weights=cong_jp & (sw_of_jp >= 0),
                           minlength=max(sc.buffer_bytes.size, 1))
        m_j = np.where(sw_of_jp >= 0, np.maximum(m_sw[np.maximum(sw_of_jp, 0)], 1), 1)
        alpha = sc.alpha.ravel()
        dyn = alpha * np.repeat(buf, QUEUES) / (1 + alpha * m_j)
        xoff = np.where(np.isnan(sc.xoff.ravel()), dyn, sc.xoff.ravel())
        xon = np.where(np.isnan(sc.xon.ravel()), np.maximum(xoff - 2 * mtu_j, 0.0), sc.xon.ravel())
        lossy_limit = np.concatenate([np.repeat(buf, QUEUES) * LOSSY_LIMIT_ALPHA / (1 + LOSSY_LIMIT_ALPHA),
                                      np.full(npq + n + 1, float(NIC_RX_BUFFER))])

        # uncontrolled excess: ingress pauses (lossless) or tail drops (lossy)
        jp_safe = np.maximum(jp, 0)
        ll_h = lossless[jp_safe] & (jp >= 0)
        ex_w = has_ex.ravel()
        o_jp = np.bincount(flat_jp[ex_w], weights=w_off.ravel()[ex_w], minlength=npq)
        s_jp = np.bincount(flat_jp[ex_w], weights=w_rate.ravel()[ex_w], minlength=npq)
        o_link = np.minimum(o_jp, np.repeat(sc.capacity[sc.peer], QUEUES))  # arrivals: at most the link's rate
        with np.errstate(divide="ignore", invalid="ignore"):
            u_unc = np.where(lossless & (o_link > 0), np.clip(1 - s_jp / o_link, 0.0, 1.0), 0.0)
            share_in = np.where(o_jp[jp_safe] > 0, offered / np.maximum(o_jp[jp_safe], 1e-9), 0.0)
            share_q = np.where(o_r[pq] > 0, offered / np.maximum(o_r[pq], 1e-9), 0.0)
        hold = np.where(ll_h, (xoff[jp_safe] + xon[jp_safe]) / 2 * share_in, lossy_limit[pq] * share_q)
        hold = np.where(has_ex, hold, 0.0)
        q_ex = np.bincount(flat_pq, weights=hold.ravel(), minlength=cap.size)
        lossy_drop = np.where(has_ex & ~ll_h & egress, (offered - rate[:, None]) * fr[:, None] * dt, 0.0)

        # ECN-controlled congested queues: the DCQCN operating point
        n_cc = np.bincount(cpq[controlled], minlength=cap.size)[:npq]
        mtu_q = np.repeat(sc.mtu.astype(float), QUEUES)

        def mean_at(values: F64) -> F64:
            total = np.bincount(cpq[controlled], weights=values[idx][controlled], minlength=cap.size)[:npq]
            return np.asarray(total / np.maximum(n_cc, 1))

        c_pk = cap[:npq] / mtu_q
        p_star = dcqcn_fixed_point(n_cc.astype(float), c_pk, mean_at(fl.rai) / mtu_q, mean_at(fl.tau_alpha_s),
                                   mean_at(fl.timer_s), mean_at(fl.byte_reset) / mtu_q)
        kmin, kmax, pm = sc.ecn_kmin.ravel(), sc.ecn_kmax.ravel(), np.maximum(pmax, 1e-12)
        q_star = np.where(p_star >= pm, kmax, kmin + p_star / pm * (kmax - kmin))
        r_mean, r_99, util, r_mark = response(n_cc.astype(float))
        ctl_q = (n_cc > 0) & (excess[:npq] == 0)
        q_ctl = kmin + r_mean * (q_star - kmin)
        q_ctl99 = kmin + r_99 * (q_star - kmin)

        # uncongested queues: M/D/1
        with np.errstate(divide="ignore", invalid="ignore"):
            rho = np.clip(np.where(cap[:npq] > 0, s_r[:npq] / cap[:npq], 0.0), 0.0, RHO_MAX)
        q_md1 = mtu_q * rho**2 / (2 * (1 - rho))
        q_mean = np.where(excess[:npq] > 0, q_ex[:npq], np.where(ctl_q, q_ctl, q_md1))
        q_99 = np.where(excess[:npq] > 0, q_ex[:npq], np.where(ctl_q, q_ctl99, q_md1 * 4.6))
        mark = np.where(ctl_q, np.minimum(p_star * r_mark, 1.0), red_probability(q_mean, kmin, kmax, pmax))
        mark = np.where(pmax > 0, mark, 0.0)

        # utilisation below line rate at DCQCN-controlled bottlenecks
        eta = np.where(ctl_q, util, 1.0)
        rate = rate * np.where(controlled, eta[cpq_e], 1.0)

        # pauses from the tail of controlled queues (exponential tail between mean and p99)
        hold_c = np.where(jp >= 0, (q_mean[np.minimum(pq, npq - 1)] * share_q), 0.0) * (pq < npq) * ~has_ex
        hold_99 = np.where(jp >= 0, (q_99[np.minimum(pq, npq - 1)] * share_q), 0.0) * (pq < npq) * ~has_ex
        i_mean = np.bincount(flat_jp[flat_jp >= 0], weights=hold_c.ravel()[flat_jp >= 0], minlength=npq)
        i_99 = np.bincount(flat_jp[flat_jp >= 0], weights=hold_99.ravel()[flat_jp >= 0], minlength=npq)
        beta = np.maximum(i_99 - i_mean, 1.0) / math.log(50)
        u_tail = np.where(lossless & (i_99 > 0), np.clip(0.5 * np.exp(-(xoff - i_mean) / beta), 0.0, 1.0), 0.0)
        u_tail = np.where(u_tail < 1e-6, 0.0, u_tail)  # below one microsecond per second: none

        # NIC storms: the NIC's ingress asserts pause on its PFC priorities (priority 3 when none is set)
        storm_u = np.zeros(npq)
        if self.storm.any():
            prios = sc.pfc_enabled | sc.pfc_enabled[sc.peer]
            storm_u = (self.storm[:, None] & prios).ravel().astype(float)
        u_new = np.maximum(np.maximum(u_unc, u_tail), storm_u)
        s_in = np.bincount(flat_jp[flat_jp >= 0], weights=w_rate.ravel()[flat_jp >= 0], minlength=npq)
        c_up = np.repeat(sc.capacity[sc.peer], QUEUES)
        need = 2 * c_up * np.repeat(sc.delay_s, QUEUES) + 2 * mtu_j + c_up * RESPONSE_US
        short = np.where(lossless, np.maximum(need - sc.headroom.ravel(), 0.0), 0.0)
        hyst = np.maximum(xoff - xon, mtu_j)
        with np.errstate(divide="ignore", invalid="ignore"):
            cycle = hyst / np.maximum(o_link - s_jp, 1.0) + hyst / np.maximum(s_jp, 1.0)
            events = np.where(u_unc > 0, dt / cycle, 0.0) + u_tail * dt / (hyst / np.maximum(s_in, 1.0))
        t_refresh = PAUSE_QUANTA_BITS / np.maximum(c_up * 8, 1.0) / 2
        self.u_jp = u_new
        paused = self.u_jp
        frames = events + paused * dt / t_refresh
        hr_drop = events * short * (paused > 0)

        # bursts of flows that start in this epoch
        new = (fl.start[idx] >= t0) & (fl.start[idx] < t1)
        burst_peak = np.zeros(npq)
        burst_marks = np.zeros(npq)
        if new.any():  # flows starting within one BURST_WINDOW of each other arrive together
            window = np.floor((fl.start[idx] - t0) / BURST_WINDOW_S)
            for w in np.unique(window[new]).tolist():
                sel = new & (window == w)
                self._bursts(idx[sel], pq[sel], jp[sel], egress[sel], cap, xoff, xon, need, sc.headroom.ravel(),
                             lossless, lossy_limit, mtu_q, dt, frame, burst_peak, burst_marks)

        # watchdog drop of stormed queues: what they send is lost
        st_pq = np.where(egress, stormed[np.minimum(pq, npq - 1)] & (pq < npq), False)
        lost = st_pq.any(axis=1)

        # counters
        bytes_f = rate * fr * dt
        hop_bytes = np.where(egress, bytes_f[:, None], 0.0)
        tx_q = np.bincount(flat_pq, weights=hop_bytes.ravel(), minlength=cap.size)[:npq]
        drop_st = np.bincount(flat_pq, weights=np.where(st_pq, bytes_f[:, None], 0.0).ravel(),
                              minlength=cap.size)[:npq]
        tx_q2 = (tx_q - drop_st).reshape(n, QUEUES)
        frame.queue["q{}_tx_bytes"] += tx_q2
        frame.queue["q{}_tx_pkts"] += tx_q2 / sc.mtu[:, None]
        marked = (tx_q * mark).reshape(n, QUEUES) + burst_marks.reshape(n, QUEUES) * mtu_q.reshape(n, QUEUES)
        marked = np.minimum(marked, tx_q.reshape(n, QUEUES))
        frame.queue["q{}_ecn_marked_bytes"] += marked
        frame.queue["q{}_ecn_marked_pkts"] += marked / sc.mtu[:, None]
        ld = np.bincount(flat_pq, weights=lossy_drop.ravel(), minlength=cap.size)[:npq] + drop_st
        frame.queue["q{}_drop_bytes"] += ld.reshape(n, QUEUES)
        frame.queue["q{}_drop_pkts"] += ld.reshape(n, QUEUES) / sc.mtu[:, None]
        tx_port = tx_q2.sum(axis=1)
        frame.port["tx_octets"] += tx_port
        frame.port["tx_ucast_pkts"] += tx_port / sc.mtu
        frame.port["rx_octets"] += tx_port[sc.peer]
        frame.port["rx_ucast_pkts"] += (tx_port / sc.mtu)[sc.peer]
        frame.port["tx_discards"] += ld.reshape(n, QUEUES).sum(axis=1)
        in_bytes = np.bincount(flat_jp[flat_jp >= 0], weights=np.where(jp >= 0, bytes_f[:, None], 0.0).ravel()[
            flat_jp >= 0], minlength=npq).reshape(n, QUEUES)
        frame.prio["rx_pg{}_bytes"] += in_bytes
        frame.prio["rx_pg{}_pkts"] += in_bytes / sc.mtu[:, None]
        pause_us = (paused * dt * 1e6).reshape(n, QUEUES)
        fr2 = frames.reshape(n, QUEUES)
        frame.prio["tx_pfc{}_pause_us"] += pause_us
        frame.prio["tx_pfc{}_frames"] += fr2
        frame.prio["rx_pfc{}_pause_us"] += pause_us[sc.peer]  # a MAC counts what it receives, obeyed or not
        frame.prio["rx_pfc{}_frames"] += fr2[sc.peer]
        frame.port["rx_discards"] += hr_drop.reshape(n, QUEUES).sum(axis=1)

        # ECN at the receiver, CNPs, RP
        hop_mark = np.where(egress, mark[np.minimum(pq, npq - 1)] * (pq < npq), 0.0)
        p_e2e = 1 - np.exp(np.log1p(-np.minimum(hop_mark, 1 - 1e-12)).sum(axis=1))
        delivered = np.where(lost, 0.0, bytes_f)
        marked_f = delivered / sc.mtu[fl.dst[idx]] * p_e2e
        cnp = np.where(fl.np_on[idx], np.minimum(fr * dt / fl.cnp_s[idx], marked_f), 0.0)
        frame.port["np_ecn_marked_roce_packets"] += np.bincount(fl.dst[idx], weights=marked_f, minlength=n)
        frame.port["np_cnp_sent"] += np.bincount(fl.dst[idx], weights=cnp, minlength=n)
        frame.port["rp_cnp_handled"] += np.bincount(fl.src[idx], weights=np.where(fl.cc[idx], cnp, 0.0),
                                                    minlength=n)
        occupancy = q_mean.reshape(n, QUEUES)
        water = np.maximum(q_99, burst_peak).reshape(n, QUEUES)
        frame.gauge["q{}_occupancy_bytes"] = occupancy
        frame.gauge["q{}_watermark_bytes"] = np.maximum(frame.gauge["q{}_watermark_bytes"], water)
        self.q_mean = q_mean

        # flow progress and ground truth
        before = fl.remaining[idx]
        fl.remaining[idx] = np.maximum(before - delivered, 0.0)
        fl.delivered[idx] += delivered
        self.delivered_total += float(delivered.sum())
        self.rate[idx] = np.where(lost, 0.0, rate)
        finished = (fl.remaining[idx] <= 0) & (delivered > 0)
        if finished.any():
            fi = idx[finished]
            begin = np.maximum(fl.start[fi], t0)
            qdelay = np.where(egress[finished], q_mean[np.minimum(pq[finished], npq - 1)] /
                              np.maximum(cap[np.minimum(pq[finished], npq - 1)], 1.0), 0.0).sum(axis=1)
            done = begin + before[finished] / np.maximum(inst[finished], 1e-9)
            fl.done[fi] = done
            # an aggregate row's members each send its mean size at the row's rate
            each = fl.size[fi] / fl.members[fi]
            fct = np.where(fl.members[fi] > 1, each / np.maximum(inst[finished], 1e-9),
                           done - fl.start[fi]) + qdelay + fl.rtt_s[fi] / 2
            ideal = each / fl.nic_rate[fi] + fl.rtt_s[fi] / 2
            c = self.completed
            c.weight += fl.members[fi].tolist()
            c.size += each.tolist()
            c.fct_s += fct.tolist()
            c.ideal_s += ideal.tolist()
            c.start_s += fl.start[fi].tolist()
            c.done_s += done.tolist()
            c.tag += [fl.tag[i] for i in fi]
            c.group += [fl.group[i] for i in fi]
            self.finished += [(fl.group[i], float(fl.members[i])) for i in fi]
            if len(c.size) > 2 * COMPLETED_KEEP:
                for name in Completed.__dataclass_fields__:
                    del getattr(c, name)[:-COMPLETED_KEEP]
        self.t = t1
        self.epochs += 1
        eventful = eventful or bool(new.any()) or bool(finished.any()) or bool((fr < 1).any())
        return idx, delivered, eventful

    def _bursts(self, fidx: I64, pq: I64, jp: I64, egress: B, cap: F64, xoff: F64, xon: F64, need: F64,
                headroom: F64, lossless: B, lossy_limit: F64, mtu_q: F64, dt: float, frame: CounterFrame,
                peak_out: F64, marks_out: F64) -> None:
        """§A.3 step 3 for the flows that start in this epoch: peak per queue, pauses/drops per ingress."""
        fl, sc, n = self.fl, self.sc, self.sc.n_ports
        npq = n * QUEUES
        width = pq.shape[1]
        w = egress & (pq < npq)
        r0 = np.repeat(fl.nic_rate[fidx], width).reshape(pq.shape)
        size = np.repeat(np.minimum(fl.size[fidx], fl.nic_rate[fidx] * dt), width).reshape(pq.shape)
        flat = pq[w]
        r0_q = np.bincount(flat, weights=r0[w], minlength=npq)
        bytes_q = np.bincount(flat, weights=size[w], minlength=npq)
        k_q = np.bincount(flat, minlength=npq)
        c = cap[:npq]
        hot = (r0_q > c * (1 + 1e-6)) & (bytes_q > 0) & (k_q > 1)
        if not hot.any():
            return
        cc_f = np.repeat(fl.cc[fidx].astype(float), width).reshape(pq.shape)
        cc_q = np.bincount(flat, weights=cc_f[w], minlength=npq) / np.maximum(k_q, 1) > 0.5

        def mean_q(values: F64) -> F64:
            v = np.repeat(values[fidx], width).reshape(pq.shape)
            return np.asarray(np.bincount(flat, weights=v[w], minlength=npq) / np.maximum(k_q, 1))

        h = np.flatnonzero(hot)  # the rest only on hot queues
        t_r = ((mean_q(fl.rtt_s) + mean_q(fl.cnp_s) / 2 + mean_q(fl.cut_s) / 2) * REACTION_SCALE)[h]
        cut = mean_q(fl.cut_s)[h]
        kmin, kmax, pmax = sc.ecn_kmin.ravel()[h], sc.ecn_kmax.ravel()[h], sc.ecn_pmax.ravel()[h]
        r0_h, c_h, bytes_h = r0_q[h], c[h], bytes_q[h]
        bound = bytes_h * (1 - c_h / np.maximum(r0_h, 1e-9))
        cascade = sum(np.maximum(r0_h / 2**j - c_h, 0.0) * cut for j in range(1, 7))
        react = cc_q[h] & (pmax > 0)
        peak = np.zeros(npq)
        peak[h] = np.where(react, np.minimum(bound, kmin + (r0_h - c_h) * t_r + cascade), bound)
        # per ingress feeding a hot queue: m distinct (queue, ingress) pairs
        pair_ok = w & hot[np.minimum(pq, npq - 1)] & (jp >= 0)
        keys = pq[pair_ok] * npq + jp[pair_ok]
        uniq = np.unique(keys)
        uq, uj = uniq // npq, uniq % npq
        m = np.bincount(uq, minlength=npq)
        per_in = peak[uq] / np.maximum(m[uq], 1)
        ll = lossless[uj]
        over = ll & (per_in >= xoff[uj])
        stay = np.where(over, np.minimum(per_in, xoff[uj] + np.minimum(headroom[uj], need[uj])), per_in)
        # what XOFF keeps out is held upstream and drains at this ingress's share; each XON->XOFF cycle
        # lets (XOFF - XON) more in: pause time and pause events grow as XOFF falls
        held_up = np.where(over, per_in - xoff[uj], 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            t_p = held_up / np.maximum(c[uq] / np.maximum(m[uq], 1), 1.0)
        events = np.where(over, 1 + held_up / np.maximum(xoff[uj] - xon[uj], mtu_q[uq]), 0.0)
        drop_ll = np.minimum(events * np.maximum(need[uj] - headroom[uj], 0.0), held_up)
        c_up = sc.capacity[sc.peer[uj // QUEUES]]
        t_refresh = PAUSE_QUANTA_BITS / np.maximum(c_up * 8, 1.0) / 2
        frames = events + np.floor(t_p / t_refresh)
        jport, prio = uj // QUEUES, uj % QUEUES
        for name, values in (("tx_pfc{}_frames", frames), ("tx_pfc{}_pause_us", np.minimum(t_p, dt) * 1e6)):
            np.add.at(frame.prio[name], (jport, prio), values)
            np.add.at(frame.prio[name.replace("tx_", "rx_")], (sc.peer[jport], prio), values)
        np.add.at(frame.port["rx_discards"], jport, drop_ll)
        lossy_over = ~ll & (per_in > lossy_limit[uq])
        np.add.at(frame.queue["q{}_drop_bytes"], (uq // QUEUES, uq % QUEUES),
                  np.where(lossy_over, per_in - lossy_limit[uq], 0.0))
        held = np.bincount(uq, weights=np.where(ll, stay, np.minimum(per_in, lossy_limit[uq])), minlength=npq)
        peak_out[:] = np.maximum(peak_out, held)
        held_h = held[h]
        ramp = np.mean([red_probability(held_h * (i + 0.5) / 8, kmin, kmax, pmax) for i in range(8)], axis=0)
        # the bytes that cross the queue while it ramps up to the peak and drains back see the ramp
        seen = np.minimum(bytes_h, held_h * (r0_h / np.maximum(r0_h - c_h, 1.0) + 1))
        marks_out[h] += seen / mtu_q[h] * ramp

    def _watchdog(self, u_rx: F64, stormed: B, t0: float, t1: float, frame: CounterFrame) -> bool:
        """Queues paused for a whole detect interval become storms for restore; counters on the port."""
        sc = self.sc
        detect = np.repeat(sc.watchdog_detect_s, QUEUES)
        restore = np.repeat(sc.watchdog_restore_s, QUEUES)
        armed = ~np.isnan(detect) & sc.pfc_enabled.ravel()
        ended = (self.wd_until > t0 - (t1 - t0)) & (self.wd_until <= t0) & armed
        fully = (u_rx >= 0.99) & armed & ~stormed
        self.wd_paused_s = np.where(fully, self.wd_paused_s + (t1 - t0), 0.0)
        fire = fully & (self.wd_paused_s >= detect)
        self.wd_until = np.where(fire, t1 + restore, self.wd_until)
        self.wd_paused_s = np.where(fire, 0.0, self.wd_paused_s)
        n = sc.n_ports
        frame.port["pfcwd_storm_detected"] += fire.reshape(n, QUEUES).sum(axis=1)
        frame.port["pfcwd_storm_restored"] += ended.reshape(n, QUEUES).sum(axis=1)
        return bool(fire.any() or ended.any())

    # -- ground truth -----------------------------------------------------------------------------

    def truth(self) -> dict[str, Any]:
        """Ground truth: FCT slowdown by size bucket, collective completion times, goodput, per-flow rates."""
        from fabric.lab.physics.truth import summarise

        return summarise(self)


RHO_MAX = 0.95
