"""The bucket lookup and the prepared CDF inverse give numpy's own answers, bit for bit, including on and next to
every table point (where a bucket's computed index may be off by one)."""

from __future__ import annotations

import numpy as np
import pytest

from fabric.lab.workload.cdf import CDFS, sample_bytes
from fabric.lab.workload.lookup import Lookup


def near(points: np.ndarray, lo: float, hi: float, rng: np.random.Generator) -> np.ndarray:
    """Uniform values plus every point and its float neighbours, inside [lo, hi]."""
    v = np.concatenate([lo + rng.random(200_000) * (hi - lo), points, np.nextafter(points, -np.inf),
                        np.nextafter(points, np.inf), [lo, hi]])
    return v[(v >= lo) & (v <= hi)]


@pytest.mark.parametrize("buckets", [1, 7, None])
def test_lookup_is_searchsorted_right(buckets: int | None) -> None:
    rng = np.random.default_rng(1)
    for points, lo, hi in ((np.cumsum(np.full(32, 25e9 / 3 / 120e3)), 0.0, 32 * 25e9 / 3 / 120e3),
                           (np.cumsum(rng.random(40) * 1e3), 0.0, 0.0), (np.array([0.0, 0.5, 0.5 + 1e-12, 3.0]),
                                                                           0.0, 3.0)):
        hi = hi or float(points[-1])
        v = near(points, lo, hi, rng)
        assert np.array_equal(Lookup(points, lo, hi, buckets)(v), np.searchsorted(points, v, side="right"))


@pytest.mark.parametrize("name", sorted(CDFS))
def test_sample_bytes_is_numpys_interp(name: str) -> None:
    x = np.array([p[0] for p in CDFS[name]], dtype=float)
    y = np.array([p[1] for p in CDFS[name]], dtype=float)
    got = sample_bytes(np.random.default_rng(7), CDFS[name], 300_000)
    want = np.maximum(np.rint(np.interp(np.random.default_rng(7).random(300_000) * 100, y, x)), 1.0)
    assert np.array_equal(got, want)
