"""The CoNEXT'16 fluid model itself (fabric.lab.physics.conext): fixed point, convergence, stability.

These pin the reference the tier F gates compare against (reference/congestion-and-tuning.md §2.2-2.4).
The stability case uses the authors' checked-in dcqcn2.m thresholds (Kmax 2000 KB, Pmax 0.1): with the
paper-comment values (Kmax 200 KB, Pmax 1 %) N = 64 has p* = 0.059 > Pmax, its fixed point sits on the RED
discontinuity at Kmax, and it relay-oscillates at any delay, so the paper's non-monotonic result needs the
ramp to reach p*. The history closure (``simulate(memory=True)``, the reaction point's memory that tier F
has and the paper's closure drops) is pinned too: it is what tier F's stability follows (README "Tier F").
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from fabric.lab.physics.conext import ConextParams, fixed_point, fixed_point_taylor, simulate

STABILITY: dict[str, Any] = {"kmax_bytes": 2000e3, "pmax": 0.1}


def relative_swing(n_flows: int, tau_star_s: float, seconds: float = 0.2) -> float:
    """Queue standard deviation / mean over the last quarter of a run from line rate."""
    run = simulate(ConextParams(n_flows=n_flows, tau_star_s=tau_star_s, **STABILITY), seconds, dt_s=2.5e-6
                   if tau_star_s > 20e-6 else 1e-6, sample_s=1e-4)
    q = run.queue_bytes[run.tail(0.25)]
    return float(q.std() / q.mean())


@pytest.mark.parametrize(("n_flows", "q_kb", "p_star"), [(2, 20.2, 0.00078), (10, 122.6, 0.0060)])
def test_fixed_point_at_40g_paper_defaults(n_flows: int, q_kb: float, p_star: float) -> None:
    """Exact fixed point (bisection) against the numbers worked out by hand for §2.3, and the paper's
    Taylor form, which overestimates p* by 15-30 % at these p (it drops higher-order terms)."""
    prm = ConextParams(n_flows=n_flows)
    q, p = fixed_point(prm)
    assert q / 1e3 == pytest.approx(q_kb, rel=0.01)
    assert p == pytest.approx(p_star, rel=0.02)
    assert 1.1 * p < fixed_point_taylor(prm) < 1.4 * p


def test_fixed_point_grows_with_n_and_saturates_past_pmax() -> None:
    qs = [fixed_point(ConextParams(n_flows=n))[0] for n in (2, 10, 64)]
    assert qs[0] < qs[1] < qs[2] == pytest.approx(200e3)  # N = 64: p* > Pmax, the queue sits at Kmax


@pytest.mark.parametrize("n_flows", [2, 10])
def test_ode_settles_on_its_fixed_point(n_flows: int) -> None:
    prm = ConextParams(n_flows=n_flows)
    run = simulate(prm, 0.1, sample_s=1e-4)
    tail = run.tail(0.2)
    q_star, p_star = fixed_point(prm)
    assert run.queue_bytes[tail].mean() == pytest.approx(q_star, rel=0.02)
    assert run.p[tail].mean() == pytest.approx(p_star, rel=0.02)
    assert run.rate_bytes_s[tail].mean() * n_flows == pytest.approx(prm.capacity_gbps * 1e9 / 8, rel=0.01)


def test_two_flows_converge_to_a_fair_share() -> None:
    """Two flows from 35 and 5 Gb/s: the rate gap shrinks (exponentially, §2.3) to under 2 % of C/2."""
    run = simulate(ConextParams(), 0.3, counts=[1, 1], rate0_gbps=[35.0, 5.0], sample_s=1e-3)
    gap = np.abs(run.rate_bytes_s[:, 0] - run.rate_bytes_s[:, 1]) * 8 / 1e9
    assert gap[0] == pytest.approx(30.0, abs=1.0)
    assert gap[100] < gap[0] / 2 and gap[200] < gap[100]
    assert gap[-1] < 0.02 * 20.0


def test_non_monotonic_stability_at_85us() -> None:
    """tau* = 85 us: N = 10 keeps a large oscillation, N = 2 and N = 64 settle; at 4 us N = 10 settles."""
    assert relative_swing(10, 85e-6) > 0.3
    assert relative_swing(2, 85e-6) < 0.02
    assert relative_swing(64, 85e-6) < 0.02
    assert relative_swing(10, 4e-6) < 0.02


def history_swing(n_flows: int, tau_star_s: float, *, at_fixed_point: bool) -> float:
    """Relative queue swing (last quarter of 100 ms) of the history closure, started either as tier F's
    gates start (rates C/N, alpha*, empty queue) or at the fixed point with rates 1 % high."""
    prm = ConextParams(n_flows=n_flows, tau_star_s=tau_star_s, **STABILITY)
    q_star, p_star = fixed_point(prm)
    alpha = -np.expm1(prm.tau_alpha_s * prm.capacity_pps / n_flows * np.log1p(-p_star))
    rate = prm.capacity_gbps / n_flows * (1.01 if at_fixed_point else 1.0)
    run = simulate(prm, 0.1, rate0_gbps=[rate], alpha0=float(alpha), queue0_bytes=q_star if at_fixed_point else 0.0,
                   dt_s=2.5e-6 if tau_star_s > 20e-6 else 1e-6, sample_s=1e-4, memory=True)
    q = run.queue_bytes[run.tail(0.25)]
    return float(q.std() / q.mean())


def test_history_closure_is_bistable_at_n64() -> None:
    """With the reaction point's memory (simulate(memory=True)), N = 64 at 85 us keeps a stable fixed point
    (a 1 % kick dies out: the paper's linearised verdict holds locally) next to a large limit cycle that the
    start from an empty queue falls into; N = 10 at 85 us swings from either start."""
    assert history_swing(64, 85e-6, at_fixed_point=True) < 0.02
    assert history_swing(64, 85e-6, at_fixed_point=False) > 0.3
    assert history_swing(10, 85e-6, at_fixed_point=True) > 0.3
