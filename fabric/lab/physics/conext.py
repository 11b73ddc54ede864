"""The CoNEXT'16 DCQCN fluid model (Zhu et al.), the reference tier F's validation gates compare against.

§2.2 of reference/congestion-and-tuning.md: a delay-differential system for one bottleneck queue q and, per
flow, the current rate RC, target rate RT and alpha, with the marking probability and rates seen tau* late.
It is integrated with explicit Euler on delay ring buffers (§2.4), in *packets* (the authors' unit, so the
probability exponents are packet counts). Flows come in groups of identical flows (``counts``): N = 64
identical flows cost one group. The loop is plain Python floats on purpose: with one or two groups a step
is ~100 float operations, several times faster than the same step on tiny NumPy arrays.

``simulate(memory=True)`` replaces the paper's memoryless window probabilities ("no mark in the last X packets"
= (1 - p)^X at today's p) with the same windows integrated over their past: the closure tier F's stability
follows (README "Tier F": with it, N = 64 at 85 us and N = 10 at 4 us swing like the engine; without it
they settle, as the paper's Bode analysis says).

``fixed_point`` solves §2.3's fixed point exactly (bisection on p) and ``fixed_point_taylor`` gives the
paper's small-p closed form.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class ConextParams:
    """Paper defaults (§2.1): 40 Gb/s, 1 KB packets, Kmin 5 KB, Kmax 200 KB, Pmax 1 %, g 1/256, tau 50 us,
    tau' = T = 55 us, B = 10 MB, F = 5, R_AI 40 Mb/s; tau* is the control-loop delay."""

    n_flows: int = 2
    capacity_gbps: float = 40.0
    packet_bytes: float = 1000.0
    kmin_bytes: float = 5e3
    kmax_bytes: float = 200e3
    pmax: float = 0.01
    g: float = 1.0 / 256
    tau_s: float = 50e-6  # CNP interval
    tau_alpha_s: float = 55e-6  # tau'
    timer_s: float = 55e-6  # T
    byte_counter_bytes: float = 10e6  # B
    fast_recovery: int = 5  # F
    r_ai_mbps: float = 40.0
    tau_star_s: float = 4e-6

    @property
    def capacity_pps(self) -> float:
        return self.capacity_gbps * 1e9 / 8 / self.packet_bytes

    @property
    def r_ai_pps(self) -> float:
        return self.r_ai_mbps * 1e6 / 8 / self.packet_bytes

    def red(self, q_pkts: float) -> float:
        kmin, kmax = self.kmin_bytes / self.packet_bytes, self.kmax_bytes / self.packet_bytes
        if q_pkts <= kmin:
            return 0.0
        return self.pmax * (q_pkts - kmin) / (kmax - kmin) if q_pkts <= kmax else 1.0


@dataclass
class ConextRun:
    """Samples of one integration: time, queue (bytes), marking probability, per-group rates (bytes/s)."""

    t_s: NDArray[np.float64]
    queue_bytes: NDArray[np.float64]
    p: NDArray[np.float64]
    rate_bytes_s: NDArray[np.float64]  # shape (samples, groups)
    counts: list[int] = field(default_factory=list)

    def tail(self, fraction: float = 0.5) -> slice:
        """The last ``fraction`` of the samples (steady-state statistics skip the warm-up)."""
        return slice(int(len(self.t_s) * (1 - fraction)), None)


def _inv_expm1(x: float) -> float:
    """1 / (e^x - 1), 0 where e^x overflows (an expiry that needs hundreds of unmarked packets in a row)."""
    return 0.0 if x > 700.0 else 1.0 / math.expm1(x)


def _terms(p: float, rd: float, prm: ConextParams) -> tuple[float, float, float, float, float, float]:
    """a, b, c, d, e of §2.2 and alpha's target 1 - (1-p)^(tau' Rd), with the p -> 0 and p -> 1 limits."""
    big_b, t = prm.byte_counter_bytes / prm.packet_bytes, prm.timer_s
    f = prm.fast_recovery
    if p < 1e-9:
        return 0.0, 1 / big_b, 1 / big_b, 1 / (t * rd), 1 / (t * rd), 0.0
    if p >= 1.0 - 1e-12:
        return 1.0, 0.0, 0.0, 0.0, 0.0, 1.0
    lq = math.log1p(-p)
    a = -math.expm1(prm.tau_s * rd * lq)
    b = p * _inv_expm1(-big_b * lq)
    c = b * math.exp(f * big_b * lq)
    d = p * _inv_expm1(-t * rd * lq)
    e = d * math.exp(f * t * rd * lq)
    return a, b, c, d, e, -math.expm1(prm.tau_alpha_s * rd * lq)


class _History:
    """Running integrals of one group's mark and cut hazards, for the ``memory=True`` closure:
    ``marks_since(k)`` / ``cuts_since(k)`` integrate the last k steps (this one included, k <= ``window``);
    ``next_step`` closes the step."""

    def __init__(self, window: int) -> None:
        self.size = window + 1
        self.marks, self.cuts = [0.0] * self.size, [0.0] * self.size
        self.mark_total = self.cut_total = 0.0
        self.n = 0

    def add_marks(self, amount: float) -> None:
        self.mark_total += amount
        self.marks[self.n % self.size] = self.mark_total

    def add_cuts(self, amount: float) -> None:
        self.cut_total += amount
        self.cuts[self.n % self.size] = self.cut_total

    def next_step(self) -> None:
        self.n += 1

    def marks_since(self, k: int) -> float:
        return self.mark_total - (self.marks[(self.n - k) % self.size] if self.n >= k else 0.0)

    def cuts_since(self, k: int) -> float:
        return self.cut_total - (self.cuts[(self.n - k) % self.size] if self.n >= k else 0.0)


def _terms_with_memory(p: float, rd: float, hist: _History, prm: ConextParams, dt_s: float,
                       steps: tuple[int, int, int, int]) -> tuple[float, float, float, float, float, float]:
    """``_terms`` with the window probabilities taken over each window's past instead of the current p.

    The paper's closure evaluates "no mark in the last X packets" as (1 - p)^X with today's p, so when the
    queue moves, every flow's fast-recovery / additive-increase state, CNP window and alpha target follow
    at once. A reaction point remembers: it is past fast recovery only if it has not been *cut* for F
    timer periods, and a CNP window holds the marks of the last tau. Here: a = 1 - exp(-marks over the
    last tau); cuts arrive at rate a / tau and reset the stages (as the RP does; the paper resets on
    marks); timer expiries d and expiries past fast recovery e come from the cuts over the last T and
    F T; alpha's target from the marks over the last tau'. The byte counter (B = 10 MB: ~100 ms at these
    rates) keeps the memoryless form."""
    n_tau, n_timer, n_fr, n_alpha = steps
    lq = math.log1p(-min(p, 1.0 - 1e-12))
    hist.add_marks(-rd * lq * dt_s)  # Poisson marks: (1 - p)^(R dt) = exp(-hazard dt)
    a = -math.expm1(-hist.marks_since(n_tau))
    hist.add_cuts(a / prm.tau_s * dt_s)
    x_t, x_fr = hist.cuts_since(n_timer), hist.cuts_since(n_fr)
    alpha_target = -math.expm1(-hist.marks_since(n_alpha))
    hist.next_step()
    d = 1.0 / prm.timer_s if x_t < 1e-12 else x_t / prm.timer_s * _inv_expm1(x_t)
    e = d * math.exp(-x_fr)
    _, b, c, _, _, _ = _terms(p, rd, prm)
    return a, b, c, d / rd, e / rd, alpha_target


def simulate(prm: ConextParams, duration_s: float, *, counts: Sequence[int] | None = None,
             rate0_gbps: Sequence[float] | None = None, alpha0: float = 1.0, queue0_bytes: float = 0.0,
             dt_s: float = 1e-6, sample_s: float = 10e-6, memory: bool = False) -> ConextRun:
    """Euler-integrate §2.2 (§2.4's recipe). ``counts``: flows per group (default one group of N);
    ``rate0_gbps``: initial RC = RT per group (default line rate, as in the paper); ``queue0_bytes``: the
    initial queue. ``memory=True`` swaps the paper's memoryless window probabilities for their history
    (``_terms_with_memory``): the closure that reproduces tier F's stability (README "Tier F")."""
    groups = list(counts) if counts is not None else [prm.n_flows]
    cap, r_ai, tau, g = prm.capacity_pps, prm.r_ai_pps, prm.tau_s, prm.g
    pkt = prm.packet_bytes
    rc = [r * 1e9 / 8 / pkt for r in rate0_gbps] if rate0_gbps is not None else [cap] * len(groups)
    rt, alpha, q = list(rc), [alpha0] * len(groups), queue0_bytes / pkt
    delay = max(1, round(prm.tau_star_s / dt_s))
    ring_p, ring_rc = [0.0] * (delay + 1), [list(rc) for _ in range(delay + 1)]
    def steps(seconds: float) -> int:
        return max(1, round(seconds / dt_s))
    windows = (steps(tau), steps(prm.timer_s), steps(prm.fast_recovery * prm.timer_s), steps(prm.tau_alpha_s))
    hists = [_History(max(windows)) for _ in groups]
    every = max(1, round(sample_s / dt_s))
    out_t, out_q, out_p, out_r = [], [], [], []
    for n in range(round(duration_s / dt_s)):
        p = prm.red(q)
        slot = n % (delay + 1)
        ring_p[slot], ring_rc[slot] = p, list(rc)
        old = (n - delay) % (delay + 1)
        pd, rcd = (ring_p[old], ring_rc[old]) if n >= delay else (0.0, rc)
        for i in range(len(groups)):
            if memory:
                a, b, c, d, e, target = _terms_with_memory(pd, rcd[i], hists[i], prm, dt_s, windows)
            else:
                a, b, c, d, e, target = _terms(pd, rcd[i], prm)
            d_alpha = g / prm.tau_alpha_s * (target - alpha[i])
            d_rt = -(rt[i] - rc[i]) * a / tau + r_ai * rcd[i] * (c + e)
            d_rc = -rc[i] * alpha[i] * a / (2 * tau) + (rt[i] - rc[i]) / 2 * rcd[i] * (b + d)
            alpha[i] += dt_s * d_alpha
            rt[i] = min(cap, rt[i] + dt_s * d_rt)
            rc[i] = min(rt[i], cap, max(rc[i] + dt_s * d_rc, 0.0))
        q = max(0.0, q + dt_s * (sum(k * r for k, r in zip(groups, rc, strict=True)) - cap))
        if n % every == 0:
            out_t.append(n * dt_s)
            out_q.append(q * pkt)
            out_p.append(p)
            out_r.append([r * pkt for r in rc])
    return ConextRun(np.array(out_t), np.array(out_q), np.array(out_p), np.array(out_r), groups)


def _balance(p: float, prm: ConextParams) -> float:
    """alpha a^2 - R_AI tau^2 R (c + e)(b + d) at RC = C/N: zero at the fixed point, increasing in p."""
    r = prm.capacity_pps / prm.n_flows
    a, b, c, d, e, alpha = _terms(p, r, prm)
    return alpha * a * a - prm.r_ai_pps * prm.tau_s ** 2 * r * (c + e) * (b + d)


def fixed_point(prm: ConextParams) -> tuple[float, float]:
    """(q* bytes, p*) of §2.3: all RC* = C/N and dRT = dRC = 0 solved for p (bisection, log scale). Past
    Pmax the RED ramp has no q with that p: q* sits at Kmax (marking jumps there)."""
    lo, hi = 1e-9, 1.0 - 1e-9
    for _ in range(200):
        mid = math.sqrt(lo * hi)
        lo, hi = (mid, hi) if _balance(mid, prm) < 0 else (lo, mid)
    p = math.sqrt(lo * hi)
    q = prm.kmin_bytes + min(p, prm.pmax) / prm.pmax * (prm.kmax_bytes - prm.kmin_bytes)
    return q, p


def fixed_point_taylor(prm: ConextParams) -> float:
    """p* ~= cbrt(R_AI N^2 / (tau' C^2) (1/B + N/(T C))^2), the paper's small-p form (packet units)."""
    n, cap = prm.n_flows, prm.capacity_pps
    big_b = prm.byte_counter_bytes / prm.packet_bytes
    inner = 1 / big_b + n / (prm.timer_s * cap)
    return float(np.cbrt(prm.r_ai_pps * n * n / (prm.tau_alpha_s * cap * cap) * inner ** 2))
