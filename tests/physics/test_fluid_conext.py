"""Tier F (fluid engine) against the CoNEXT'16 fluid model: fixed point, fair share, non-monotonic stability.

Stated tolerances (also in README "Tier F"): at 40G, 1 KB packets, the authors' checked-in thresholds
(Kmin 5 KB, Kmax 2000 KB, Pmax 0.1) and tau* = 4 us, the engine's time-mean bottleneck queue is within
25 % of the fixed point q* and its marked fraction within 25 % of p*, for N = 2 and 10, averaged over 30 ms
after 10 ms, starting at the fixed point's rates and alpha. Seeds 0-3 gave q/q* = 0.77-0.96 (N = 2; the
queue often empties, which the fluid fixed point ignores) and 0.94-1.03 (N = 10). With the paper-comment
Kmax 200 KB the engine's queue excursions cross Kmax, where every packet is marked, so the marked fraction
overshoots p* by ~3x at N = 10: the mean-field model has no excursions.

Stability: the engine is stochastic (Poisson marks, one cut per CNP), so "settles" cannot mean a flat
queue; a sustained oscillation shows as a spectral band (+- 25 % around one frequency) holding most of the
queue's variance. What holds on the engine: at tau* = 85 us N = 10 oscillates at the paper ODE's frequency
and N = 2 shows no dominant line. What does not: N = 64 oscillates too, and N = 10 also swings at 4 us. Those
are pinned against the delay ODE with the history closure (``simulate(memory=True)``), which reproduces them
from the same start; README "Tier F" gives the experiments behind that explanation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import pytest

from fabric.lab.physics.conext import ConextParams, fixed_point, simulate
from fabric.lab.physics.fluid import FluidEngine
from fabric.lab.physics.shapes import conext_star

CHECKED_IN: dict[str, Any] = {"kmax_bytes": 2_000_000, "pmax": 0.1}
FRAME_S = 1e-4


@dataclass
class Run:
    queue: np.ndarray  # bottleneck queue 3 occupancy at the end of each 100 us frame (bytes)
    marked: float  # marked bytes / sent bytes at the bottleneck over the tail
    utilisation: float
    rates: np.ndarray  # per-flow delivered bytes/s over the tail


@cache
def engine_run(n_flows: int, tau_star_s: float, warm_s: float = 0.01, tail_s: float = 0.03,
               seed: int = 0) -> Run:
    """The CoNEXT dumbbell on tier F from the fixed point (rates C/N, alpha*), statistics over the tail."""
    prm = ConextParams(n_flows=n_flows, kmax_bytes=CHECKED_IN["kmax_bytes"], pmax=CHECKED_IN["pmax"])
    _, p_star = fixed_point(prm)
    alpha = -math.expm1(prm.tau_alpha_s * prm.capacity_pps / n_flows * math.log1p(-p_star))
    scen = conext_star(n_flows, tau_star_s=tau_star_s, alpha=alpha, **CHECKED_IN)
    engine = FluidEngine(scen, dt_s=1e-6, seed=seed)
    engine.set_rates(np.full(n_flows, prm.capacity_gbps * 1e9 / 8 / n_flows))
    bottleneck = int(scen.hop_port[scen.hop_ingress >= 0][0])
    queue, tx, marked = [], 0.0, 0.0
    start = engine.truth()["delivered_bytes"]
    for i in range(round((warm_s + tail_s) / FRAME_S)):
        frame = engine.advance(FRAME_S)
        if i == round(warm_s / FRAME_S) - 1:
            start = engine.truth()["delivered_bytes"]
        if i >= round(warm_s / FRAME_S):
            queue.append(frame.gauge["q{}_occupancy_bytes"][bottleneck, 3])
            tx += frame.queue["q{}_tx_bytes"][bottleneck, 3]
            marked += frame.queue["q{}_ecn_marked_bytes"][bottleneck, 3]
    rates = (engine.truth()["delivered_bytes"] - start) / tail_s
    return Run(np.array(queue), marked / tx, tx / tail_s / scen.capacity[bottleneck], rates)


def spectrum(queue: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(frequencies Hz, power) of a queue trace sampled every ``FRAME_S``, without the DC term."""
    power = np.abs(np.fft.rfft(queue - queue.mean()))[1:] ** 2
    return np.fft.rfftfreq(len(queue), FRAME_S)[1:], power


def peak_frequency(queue: np.ndarray) -> float:
    freqs, power = spectrum(queue)
    return float(freqs[int(power.argmax())])


def band_share(queue: np.ndarray, f0: float | None = None, rel: float = 0.25) -> float:
    """Share of the queue's non-DC variance within ``rel`` of ``f0`` (default: its own strongest line). A
    band, not one FFT bin: a stochastic limit cycle's frequency wanders over a 30 ms trace."""
    freqs, power = spectrum(queue)
    centre = peak_frequency(queue) if f0 is None else f0
    near = (freqs >= centre * (1 - rel)) & (freqs <= centre * (1 + rel))
    return float(power[near].sum() / power.sum())


def ode_queue(n_flows: int, tau_star_s: float, *, memory: bool) -> np.ndarray:
    """The delay ODE's queue (last 50 ms of 100 ms) from the engine runs' start: rates C/N, alpha*, q = 0."""
    prm = ConextParams(n_flows=n_flows, tau_star_s=tau_star_s, **CHECKED_IN)
    _, p_star = fixed_point(prm)
    alpha = -math.expm1(prm.tau_alpha_s * prm.capacity_pps / n_flows * math.log1p(-p_star))
    run = simulate(prm, 0.1, rate0_gbps=[prm.capacity_gbps / n_flows], alpha0=alpha,
                   dt_s=2.5e-6 if tau_star_s > 20e-6 else 1e-6, sample_s=FRAME_S, memory=memory)
    return run.queue_bytes[run.tail(0.5)]


@pytest.mark.parametrize("n_flows", [2, 10])
def test_engine_sits_at_the_conext_fixed_point(n_flows: int) -> None:
    q_star, p_star = fixed_point(ConextParams(n_flows=n_flows, **CHECKED_IN))
    run = engine_run(n_flows, 4e-6)
    assert run.queue.mean() == pytest.approx(q_star, rel=0.25)
    assert run.marked == pytest.approx(p_star, rel=0.25)
    assert run.utilisation > 0.98


def test_engine_shares_fairly_at_the_fixed_point() -> None:
    run = engine_run(10, 4e-6)
    assert run.rates.min() > 0.75 * run.rates.mean()
    assert run.rates.max() < 1.25 * run.rates.mean()


def test_two_flows_converge_to_a_fair_share_on_the_engine() -> None:
    """A flow joining a link a running flow holds at line rate: 30 ms later both get C/2 +- 15 %."""
    scen = conext_star(2, **CHECKED_IN)
    scen.flow_start_s[1] = 0.002
    engine = FluidEngine(scen, dt_s=1e-6, seed=2)
    engine.advance(0.002)
    assert engine.truth()["rate_bytes_s"][1] == 0.0
    engine.advance(0.030)
    before = engine.truth()["delivered_bytes"]
    engine.advance(0.015)
    share = (engine.truth()["delivered_bytes"] - before) / 0.015 / (40e9 / 8)
    assert share == pytest.approx([0.5, 0.5], abs=0.075)


def test_n10_oscillates_and_n2_does_not_on_the_engine_at_85us() -> None:
    """tau* = 85 us, the half of the paper's claim that holds on the engine: N = 10 oscillates (a band of
    +- 25 % around the delay ODE's frequency holds > 60 % of the queue variance; seeds 0-2: 0.77-0.85) at
    that frequency; N = 2 has no such line (its own strongest band holds < 60 %; seeds 0-6: 0.24-0.55, and
    0.14-0.52 around the ODE's frequency: the queue is mostly noise, emptying often, with a weak 300-400 Hz
    component; the margin over seed 0's 0.54 is small, a band share is a noisy statistic of a 30 ms trace)."""
    f_ode = peak_frequency(ode_queue(10, 85e-6, memory=False))
    run10 = engine_run(10, 85e-6)
    assert band_share(run10.queue, f_ode) > 0.6
    assert peak_frequency(run10.queue) == pytest.approx(f_ode, rel=0.25)
    assert band_share(engine_run(2, 85e-6).queue) < 0.6


@pytest.mark.parametrize(("n_flows", "tau_star_s"), [(64, 85e-6), (10, 4e-6)])
def test_engine_swings_where_the_history_closure_does(n_flows: int, tau_star_s: float) -> None:
    """Where the engine departs from the paper (N = 64 at 85 us, N = 10 at 4 us: the paper's ODE settles),
    the delay ODE with the reaction point's memory (stages reset by cuts F timer periods back, marks of the
    last CNP window, alpha's window) swings from the same start, at the engine's frequency (+- 25 %): the
    engine behaves like DCQCN with memory, which the paper's closure drops. Engine band shares: 0.91-0.95
    (N = 64, 85 us), 0.78-0.87 (N = 10, 4 us) over seeds 0-2."""
    paper = ode_queue(n_flows, tau_star_s, memory=False)
    history = ode_queue(n_flows, tau_star_s, memory=True)
    assert paper.std() < 0.02 * paper.mean()
    assert history.std() > 0.3 * history.mean()
    f_history = peak_frequency(history)
    queue = engine_run(n_flows, tau_star_s).queue
    assert band_share(queue, f_history) > 0.6
    assert peak_frequency(queue) == pytest.approx(f_history, rel=0.25)
