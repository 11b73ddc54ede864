"""RED/ECN marking probability on an egress queue (reference §1.1), shared by both engine tiers.

One function so tier F (per step) and tier E (per epoch operating point) cannot disagree on the ramp:
0 up to Kmin, linear to Pmax at Kmax, 1 above Kmax. A queue with Pmax = 0 has no ECN configured and never
marks (it tail-drops instead), even above Kmax.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def red_probability(queue_bytes: ArrayLike, kmin_bytes: ArrayLike, kmax_bytes: ArrayLike,
                    pmax: ArrayLike) -> NDArray[np.float64]:
    """Mark probability per queue, element-wise (broadcasting): ``red_probability(100e3, 5e3, 200e3, 0.01)``
    -> ``array(0.00487...)``. Kmin = Kmax is a DCTCP-style step (0 below, 1 above)."""
    q = np.asarray(queue_bytes, dtype=np.float64)
    kmin = np.asarray(kmin_bytes, dtype=np.float64)
    kmax = np.asarray(kmax_bytes, dtype=np.float64)
    pm = np.asarray(pmax, dtype=np.float64)
    ramp = pm * (q - kmin) / np.maximum(kmax - kmin, 1e-9)
    p = np.where(q <= kmin, 0.0, np.where(q <= kmax, ramp, 1.0))
    return np.where(pm > 0.0, p, 0.0)


class RedRamp:
    """``red_probability`` for fixed thresholds, precomputed for a hot loop (tier F calls it every step):
    five array operations per call instead of a dozen."""

    def __init__(self, kmin_bytes: ArrayLike, kmax_bytes: ArrayLike, pmax: ArrayLike) -> None:
        kmin = np.asarray(kmin_bytes, dtype=np.float64)
        kmax = np.asarray(kmax_bytes, dtype=np.float64)
        pm = np.asarray(pmax, dtype=np.float64)
        on = pm > 0.0
        self.kmin = np.where(on, kmin, 0.0)  # slope 0 keeps an unmarked queue at 0
        self.kmax = np.where(on, kmax, np.inf)
        self.slope = np.where(on, pm / np.maximum(kmax - kmin, 1e-9), 0.0)
        self.any = bool(on.any())

    def __call__(self, queue_bytes: NDArray[np.float64]) -> NDArray[np.float64]:
        ramp = np.maximum((queue_bytes - self.kmin) * self.slope, 0.0)
        return np.where(queue_bytes > self.kmax, 1.0, ramp)
