"""Tier E's rows as they come and go (``EpochRows``, the base of ``EpochEngine``): flows appended as a live twin
starts them, rows waiting for a group (a collective's previous step) released when it completes, rows abandoned
past their deadline or compacted once finished, and the knobs, paths and faults swapped under running rows."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from fabric.lab.physics.epoch_state import EpochCounts, MemoEntry, tick
from fabric.lab.physics.groups import GroupCompletion, serial
from fabric.lab.physics.rows import Flows, PathTable, concat_flows, flows_of, take_flows
from fabric.lab.physics.scenario import F64, I64, B, Scenario
from fabric.lab.physics.steps import Step

MIN_SPLIT_S = 1e-6  # the shortest epoch cut for a waiting chain
GROUP_KEEP_S = 1.0  # a completed group is remembered this long for rows that arrive to wait for it
NO_ROWS = np.zeros(0, dtype=np.int64)


class EpochRows:
    """The live changes of an ``EpochEngine`` (epoch.py), its base class: the engine state they touch is
    declared here and set by ``EpochEngine.__init__``."""

    sc: Scenario
    t: float
    fl: Flows
    paths: PathTable
    rate: F64
    storm: B
    sink_factor: F64
    group_names: list[str]
    _group_ids: dict[str, int]
    group_state: GroupCompletion
    _waiting: int
    skipped: dict[str, dict[str, float]]
    _steady: tuple[EpochCounts, I64, F64] | None
    _computed_from: float
    _memo: dict[bytes, MemoEntry]
    _step: Step | None
    _templates: dict[bytes, Step]

    def add_flows(self, batch: Scenario, members: F64 | None = None, max_rate: F64 | None = None) -> None:
        """Append the flows (and hops) of ``batch``, a Scenario over the same ports; ``members``: how many
        workload flows each row aggregates (its size is their total; truth weighs it by this count);
        ``max_rate``: bytes/s a row sends at most (an aggregate spreads its members over their window).
        A row with a ``flow_after`` group waits until that group's last flow is done, as in ``__init__``."""
        self._steady = None
        if batch.n_flows:
            new, hops = flows_of(batch)
            if members is not None:
                new.members = np.asarray(members, dtype=float)
            if max_rate is not None:
                new.max_rate = np.asarray(max_rate, dtype=float)
            new.pid = self.paths.add(hops)
            new.gid = self._group_id(new.group)
            self._wait(new, batch.flow_after)
            self.group_state.add(new.gid)
            self.fl = concat_flows(self.fl, new)
            self.rate = np.concatenate([self.rate, np.zeros(batch.n_flows)])
            self._release()  # rows whose group completed before they arrived

    def _group_id(self, groups: Sequence[str]) -> I64:
        """Each flow's group number (new group names appended to ``group_names``)."""
        for name in dict.fromkeys(groups):
            if name not in self._group_ids:
                self._group_ids[name] = len(self.group_names)
                self.group_names.append(name)
        self.group_state.grow(len(self.group_names))
        return np.fromiter(map(self._group_ids.__getitem__, groups), dtype=np.int64, count=len(groups))

    def _wait(self, new: Flows, after: Sequence[str]) -> None:
        """Rows with an ``after`` group wait (start +inf) until ``_release``: it starts them when that group's
        last flow is done (or at their own start, if later), and ``advance`` cuts an epoch where the group is
        due to complete, so a chain of short steps is not rounded up to one step per epoch. A group the engine
        does not know (the launch before a collective's first one, or one that ended and was forgotten) is not
        waited for. A row waiting for another launch's group (``groups.serial``) is serial: a collective's
        launch after the one before, which ``_release`` skips when it is overtaken."""
        known = [bool(name) and name in self._group_ids for name in after]
        waits = np.array(known, dtype=bool).reshape(-1)
        if waits.any():
            names = [name for name, k in zip(after, known, strict=True) if k]
            new.after[waits] = self._group_id(names)
            pairs: dict[tuple[str, str], bool] = {}  # a launch's rows share a handful of (group, after) pairs
            mine = map(new.group.__getitem__, np.flatnonzero(waits).tolist())
            new.serial[waits] = [pairs[key] if key in pairs else pairs.setdefault(key, serial(*key))
                                 for key in zip(mine, names, strict=True)]
            new.start[waits] = np.inf
            self._waiting += int(waits.sum())

    def _release(self) -> I64:
        """Waiting rows whose group is complete (it had rows, none is left) start at its last completion, or
        now if that lies in an epoch already computed (a step due at the cut completes a rounding before it:
        it starts with the next epoch, a burst like any flow starting there). A launch overtaken as it starts
        is skipped (``_skip_overtaken``) and the one behind it considered in turn. Returns the rows started."""
        started: list[I64] = []
        while self._waiting:
            fl = self.fl
            wait = np.flatnonzero(fl.after >= 0)
            g = fl.after[wait]
            ready = self.group_state.complete(g)
            if not ready.any():
                break
            go = wait[ready]
            fl.start[go] = np.maximum(np.maximum(fl.not_before[go], self.group_state.done[g[ready]]), self.t)
            fl.after[go] = -1
            self._waiting -= go.size
            self._steady = None
            skipped = self._skip_overtaken(go)
            started.append(go[~np.isin(go, skipped)] if skipped.size else go)
            if not skipped.size:
                break
        return np.concatenate(started) if started else NO_ROWS

    def _skip_overtaken(self, go: I64) -> I64:
        """Serial rows of ``go`` (a collective's launch, started as the launch before it completed) whose next
        launch is due by then: NCCL runs a communicator's collectives in order, so a collective slower than its
        period runs back to back, and a launch that could not start before the next one was due is skipped
        (its rows, and the steps waiting on them, end unsent; ``skipped`` counts them per phase) rather than
        queued without end. Returns the rows given up."""
        fl = self.fl
        heads = go[fl.serial[go]]
        if not heads.size:
            return NO_ROWS
        waiting = np.flatnonzero(fl.after >= 0)
        nexts = waiting[fl.serial[waiting]]
        if not nexts.size or float(fl.not_before[nexts].min()) > float(fl.start[heads].max()):
            return NO_ROWS  # no launch behind is due yet
        steps = waiting[~fl.serial[waiting]]
        width = self.group_state.size
        next_of: dict[int, list[int]] = {}
        for pair in np.unique(fl.after[steps] * width + fl.gid[steps]).tolist():
            next_of.setdefault(pair // width, []).append(pair % width)
        given_up: list[I64] = []
        for head in np.unique(fl.gid[heads]).tolist():
            chain, todo = {head}, [head]
            while todo:  # the launch: the head's group and the steps that wait on it, one after the other
                for g in next_of.get(todo.pop(), []):
                    if g not in chain:
                        chain.add(g)
                        todo.append(g)
            groups = np.fromiter(chain, dtype=np.int64)
            behind = nexts[np.isin(fl.after[nexts], groups)]
            began = float(fl.start[heads[fl.gid[heads] == head]].min())
            if not behind.size or float(fl.not_before[behind].min()) > began:
                continue
            rows = np.flatnonzero(np.isin(fl.gid, groups) & np.isnan(fl.done))
            held = rows[fl.after[rows] >= 0]
            self._waiting -= held.size
            fl.after[held] = -1
            tag = fl.tag[int(rows[0])]
            tally = self.skipped.setdefault(tag, {"launches": 0, "flows": 0, "bytes": 0.0})
            tally["launches"] += 1
            tally["flows"] += round(float(fl.members[rows].sum()))
            tally["bytes"] += float(fl.remaining[rows].sum())
            self.abandon(rows)
            given_up.append(rows)
        return np.concatenate(given_up) if given_up else NO_ROWS

    def _until_release(self, limit: float) -> float:
        """How long the next epoch may run before a group that rows wait for is due to complete (its
        unfinished rows' remaining bytes at their last epoch's rate, at line rate for routed rows that
        started since the last computed epoch began; a row that has sent nothing since, e.g. paused or
        without a path, is not due): the
        epoch ends there and the waiting rows start in the next one. ``limit`` if none completes sooner;
        never below ``MIN_SPLIT_S``."""
        fl, t = self.fl, self.t
        waiting = fl.after >= 0
        awaited = np.zeros(self.group_state.size, dtype=bool)
        awaited[fl.after[waiting]] = True
        awaited[fl.gid[waiting]] = False  # a group with a row still waiting is not due (a ring's later steps)
        rows = np.flatnonzero(awaited[fl.gid] & (fl.remaining > 0))
        if not rows.size:
            return limit
        fresh = (fl.delivered[rows] == 0) & (fl.start[rows] >= self._computed_from) & fl.routed[rows]
        rate = np.where(fresh, np.minimum(fl.nic_rate[rows], fl.max_rate[rows]), self.rate[rows])
        eta = np.where(rate > 0, np.maximum(fl.start[rows] - t, 0.0) + fl.remaining[rows] / np.maximum(rate, 1.0),
                       np.inf)
        groups, of = np.unique(fl.gid[rows], return_inverse=True)
        due = np.full(groups.size, -np.inf)
        np.maximum.at(due, of.reshape(-1), eta)  # a group is due when its last row is
        soonest = float(due.min())
        return limit if soonest >= limit else tick(min(max(soonest, MIN_SPLIT_S), limit))

    def set_ports(self, scenario: Scenario) -> None:
        """New port/knob arrays (same ports); flows and their state stay."""
        self._inputs_changed()
        self.sc = scenario

    def reroute(self, scenario: Scenario) -> None:
        """New hops for the current flows (``scenario`` lists them in the engine's order); state stays."""
        self._inputs_changed()
        new, hops = flows_of(scenario)
        self.fl.rtt_s, self.fl.routed = new.rtt_s, new.routed
        self.paths = PathTable()
        self.fl.pid = self.paths.add(hops)
        self.sc = scenario

    def set_pfc_storm(self, port: int, on: bool = True) -> None:
        """The NIC of ``port`` asserts pause forever on the lossless priorities of its link (tier F's hook)."""
        self._inputs_changed()
        self.storm[port] = on

    def set_slow_receiver(self, port: int, factor: float = 0.25) -> None:
        """The NIC of ``port`` drains at ``factor`` of its sink capacity (1.0 clears the fault)."""
        self._inputs_changed()
        self.sink_factor[port] = factor

    def _inputs_changed(self) -> None:
        """Knobs, paths or faults changed: no past epoch or step is a template or a memo entry any more."""
        self._steady = None
        self._memo.clear()
        self._forget_steps()

    def _forget_steps(self) -> None:
        """No step recorded (rows renumbered, or what they would replay changed)."""
        self._step = None
        self._templates.clear()

    def live(self) -> B:
        """Flows not yet finished (the live runner keeps its own per-flow list aligned with this)."""
        return np.asarray(np.isnan(self.fl.done))

    def abandon(self, rows: I64) -> None:
        """Give these rows up (open-loop flows past their deadline): they end now, unfinished, are not
        recorded as completed, and the next ``compact`` forgets them."""
        self.fl.done[rows] = self.t
        self.fl.remaining[rows] = 0.0
        self.rate[rows] = 0.0
        self.group_state.open -= np.bincount(self.fl.gid[rows], minlength=self.group_state.size)  # none left open
        self._steady = None
        self._forget_steps()

    def compact(self) -> B:
        """Forget finished flows (their truth is recorded); returns the kept mask."""
        keep = self.live()
        if keep.all():
            return keep
        if self._steady is not None:  # a steady epoch's rows are running: renumber them, it stays steady
            last, idx, delivered = self._steady
            self._steady = (last, (np.cumsum(keep) - 1)[idx], delivered) if bool(keep[idx].all()) else None
        self.fl = take_flows(self.fl, keep)
        self.rate = self.rate[keep]
        self._forget_steps()
        if self.paths.size > 2 * keep.sum() + 1024:  # forget the paths of finished flows
            self.fl.pid = self.paths.keep(np.unique(self.fl.pid))[self.fl.pid]
            self._memo.clear()  # its keys name paths by their old numbers
        if len(self.group_names) > 2 * keep.sum() + 4096:
            self._forget_groups()
        return keep

    def _forget_groups(self) -> None:
        """Drop groups no row belongs to or waits for and that completed over ``GROUP_KEEP_S`` ago (a ring
        launches 2(N-1) of them, so a long-running twin would otherwise keep every one); renumber the rest."""
        fl = self.fl
        keep = self.group_state.done > self.t - GROUP_KEEP_S
        keep[fl.gid] = True
        keep[fl.after[fl.after >= 0]] = True
        new_id = np.cumsum(keep) - 1
        fl.gid = new_id[fl.gid]
        fl.after = np.where(fl.after >= 0, new_id[np.maximum(fl.after, 0)], -1)
        self.group_names = [name for name, k in zip(self.group_names, keep.tolist(), strict=True) if k]
        self._group_ids = {name: i for i, name in enumerate(self.group_names)}
        self.group_state.keep(keep)
