"""When a phase is active, and when its periodic events fire, on the absolute time axis of a run.

Everything here is a pure function of the phase and absolute time, never of the query window: asking for
[0, 2) gives the same flows as [0, 1) then [1, 2), which is what lets the engine pull flows epoch by epoch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from fabric.lab.workload.schema import Phase

F64 = NDArray[np.float64]
EVENT_EPS_S = 1e-9


@dataclass(frozen=True)
class Clock:
    """The workload's timeline: length and whether it restarts."""

    duration_s: float
    repeat: bool

    def reps(self, t0: float, t1: float) -> range:
        """Repetitions of the timeline that overlap [t0, t1)."""
        if not self.repeat:
            return range(0, 1 if t0 < self.duration_s and t1 > 0 else 0)
        return range(max(0, math.floor(t0 / self.duration_s)), max(0, math.ceil(t1 / self.duration_s)))


def bounds(phase: Phase, clock: Clock) -> tuple[float, float]:
    """The phase's [start, stop) inside one repetition."""
    stop = clock.duration_s if phase.stop_s is None else min(phase.stop_s, clock.duration_s)
    return phase.start_s, stop


def active(phase: Phase, clock: Clock, t: F64, eps: float = 0.0) -> NDArray[np.bool_]:
    """Whether the phase is active at each absolute time of ``t`` (+ ``eps``: events computed as
    start + k x period land exactly on a window's edge, where rounding must not switch them off)."""
    start, stop = bounds(phase, clock)
    t = t + eps
    local = np.mod(t, clock.duration_s) if clock.repeat else t
    on = (local >= start) & (local < stop)
    if not clock.repeat:
        on &= t < clock.duration_s
    if phase.cycle is not None:
        c = phase.cycle
        on &= np.mod(local - start - c.offset_s, c.period_s) < c.on_s
    return on


def intervals(phase: Phase, clock: Clock, t0: float, t1: float) -> list[tuple[float, float]]:
    """The phase's active intervals (absolute, unclipped) that overlap [t0, t1), in time order."""
    start, stop = bounds(phase, clock)
    out = []
    for rep in clock.reps(t0, t1):
        base = rep * clock.duration_s
        lo, hi = max(t0, base + start), min(t1, base + stop)
        if lo >= hi:
            continue
        if phase.cycle is None:
            out.append((base + start, base + stop))
            continue
        c = phase.cycle
        anchor = base + start + c.offset_s
        for j in range(math.floor((lo - anchor) / c.period_s), math.ceil((hi - anchor) / c.period_s) + 1):
            a, b = max(anchor + j * c.period_s, base + start), min(anchor + j * c.period_s + c.on_s, base + stop)
            if a < b and a < t1 and b > t0:
                out.append((a, b))
    return out


def event_times(phase: Phase, clock: Clock, period_s: float | None, t0: float, t1: float) -> F64:
    """Launch times in [t0, t1): every ``period_s`` from the phase start while active, or (no period) once at
    the start of each active interval."""
    if period_s is None:
        starts = [a for a, _ in intervals(phase, clock, t0, t1) if t0 <= a < t1]
        return np.array(starts, dtype=float)
    start, stop = bounds(phase, clock)
    times = []
    for rep in clock.reps(t0, t1):
        first = rep * clock.duration_s + start
        # a launch belongs to the window its time falls in, so windows that split the timeline anywhere (a
        # live engine's float boundaries) see each launch once: the k range only brackets them, one wider
        # each side, and the times decide
        k0 = max(0, math.floor((t0 - first) / period_s) - 1)
        k1 = min(math.floor((t1 - first) / period_s) + 2,
                 math.ceil((rep * clock.duration_s + stop - first) / period_s - 1e-9))
        times.append(first + np.arange(k0, max(k0, k1)) * period_s)
    t = np.concatenate(times) if times else np.zeros(0)
    t = t[(t >= t0) & (t < t1)]
    return t[active(phase, clock, t, EVENT_EPS_S)]
