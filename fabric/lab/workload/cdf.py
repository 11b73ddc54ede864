"""Flow-size distributions: published empirical CDFs, sampled by inverse transform, vectorised.

Each CDF is a list of ``(bytes, percent)`` points, piecewise linear between points, exactly as the
HPCC traffic generator reads them (``traffic_gen/custom_rand.py``: ``getValueFromPercentile`` and
``getAvg``), so a trace drawn here has the same size law as the one the DCQCN/HPCC papers evaluate.

Sources:

- ``websearch``: the web-search cluster of Alizadeh et al., "Data Center TCP (DCTCP)", SIGCOMM 2010,
  as tabulated in alibaba-edu/High-Precision-Congestion-Control ``traffic_gen/WebSearch_distribution.txt``
  (15 % <= 10 KB, 53 % <= 80 KB, 90 % <= 5 MB, max 30 MB; mean ~1.7 MB).
- ``hadoop``: Facebook Hadoop, Roy et al., "Inside the Social Network's (Datacenter) Network",
  SIGCOMM 2015, as tabulated in the same repository ``traffic_gen/FbHdp_distribution.txt``
  (50 % <= 700 B, 90 % <= 120 KB, max 10 MB; mean ~120 KB).
- ``alistorage2019``: Alibaba storage, same repository ``traffic_gen/AliStorage2019.txt`` (small I/O:
  69 % <= 8 KB, max 2 MB).
- ``storage``: *an assumption, not a published trace*: large block/object reads and writes of a
  distributed file system or checkpoint traffic, 64 KiB to 8 MiB with the median at 1 MiB. Use
  ``cdf: alistorage2019`` for the published small-I/O mix.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from itertools import pairwise

import numpy as np
from numpy.typing import NDArray

from fabric.lab.workload.lookup import Lookup

Cdf = tuple[tuple[float, float], ...]
F64 = NDArray[np.float64]

CDFS: dict[str, Cdf] = {
    "websearch": ((0, 0), (10_000, 15), (20_000, 20), (30_000, 30), (50_000, 40), (80_000, 53),
                  (200_000, 60), (1_000_000, 70), (2_000_000, 80), (5_000_000, 90), (10_000_000, 97),
                  (30_000_000, 100)),
    "hadoop": ((0, 0), (100, 1), (200, 2), (300, 5), (350, 15), (400, 20), (500, 30), (600, 40), (700, 50),
               (1_000, 60), (2_000, 67), (7_000, 70), (30_000, 72), (50_000, 82), (80_000, 87),
               (120_000, 90), (300_000, 95), (1_000_000, 97.5), (2_000_000, 99), (10_000_000, 100)),
    "alistorage2019": ((0, 0), (4_000, 22.93), (8_000, 69.21), (16_000, 80.61), (32_000, 90.47),
                       (64_000, 93.53), (128_000, 96.77), (256_000, 97.53), (2_000_000, 100)),
    "storage": ((0, 0), (65_536, 10), (262_144, 25), (1_048_576, 50), (4_194_304, 90), (8_388_608, 100)),
}


# The smallest mean flow size a CDF may have: one minimal Ethernet frame. Flows arrive at load x line rate / mean
# size, so a mean of a fraction of a byte would ask the engine for billions of flows per NIC and tick.
MIN_MEAN_BYTES = 64


def cdf_problem(points: Cdf) -> str | None:
    """Why ``points`` is not a usable CDF (HPCC's ``testCdf`` rules; finite values, sizes >= 0 and a mean of at
    least ``MIN_MEAN_BYTES``), or None."""
    if len(points) < 2:
        return "needs at least two [bytes, percent] points"
    if not all(math.isfinite(v) for point in points for v in point):
        return "bytes and percent must be finite numbers (no .inf or .nan)"
    if points[0][0] < 0:
        return f"sizes must be >= 0 bytes (got {points[0][0]:g})"
    if points[0][1] != 0 or points[-1][1] != 100:
        return "percent must start at 0 and end at 100"
    for (x0, y0), (x1, y1) in pairwise(points):
        if x1 <= x0 or y1 <= y0:
            return "bytes and percent must both increase strictly from point to point"
    if (mean := mean_bytes(points)) < MIN_MEAN_BYTES:
        return f"mean flow size {mean:.3g} B is below {MIN_MEAN_BYTES} B (one minimal Ethernet frame); raise the sizes"
    return None


def mean_bytes(points: Cdf) -> float:
    """Mean flow size of the piecewise-linear CDF (HPCC ``getAvg``)."""
    x = np.array([p[0] for p in points], dtype=float)
    y = np.array([p[1] for p in points], dtype=float)
    with np.errstate(over="ignore"):
        mean = float(np.sum((x[1:] + x[:-1]) / 2 * np.diff(y)) / 100)
    if math.isinf(mean):  # sizes near a float's limit (1e308 B) overflow the sum, not the mean: scale first
        mean = float(np.sum((x[1:] / 2 + x[:-1] / 2) * (np.diff(y) / 100)))
    return mean


@dataclass(frozen=True)
class Inverse:
    """A CDF's inverse, prepared once: its points, segment slopes and a bucket ``Lookup`` of the segments."""

    x: F64
    y: F64
    slope: F64
    segment: Lookup


@cache
def inverse(points: Cdf) -> Inverse:
    x = np.array([p[0] for p in points], dtype=float)
    y = np.array([p[1] for p in points], dtype=float)
    return Inverse(x, y, (x[1:] - x[:-1]) / (y[1:] - y[:-1]), Lookup(y, 0.0, 100.0))


def sample_bytes(rng: np.random.Generator, points: Cdf, n: int) -> F64:
    """``n`` flow sizes drawn by inverse transform; at least 1 byte each (the CDF starts at 0 B).

    The same numbers as ``np.maximum(np.rint(np.interp(rng.random(n) * 100, y, x)), 1)`` (numpy's ``interp``
    arithmetic: ``slope * (u - y[j]) + x[j]``, the last point's size from the top percent on), with the segment
    found by ``Lookup`` instead of a binary search per flow, and in place."""
    inv = inverse(points)
    u = rng.random(n)
    u *= 100
    j = inv.segment(u)
    j -= 1
    top = j >= len(inv.y) - 1
    np.minimum(j, len(inv.y) - 2, out=j)
    u -= inv.y[j]
    u *= inv.slope[j]
    u += inv.x[j]
    u[top] = inv.x[-1]
    np.rint(u, out=u)
    np.maximum(u, 1.0, out=u)
    return u
