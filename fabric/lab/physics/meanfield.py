"""Tier E's analytic mean-field formulas (reference §2.3, §A.3): DCQCN's fixed point, the response surface
around it fitted to tier F (``RESPONSE``), the reaction time of a burst's cut (``REACTION_SCALE``) and the link
time DCQCN's start transient loses (``TRANSIENT_LOST``). Element-wise over NumPy arrays; ``epoch.py`` runs them."""

from __future__ import annotations

import numpy as np

from fabric.lab.physics.scenario import F64

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


def reaction_s(rtt_s: F64, cnp_s: F64, cut_s: F64) -> F64:
    """t_r, how long DCQCN takes to cut a flow once its queue passes Kmin (§A.3 step 3), element-wise: one
    definition for the bursts' peak and the open-loop queues' excursion above Kmin."""
    return (rtt_s + cnp_s / 2 + cut_s / 2) * REACTION_SCALE


def response(n_flows: F64) -> tuple[F64, F64, F64, F64]:
    """(mean ratio, p99 ratio, utilisation, mark ratio) for ``n_flows`` DCQCN flows bottlenecked at a queue."""
    x = np.log(np.maximum(n_flows, 1.0))
    knots = np.log(RESPONSE[:, 0])
    return (np.interp(x, knots, RESPONSE[:, 1]), np.interp(x, knots, RESPONSE[:, 2]),
            np.interp(x, knots, RESPONSE[:, 3]), np.interp(x, knots, RESPONSE[:, 4]))


# DCQCN's start transient: N flows that start together at line rate into one ECN-marking queue overshoot, are
# cut every rate-reduce period for as long as the queue stays above Kmin (to near the minimum rate), and come
# back together when their recovery timers fire: the link idles between such cycles until alpha has decayed.
# Link time lost (seconds) by tau after the start, per N (flows at line rate; ``StartTransients`` takes N as the
# starting flows' arrival over the queue's line rate): tier F (FluidEngine, 1 us steps) on star(N) at
# 100 Gb/s, lossless (XOFF 300 KB), ECN Kmin 100 KB / Kmax 400 KB / Pmax 20 %, NIC firmware DCQCN defaults, MTU
# 1 KB, long flows from an idle fabric, 10 us frames, mean of seeds 0-2; held at its last value after it
# levels off (what follows is the steady operating point's, ``RESPONSE``). One operating point, like RESPONSE.
TRANSIENT_N = np.array([2.0, 4.0, 8.0, 16.0, 32.0, 64.0])
TRANSIENT_T = np.array([0, 40, 60, 80, 100, 150, 200, 300, 500, 800, 1000, 1500, 2000, 3000, 4000, 6000, 8000,
                        10000]) * 1e-6
TRANSIENT_LOST = np.array([
    [0, .002, .011, .016, .017, .022, .034, .035, .039, .039, .039, .039, .039, .039, .039, .039, .039, .039],
    [0, .001, .005, .024, .044, .092, .141, .195, .204, .282, .310, .319, .329, .339, .340, .341, .341, .343],
    [0, .001, .001, .001, .014, .064, .114, .214, .276, .474, .550, .812, .966, 1.320, 1.541, 1.543, 1.543, 1.543],
    [0, 0, 0, 0, 0, 0, .040, .140, .272, .272, .401, .543, .815, 1.144, 1.557, 1.673, 1.679, 1.679],
    [0, 0, 0, 0, 0, 0, 0, 0, .131, .263, .263, .263, .528, .645, .992, 1.663, 1.738, 1.738],
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, .246, .246, .246, .496, .660, .879, 1.321]]) * 1e-3


def transient_lost(tau_s: F64, n_flows: F64) -> F64:
    """Link time DCQCN's start transient has lost by ``tau_s`` after ``n_flows`` flows started together
    (``TRANSIENT_LOST``: linear in time, held after its last column; linear in log N between its rows, held
    above; none below N = 2), element-wise."""
    t = np.clip(tau_s, 0.0, TRANSIENT_T[-1])
    j = np.clip(np.searchsorted(TRANSIENT_T, t, side="right") - 1, 0, TRANSIENT_T.size - 2)
    u = (t - TRANSIENT_T[j]) / (TRANSIENT_T[j + 1] - TRANSIENT_T[j])
    log_n = np.log(TRANSIENT_N)
    x = np.clip(np.log(np.maximum(n_flows, 1.0)), log_n[0], log_n[-1])
    k = np.clip(np.searchsorted(log_n, x, side="right") - 1, 0, log_n.size - 2)
    w = (x - log_n[k]) / (log_n[k + 1] - log_n[k])
    at = k * TRANSIENT_T.size + j  # flat index of (row k, column j)
    flat = TRANSIENT_LOST.reshape(-1)
    low = (1 - u) * flat[at] + u * flat[at + 1]
    high = (1 - u) * flat[at + TRANSIENT_T.size] + u * flat[at + TRANSIENT_T.size + 1]
    return np.asarray(np.where(n_flows >= 2, (1 - w) * low + w * high, 0.0))


def dcqcn_fixed_point(n: F64, capacity_pkts: F64, rai_pkts: F64, tau_alpha_s: F64, timer_s: F64,
                      byte_counter_pkts: F64) -> F64:
    """p* of the CoNEXT'16 fixed point (reference §2.3, packet units), element-wise."""
    inner = 1 / np.maximum(byte_counter_pkts, 1e-9) + n / np.maximum(timer_s * capacity_pkts, 1e-9)
    return np.asarray(np.cbrt(rai_pkts * n**2 / np.maximum(tau_alpha_s * capacity_pkts**2, 1e-30) * inner**2))

