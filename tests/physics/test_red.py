"""The RED/ECN ramp and its averages over a queue's depth (fabric.lab.physics.red), checked against numeric
integration and sampling so a wrong closed form cannot pass."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from fabric.lab.physics.red import RedRamp, red_integral, red_mean, red_probability, red_tail_mean

PROFILES = [(100e3, 400e3, 0.2), (5e3, 200e3, 0.01), (50e3, 50e3, 1.0), (20e3, 2e6, 0.1)]


@pytest.mark.parametrize(("kmin", "kmax", "pmax"), PROFILES)
def test_ramp_shape_and_the_hot_loop_form_agree(kmin: float, kmax: float, pmax: float) -> None:
    q = np.linspace(0, 3 * kmax, 10_001)
    p = red_probability(q, kmin, kmax, pmax)
    assert (p[q <= kmin] == 0).all() and (p[q > kmax] == 1).all()
    assert (np.diff(p) >= 0).all()
    assert np.allclose(RedRamp(kmin, kmax, pmax)(q), p)
    assert (red_probability(q, kmin, kmax, 0.0) == 0).all()  # no ECN configured: never marks


@pytest.mark.parametrize(("kmin", "kmax", "pmax"), PROFILES)
@pytest.mark.parametrize("low_high", [(0.0, 1e6), (0.0, 150e3), (80e3, 300e3), (300e3, 3e6)])
def test_mean_over_a_sweep_is_the_integral_of_the_ramp(kmin: float, kmax: float, pmax: float,
                                                       low_high: tuple[float, float]) -> None:
    low, high = low_high
    q = np.linspace(low, high, 2_000_001)
    numeric = float(red_probability(q, kmin, kmax, pmax).mean())
    assert float(red_mean(low, high, kmin, kmax, pmax)) == pytest.approx(numeric, abs=1e-5)
    assert float(red_integral(high, kmin, kmax, pmax) - red_integral(low, kmin, kmax, pmax)) == pytest.approx(
        numeric * (high - low), rel=1e-4, abs=1e-3)


def test_mean_over_no_sweep_is_the_point_value() -> None:
    assert float(red_mean(250e3, 250e3, 100e3, 400e3, 0.2)) == pytest.approx(0.1)


@pytest.mark.parametrize(("kmin", "kmax", "pmax"), PROFILES)
@pytest.mark.parametrize(("mean", "above"), [(30e3, 30e3), (30e3, 10e3), (200e3, 50e3), (1e3, 1e3)])
def test_tail_mean_is_the_ramp_over_the_sampled_depth(kmin: float, kmax: float, pmax: float, mean: float,
                                                      above: float) -> None:
    """Depth exponential with ``mean`` below Kmin, then decaying with scale ``above``: sample it directly."""
    rng = np.random.default_rng(7)
    q = rng.exponential(mean, 4_000_000)
    q = np.where(q > kmin, kmin + (q - kmin) * above / mean, q)  # memoryless: rescaling the excess is exact
    sampled = float(red_probability(q, kmin, kmax, pmax).mean())
    assert float(red_tail_mean(mean, above, kmin, kmax, pmax)) == pytest.approx(sampled, rel=0.03, abs=2e-5)


def test_tail_mean_falls_as_kmin_rises() -> None:
    marks = [float(red_tail_mean(40e3, 20e3, kmin, kmin + 300e3, 0.2)) for kmin in (10e3, 50e3, 150e3, 300e3)]
    assert all(a > b > 0 for a, b in itertools.pairwise(marks))
