"""Tier E's chains of steps replayed a whole step at a time (``EpochSteps``, between ``EpochRows`` and
``EpochEngine``): a release begins a step, a whole step that ran is a template, and the steps of a chain that
start alike it are applied in one go (``steps.py`` has the model and its conditions)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from fabric.lab.physics.epoch_rows import NO_ROWS, EpochRows
from fabric.lab.physics.scenario import F64, I64, CounterFrame
from fabric.lab.physics.steps import Step, chain_after, step_grid
from fabric.lab.physics.transients import StartTransients

TEMPLATES = 16  # whole chain steps remembered for replay (``steps.py``)


class EpochSteps(EpochRows):
    """Step replay over the engine's rows; the engine state and methods it uses are declared here and
    defined by ``EpochEngine``."""

    transients: StartTransients
    delivered_total: float
    epochs: int
    u_jp: F64
    _probe: tuple[float, float, I64, F64, bytes] | None

    if TYPE_CHECKING:
        def _quiet(self, since: float) -> bool: ...
        def _active(self, dt: float) -> tuple[I64, F64]: ...
        def _memo_key(self, dt: float, idx: I64) -> bytes: ...
        def _key_columns(self, idx: I64) -> tuple[F64, I64]: ...
        def _complete(self, rows: I64, done: F64, fct_s: F64, wait_s: F64, busy: F64) -> None: ...

    def _begin_step(self, started: I64) -> None:
        """Rows a release ``started`` begin a step; the step before it, if whole and done, is the template
        the steps after it may replay."""
        if not started.size:
            return
        step = self._step
        if step is not None and step.whole and step.epochs and not np.isnan(self.fl.done[step.rows]).any():
            if len(self._templates) >= TEMPLATES:
                del self._templates[next(iter(self._templates))]
            self._templates[step.epochs[0].key] = step
        self._step = Step(started, self._key_columns(started))

    def _replay_steps(self, left: float, splits: int, frame: CounterFrame) -> tuple[int, float]:
        """Replay, in one go, the steps of a chain that start alike the template step (``steps.py``): the
        step just released starts as the template did (same rows column for column, same first memo key),
        and so does each step that waits on it in turn; while no row outside the chain starts, each would
        replay the template's epochs. Returns the epochs replayed (0: none, nothing changed) and what is left
        of the slot (``left``, ``splits``: as ``_slot`` counts them)."""
        step, fl = self._step, self.fl
        if not self._templates or step is None or step.epochs or not step.whole:
            return 0, left
        dt = self._until_release(left)
        if dt >= left or not self._quiet(self.t - dt):
            return 0, left
        idx, fr = self._active(dt)
        key = self._memo_key(dt, idx)
        self._probe = (self.t, dt, idx, fr, key)  # the epoch that runs if no step is replayed
        tpl = self._templates.get(key)
        if tpl is None or not step.alike(tpl) or not np.array_equal(idx, step.rows[tpl.epochs[0].pos]):
            return 0, left
        gid = fl.gid[step.rows]
        if not (gid == gid[0]).all():
            return 0, left
        width = step.rows.size
        chain = [step.rows, *chain_after(fl.after, fl.gid, self.group_state.rows, int(gid[0]), width, fl.serial)]
        later = np.concatenate(chain[1:]) if len(chain) > 1 else NO_ROWS
        floats, ints = self._key_columns(later)
        alike = ((floats.reshape(floats.shape[0], -1, width) == step.columns[0][:, None, :]).all(axis=(0, 2))
                 & (ints.reshape(ints.shape[0], -1, width) == step.columns[1][:, None, :]).all(axis=(0, 2))
                 & (fl.not_before[later].reshape(-1, width) <= self.t).all(axis=1))
        n_alike = 1 + int(np.argmin(alike)) if not alike.all() else len(chain)
        outside = fl.start[(fl.start > self.t) & (fl.remaining > 0)]  # waiting rows start at +inf
        grid, t_end, left = step_grid(self.t, left, [e.dt for e in tpl.epochs], min(n_alike, len(chain) - 1),
                                      splits, float(outside.min()) if outside.size else math.inf)
        if not grid:
            return 0, left
        self._apply_steps(np.stack(chain[:len(grid)]), np.array(grid), tpl, frame)
        self.t = t_end
        self._step = self._probe = None
        self._begin_step(self._release())
        return len(grid) * len(tpl.epochs), left

    def _apply_steps(self, rows: I64, t0: F64, tpl: Step, frame: CounterFrame) -> None:
        """Steps ``rows`` (steps x the template's rows) run the template's epochs, epoch e of step s from
        ``t0[s, e]``: what ``_epoch`` and ``_release`` would do to them one epoch at a time."""
        fl, k = self.fl, rows.shape[0]
        started = rows[1:].reshape(-1)
        fl.start[started] = np.repeat(t0[1:, 0], rows.shape[1])
        fl.after[started] = -1
        self._waiting -= started.size
        finished: list[tuple[I64, F64, F64, F64, F64]] = []
        for e, epoch in enumerate(tpl.epochs):
            counts, _, progress, _ = epoch.entry
            at = rows[:, epoch.pos]
            left = np.maximum(fl.remaining[at] - progress.delivered, 0.0)
            fl.remaining[at] = np.where(left < 1.0, 0.0, left)
            fl.delivered[at] += progress.delivered
            self.delivered_total += float(progress.delivered.sum()) * k
            counts.into(frame, k)
            if progress.finished.any():
                done_at = at[:, progress.finished]
                done = t0[:, e, None] + progress.done_rel
                fl.done[done_at] = done
                finished.append((done_at, done, *(np.broadcast_to(a, done.shape)
                                                  for a in (progress.fct_s, progress.wait_s, progress.busy))))
        if finished:  # in the order epoch by epoch would record them: step by step, then epoch by epoch
            self._complete(*(np.concatenate(part, axis=1).reshape(-1) for part in zip(*finished, strict=True)))
        last = tpl.epochs[-1]
        _, self.u_jp, progress, transients = last.entry
        self.transients.restore(float(t0[-1, -1]), transients)
        self.rate[:] = 0.0
        self.rate[rows[-1, last.pos]] = progress.rate
        self._computed_from = float(t0[-1, -1])
        self.epochs += t0.size
        self._steady = None
