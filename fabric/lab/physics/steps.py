"""Chains of alike steps (a ring all-reduce's 2(N-1) steps), replayed a whole step at a time.

A collective's step is a group of engine rows that a release starts when the previous step's group is
complete; tier E cuts an epoch where an awaited step is due, so a ring of N members costs 2(N-1) part epochs
per launch. Alike steps are replayed from the engine's memo, but each replay still pays the per-epoch
bookkeeping over all rows (~1 ms at 4,096 NICs against steps of ~40 us). A ``Step`` records the epochs a
step ran in: their memo keys, lengths and entries, with the epoch's rows as positions in the step's rows.
When the next step starts alike (same rows column for column, same first memo key) and the steps after it
wait on each other one by one with rows alike too (``chain_after``), each of them would replay that same
sequence of epochs: the engine applies them in one go (``EpochEngine._replay_steps``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fabric.lab.physics.scenario import F64, I64, B


@dataclass
class StepEpoch:
    """One epoch of a step: its memo key and length, its rows (positions in the step's rows) and the memo
    entry it computed or replayed (counts, pauses after, progress, start transients after)."""

    key: bytes
    dt: float
    pos: I64
    entry: Any


@dataclass
class Step:
    """The rows one release started (ascending), their key columns as they started, and the epochs they ran
    in until the next release. ``whole``: every one of those epochs had a memo key and was cut by the engine
    (a step's completion), not by the end of its slot, so the same start replays the same epochs."""

    rows: I64
    columns: tuple[F64, I64]
    epochs: list[StepEpoch] = field(default_factory=list)
    whole: bool = True

    def note(self, idx: I64, key: bytes | None, entry: Any, dt: float, bounded: bool) -> None:
        """An epoch ran with active rows ``idx``; ``key`` None: it was not memoised (idle, not quiet, too
        many rows); ``bounded``: the slot's end cut it."""
        if not self.whole:
            return
        pos = np.searchsorted(self.rows, idx)
        inside = bool((pos < self.rows.size).all()) and np.array_equal(self.rows[np.minimum(pos, self.rows.size - 1)],
                                                                       idx)
        if key is None or bounded or not inside:
            self.whole = False
            return
        self.epochs.append(StepEpoch(key, dt, pos, entry))

    def alike(self, other: Step) -> bool:
        """Same number of rows, equal key columns row for row."""
        return (self.rows.size == other.rows.size and np.array_equal(self.columns[0], other.columns[0])
                and np.array_equal(self.columns[1], other.columns[1]))


def chain_after(after: I64, gid: I64, group_rows: F64, first: int, width: int, serial: B) -> list[I64]:
    """The steps that wait on group ``first`` one after the other: each step's rows (ascending) are every row
    waiting on the step before, all of one group that has no other rows, ``width`` of them. Stops at the
    first step that is not so (or when nothing waits), and before the next launch of a collective (``serial``
    rows: whether it runs or is skipped is decided as it starts)."""
    waiting = np.flatnonzero((after >= 0) & ~serial)
    if not waiting.size:
        return []
    order = np.argsort(after[waiting], kind="stable")  # stable: each step's rows stay ascending
    rows = waiting[order]
    on = after[rows]
    lo = np.searchsorted(on, np.arange(group_rows.size), side="left")
    hi = np.searchsorted(on, np.arange(group_rows.size), side="right")
    steps: list[I64] = []
    g = first
    while hi[g] - lo[g] == width:
        step = rows[lo[g]:hi[g]]
        groups = gid[step]
        g = int(groups[0])
        if not (groups == g).all() or group_rows[g] != width:
            break
        steps.append(step)
    return steps


def step_grid(t: float, left: float, dts: list[float], steps: int, splits: int,
              until: float) -> tuple[list[list[float]], float, float]:
    """Start times of each epoch of up to ``steps`` steps of epochs ``dts`` from ``t``, on the engine's
    nanosecond grid, keeping the steps that fit: each epoch shorter than what is left of the slot (else the
    slot's end, not the step, would cut it), at most ``splits`` epochs in all, and every step over by
    ``until`` (the next start of a row outside the chain). Returns the grid, the time after it and what is
    left of the slot then."""
    grid: list[list[float]] = []
    while len(grid) < steps and (len(grid) + 1) * len(dts) <= splits:
        starts, t_step, left_step = [], t, left
        for dt in dts:
            if dt >= left_step:
                return grid, t, left
            starts.append(t_step)
            t_step, left_step = round(t_step + dt, 9), round(left_step - dt, 9)
        if t_step > until:
            break
        grid.append(starts)
        t, left = t_step, left_step
    return grid, t, left
