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


def red_integral(queue_bytes: ArrayLike, kmin_bytes: ArrayLike, kmax_bytes: ArrayLike,
                 pmax: ArrayLike) -> NDArray[np.float64]:
    """The integral of ``red_probability`` from an empty queue to ``queue_bytes`` (bytes x probability),
    element-wise: 0 up to Kmin, Pmax (q - Kmin)^2 / 2 (Kmax - Kmin) on the ramp, then 1 per byte above Kmax."""
    q = np.asarray(queue_bytes, dtype=np.float64)
    kmin = np.asarray(kmin_bytes, dtype=np.float64)
    kmax = np.asarray(kmax_bytes, dtype=np.float64)
    pm = np.asarray(pmax, dtype=np.float64)
    width = np.maximum(kmax - kmin, 1e-9)
    on_ramp = np.clip(q, kmin, kmax) - kmin
    area = pm * on_ramp * on_ramp / (2 * width) + np.maximum(q - kmax, 0.0)
    return np.where(pm > 0.0, area, 0.0)


def red_mean(low_bytes: ArrayLike, high_bytes: ArrayLike, kmin_bytes: ArrayLike, kmax_bytes: ArrayLike,
             pmax: ArrayLike) -> NDArray[np.float64]:
    """The mark probability averaged over a queue spread evenly between ``low_bytes`` and ``high_bytes`` (a
    queue ramping between them at a constant rate spends equal time at every depth), element-wise; where the
    two are equal, ``red_probability`` there. ``red_mean(0, 400e3, 100e3, 300e3, 0.2)`` -> 0.3 (a quarter of the
    sweep above Kmax marks everything, half of it is on the ramp at 0.1 on average)."""
    lo = np.asarray(low_bytes, dtype=np.float64)
    hi = np.asarray(high_bytes, dtype=np.float64)
    span = hi - lo
    spread = span > 1e-6 * np.maximum(hi, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = (red_integral(hi, kmin_bytes, kmax_bytes, pmax) - red_integral(lo, kmin_bytes, kmax_bytes, pmax)) / span
    return np.where(spread, mean, red_probability(hi, kmin_bytes, kmax_bytes, pmax))


def red_tail_mean(mean_bytes: ArrayLike, above_kmin_bytes: ArrayLike, kmin_bytes: ArrayLike,
                  kmax_bytes: ArrayLike, pmax: ArrayLike) -> NDArray[np.float64]:
    """The mark probability averaged over an unsaturated queue's depth, element-wise: exponential with
    ``mean_bytes`` up to Kmin, then decaying with scale ``above_kmin_bytes`` (DCQCN pulls back what crosses
    Kmin; pass ``mean_bytes`` again where nothing reacts), i.e. P(q > x) = e^(-x/m) below Kmin and
    e^(-Kmin/m) e^(-(x - Kmin)/a) above. Jensen: marking the mean depth alone would miss every mark of the
    tail, and with it the thresholds' effect (a lower Kmin marks exponentially more).
    ``red_tail_mean(50e3, 50e3, 50e3, 150e3, 0.2)`` -> 0.0716..."""
    m = np.maximum(np.asarray(mean_bytes, dtype=np.float64), 1e-9)
    a = np.maximum(np.asarray(above_kmin_bytes, dtype=np.float64), 1e-9)
    kmin = np.asarray(kmin_bytes, dtype=np.float64)
    kmax = np.asarray(kmax_bytes, dtype=np.float64)
    pm = np.asarray(pmax, dtype=np.float64)
    width = kmax - kmin
    beyond = np.exp(-width / a)  # P(q > Kmax | q > Kmin)
    # E[p] = integral of p'(q) P(q > x): the ramp's slope Pmax/W over (Kmin, Kmax), then the step to 1 at Kmax
    ramp = np.where(width > 1e-9, pm * a / np.maximum(width, 1e-9) * (1 - beyond), pm)
    return np.where(pm > 0.0, np.clip(np.exp(-kmin / m) * (ramp + (1 - pm) * beyond), 0.0, 1.0), 0.0)
