"""Tier E: the epoch engine (reference §A.3). Mean-field operating points per queue, vectorised over flow-hops.

Every epoch (0.5-5 ms) the engine does, with NumPy over all active flows at once (``EpochCompute.run``, stage by
stage; each module's docstring has the equations):

1. Rates (``epoch_rates.py``, ``maxmin.py``): max-min fair shares of the epoch's bytes over egress queues, egress
   ports and destination NICs' drain rates; a flow sending for part of the epoch offers that part of its demand.
2. Offered load (``epoch_rates.py``): a flow sends its demand up to its bottleneck unless DCQCN controls it
   there; then it sends its share everywhere. Load beyond a queue's capacity is *excess*.
3. Queues (``epoch_queues.py``, ``meanfield.py``): the DCQCN fixed point scaled by ``RESPONSE`` at controlled
   queues, pauses spreading one hop per epoch from lossless excess, tail drops of lossy excess, M/G/1 at queues
   saturated only while their flows overlap; marks from the RED ramp.
4. Bursts (``bursts.py``): flows that start this epoch and exceed a queue's line rate build a peak that pauses,
   drops and marks.
5. Counters (``epoch_compute.py``, kept sparse in ``EpochCounts``, ``epoch_state.py``): bytes/packets, ECN marks,
   pauses, drops, CNPs, watchdog storms, queue occupancy and watermark.
6. Watchdog (``watchdog.py``, ``PfcWatchdog``): an egress queue paused through a whole ``detect`` interval is a
   storm: it ignores pauses and drops what it sends for ``restore``; then it obeys pauses again (and re-detects
   if the storm goes on).

Cost: flows of one source, destination and class share a path, and an epoch touches few of a large fabric's
queues, so the per-hop work is done per distinct path (``PathTable``, rows.py, numbers them as flows arrive) or per
group of flows alike in path, bottleneck column and control, over index spaces compressed to the queues,
ingresses and ports in use (``Space``); per-flow work is 1-D, and an epoch's counters are kept sparse
(``EpochCounts``). Same equations as the plain flows x hops form: only the order of float sums differs.
Epochs whose inputs repeat are replayed (``_memo_key``), a chain's alike steps a whole step at a time
(``steps.py``).

Limits (honest): no per-packet dynamics, no DCQCN sawtooth or transient rate recovery (rates jump to the
new max-min point each epoch); ETS/DWRR between classes is not modelled (queues of a port share it max-min);
the priority of a queue is taken equal to its index; CNPs use the sender's NP knobs; watchdog action is
always drop. Tier F (fluid.py) has the dynamics; ``tests/physics/test_epoch*.py`` checks tier E against it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fabric.lab.physics.epoch_compute import EpochCompute
from fabric.lab.physics.epoch_queues import NIC_RX_BUFFER
from fabric.lab.physics.epoch_rows import NO_ROWS
from fabric.lab.physics.epoch_state import (
    EpochCounts,
    MemoEntry,
    Progress,
    Scratches,
    tick,
)
from fabric.lab.physics.epoch_steps import EpochSteps
from fabric.lab.physics.groups import GroupCompletion
from fabric.lab.physics.rows import COMPLETED_KEEP, Completed, PathTable, flows_of
from fabric.lab.physics.scenario import F64, I64, QUEUES, CounterFrame, Scenario
from fabric.lab.physics.transients import StartTransients
from fabric.lab.physics.watchdog import PfcWatchdog

MEMO_SIZE = 64  # epochs remembered for replay (``EpochEngine._memo_key``)
MEMO_ROWS = 2048  # whole epochs with more active rows than this are not remembered
MAX_SPLITS = 256  # cuts per epoch at most (a 126-step ring of 40 us steps needs ~50 in a 2 ms epoch)


class EpochEngine(EpochSteps):
    """Tier E over a Scenario. ``advance(seconds)`` runs whole epochs and returns their summed CounterFrame;
    ``truth()`` is the ground truth (FCT slowdown, collective completion, goodput, per-flow rates).

    Live use (fabric.lab.physics.engine): ``add_flows`` appends flows built over the same ports,
    ``set_ports`` swaps knob/capacity arrays, ``reroute`` replaces every flow's hops (link down), ``storm``
    and the scenario's ``sink_capacity`` are the physics faults."""

    def __init__(self, scenario: Scenario, epoch_s: float = 1e-3) -> None:
        self.sc = scenario
        self.epoch_s = epoch_s
        self.t = 0.0
        self.epochs = 0
        n = scenario.n_ports
        self.storm = np.zeros(n, dtype=bool)  # NIC ports that assert pause forever (pfc-storm)
        self.sink_factor = np.ones(n)  # slow-receiver: a NIC drains at this share of its sink capacity
        self.u_jp = np.zeros(n * QUEUES)  # fraction of the last epoch each ingress x PG paused its peer
        self.watchdog = PfcWatchdog(n * QUEUES)
        self.transients = StartTransients(n * QUEUES)  # DCQCN's start transients per queue
        self.fl, hops = flows_of(scenario)
        self.paths = PathTable()
        self.fl.pid = self.paths.add(hops)
        self.group_names = []
        self._group_ids = {}
        self.group_state = GroupCompletion()  # per group: rows, rows open, last completion
        self._waiting = 0  # rows waiting for a group (``after``)
        self.skipped = {}  # per phase: collective launches skipped, overtaken by the next (``_skip_overtaken``)
        self.fl.gid = self._group_id(self.fl.group)
        self.group_state.add(self.fl.gid)
        self._wait(self.fl, scenario.flow_after)
        self.completed = Completed()
        self.delivered_total = 0.0
        self.rate = np.zeros(scenario.n_flows)
        self._carry = 0.0
        self._steady = None  # last epoch's counters, flows, bytes
        self._steady_dt = epoch_s  # that epoch's length
        self._computed_from = -np.inf  # start of the last computed epoch
        self.scratch = Scratches()  # work arrays the epoch stages borrow
        self._buffer: tuple[Scenario, F64] | None = None
        self._memo = {}  # _memo_key
        self._last: tuple[I64, bytes | None, MemoEntry | None] = (np.zeros(0, dtype=np.int64), None, None)
        self._step = None  # the chain step a release started last, as its epochs run (steps.py)
        self._templates = {}  # whole steps by their first epoch's memo key
        self._probe: tuple[float, float, I64, F64, bytes] | None = None  # _replay_steps' look at the next epoch

    # -- running ----------------------------------------------------------------------------------

    def advance(self, seconds: float) -> CounterFrame:
        """Run ``seconds`` (whole epochs; a remainder carries into the next call). Epochs in which nothing
        can change (same active flows, no start, completion or watchdog event, pauses settled) repeat the
        last epoch's counters instead of recomputing them: a steady fabric costs almost nothing."""
        frame = CounterFrame.zeros(self.sc.n_ports)
        self._carry += seconds
        steps = int(self._carry / self.epoch_s + 1e-9)
        self._carry -= steps * self.epoch_s
        while steps > 0:
            k = min(steps, self._steady_epochs())
            if k > 0:
                self._repeat(k, frame)
            else:
                k = 1
                self._slot(frame)
            steps -= k
        return frame

    def _slot(self, frame: CounterFrame) -> None:
        """One epoch, cut where a group that rows wait for is due to complete (see ``_until_release``); alike
        steps of a chain are replayed whole steps at a time (``_replay_steps``)."""
        left, cuts = self.epoch_s, 0
        while left > 0:
            if self._waiting and cuts < MAX_SPLITS:
                replayed, left = self._replay_steps(left, MAX_SPLITS - cuts, frame)
                if replayed:
                    cuts += replayed
                    continue
            dt = self._until_release(left) if self._waiting and cuts < MAX_SPLITS else left
            cuts += 1
            self._epoch(dt, frame)
            if self._step is not None:
                self._step.note(*self._last, dt=dt, bounded=dt >= left)
            self._begin_step(self._release())
            left = tick(left - dt)
            if dt != self.epoch_s:  # a part epoch is not the template of whole ones
                self._steady = None

    def _steady_epochs(self) -> int:
        """How many coming epochs are copies of the last one (0: compute the next one; also when the epoch
        length changed since, as the live twin's adaptation does: the copy holds one old epoch's bytes)."""
        if self._steady is None or self._steady_dt != self.epoch_s:
            return 0
        dt, t0 = self.epoch_s, self.t
        _, idx, delivered = self._steady
        fl = self.fl
        later = fl.start[(fl.start >= t0) & (fl.remaining > 0) & np.isfinite(fl.start)]
        k = int((later.min() - t0) / dt) if later.size else 1 << 30
        moving = delivered > 0
        finite = moving & np.isfinite(fl.remaining[idx])
        if finite.any():
            k = min(k, int((fl.remaining[idx][finite] / delivered[finite]).min()) - 1)
        counting = self.watchdog.paused_s > 0
        if counting.any():
            detect = self.sc.watchdog_detect_s[np.flatnonzero(counting) // QUEUES]
            k = min(k, int((detect - self.watchdog.paused_s[counting]).min() / dt) - 1)
        if self.watchdog.restoring(t0):
            return 0
        ending = self.watchdog.until > t0
        if ending.any():
            k = min(k, int((self.watchdog.until[ending].min() - t0) / dt) - 1)
        return max(k, 0)

    def _repeat(self, k: int, frame: CounterFrame) -> None:
        """Fast-forward ``k`` epochs identical to the last computed one."""
        assert self._steady is not None
        last, idx, delivered = self._steady
        last.into(frame, k)
        self.fl.remaining[idx] = np.maximum(self.fl.remaining[idx] - delivered * k, 0.0)
        self.fl.delivered[idx] += delivered * k
        self.delivered_total += float(delivered.sum()) * k
        self.watchdog.paused_s = np.where(self.watchdog.paused_s > 0, self.watchdog.paused_s + k * self.epoch_s, 0.0)
        self.epochs += k
        self.t = tick(self.t + k * self.epoch_s)

    def _epoch(self, dt: float, frame: CounterFrame) -> None:
        """One computed epoch; remembers it as steady when the next one would be a copy."""
        probe, self._probe = self._probe, None
        quiet = self._quiet(self.t - dt)
        if self._idle(dt, quiet):
            self._last = (NO_ROWS, None, None)
            frame.gauge["q{}_occupancy_bytes"][:] = 0.0
            self.rate[:] = 0.0
            self.t = tick(self.t + dt)
            self.epochs += 1
            return
        u_before, t0, t1 = self.u_jp, self.t, tick(self.t + dt)
        key: bytes | None
        if probe is not None and probe[:2] == (t0, dt):  # _replay_steps looked at this epoch (quiet, keyed)
            idx, fr, key = probe[2:]
        else:
            idx, fr = self._active(dt)
            # a chain's steps (part epochs) and collectives' epochs repeat; a whole epoch of many open-loop
            # rows does not, and its key would cost more than it saves
            memo = (dt < self.epoch_s or idx.size <= MEMO_ROWS) and quiet
            key = self._memo_key(dt, idx) if memo else None
        hit = self._memo.get(key) if key is not None else None
        if hit is None:
            last = EpochCounts()
            progress = self._compute(dt, last, idx, fr)
            if key is not None and self._quiet(t0):
                if len(self._memo) >= MEMO_SIZE:
                    del self._memo[next(iter(self._memo))]
                hit = self._memo[key] = (last, self.u_jp, progress, self.transients.state(t0))
        else:
            last, self.u_jp, progress, transients = hit
            self.transients.restore(t0, transients)
        self._last = (idx, key if hit is not None else None, hit)
        self._computed_from = t0
        self.rate[:] = 0.0
        self._advance_rows(idx, progress, t0, t1)
        last.into(frame, 1)
        settled = (not progress.eventful and np.array_equal(u_before, self.u_jp)
                   and not self.transients.queues.size)  # a start transient changes every epoch it lasts
        self._steady = (last, idx, progress.delivered) if settled else None
        self._steady_dt = dt

    def _quiet(self, since: float) -> bool:
        """No NIC storms and no watchdog counts a pause or holds a queue (or released one after ``since``)."""
        wd = self.watchdog
        armed = wd.armed(self.sc, self.t)
        return not (self.storm.any() or wd.paused_s[armed].any() or (wd.until[armed] > since).any()
                    or wd.restoring(self.t))

    def _memo_key(self, dt: float, idx: I64) -> bytes:
        """The inputs of the coming epoch of active rows ``idx`` as bytes, for a quiet fabric (``_quiet``:
        then they alone decide it): its length, the pauses carried into it and, per row, its path, bytes
        left, start (relative to the epoch, to the picosecond) and knobs. Equal keys compute equal epochs: a
        ring's steps, each a part epoch cut at its completion, repeat the step before, replayed from ``_memo``."""
        t0 = self.t
        paused = np.flatnonzero(self.u_jp)
        floats, ints = self._key_columns(idx)
        tr = self.transients.state(t0)
        return b"".join((np.array([dt]).tobytes(), np.array([paused.size, idx.size, tr[0].size]).tobytes(),
                         paused.tobytes(), self.u_jp[paused].tobytes(), floats.tobytes(),
                         np.round(self.fl.start[idx] - t0, 12).tobytes(), ints.tobytes(),
                         *(column.tobytes() for column in tr)))

    def _key_columns(self, idx: I64) -> tuple[F64, I64]:
        """Rows ``idx``'s columns that decide an epoch besides their start (``_memo_key``): floats and ints,
        one row per column."""
        fl = self.fl
        floats = np.stack([fl.remaining[idx], fl.size[idx], fl.members[idx], fl.max_rate[idx], fl.nic_rate[idx],
                           fl.cnp_s[idx], fl.rai[idx], fl.timer_s[idx], fl.byte_reset[idx], fl.tau_alpha_s[idx],
                           fl.cut_s[idx], fl.rtt_s[idx]])
        ints = np.stack([fl.pid[idx], fl.src[idx], fl.dst[idx], fl.cc[idx], fl.np_on[idx], fl.routed[idx]])
        return floats, ints

    def _idle(self, dt: float, quiet: bool) -> bool:
        """Nothing to compute: no flow sends in this epoch, no pause is asserted, and the fabric is ``quiet``
        (no storm, no watchdog counting or holding a queue): idle gaps between bursts and collectives cost one
        mask instead of a whole epoch."""
        fl, t0 = self.fl, self.t
        if not quiet or self.u_jp.any():
            return False
        return not bool(((fl.start < tick(t0 + dt)) & (fl.remaining > 0)).any())

    def _active(self, dt: float) -> tuple[I64, F64]:
        """The rows that send in the coming epoch of ``dt`` and the share of it each one sends for."""
        fl, t0 = self.fl, self.t
        t1 = tick(t0 + dt)
        act = np.flatnonzero((fl.start < t1) & (fl.remaining > 0) & fl.routed)
        frac = np.clip((t1 - np.maximum(fl.start[act], t0)) / dt, 0.0, 1.0)
        keep = frac > 1e-9
        return act[keep], frac[keep]

    def _compute(self, dt: float, rec: EpochCounts, idx: I64, fr: F64) -> Progress:
        """The epoch of ``dt`` for the active rows ``idx`` sending ``fr`` of it (``_active``): ``EpochCompute``."""
        return EpochCompute(self, dt, rec, idx, fr).run()

    def _advance_rows(self, idx: I64, pr: Progress, t0: float, t1: float) -> None:
        """Apply an epoch's ``Progress`` to its rows ``idx`` (computed now, or replayed from the memo)."""
        fl = self.fl
        left = np.maximum(fl.remaining[idx] - pr.delivered, 0.0)
        fl.remaining[idx] = np.where(left < 1.0, 0.0, left)
        fl.delivered[idx] += pr.delivered
        self.delivered_total += float(pr.delivered.sum())
        self.rate[idx] = pr.rate
        if pr.finished.any():
            fi = idx[pr.finished]
            done = t0 + pr.done_rel
            fl.done[fi] = done
            self._complete(fi, done, pr.fct_s, pr.wait_s, pr.busy)
        self.t = t1
        self.epochs += 1

    def _complete(self, rows: I64, done: F64, fct_s: F64, wait_s: F64, busy: F64) -> None:
        """Rows finished at ``done`` after ``fct_s`` (of which ``wait_s`` is the mean queueing wait that the
        share ``busy`` of their flows has): their truth is recorded, their groups counted."""
        fl, c = self.fl, self.completed
        each = fl.size[rows] / fl.members[rows]
        c.weight += fl.members[rows].tolist()
        c.size += each.tolist()
        c.fct_s += fct_s.tolist()
        c.wait_s += wait_s.tolist()
        c.busy += busy.tolist()
        c.ideal_s += (each / fl.nic_rate[rows] + fl.rtt_s[rows] / 2).tolist()
        c.start_s += fl.start[rows].tolist()
        c.done_s += done.tolist()
        at = rows.tolist()
        c.tag += [fl.tag[i] for i in at]
        c.group += [fl.group[i] for i in at]
        self.group_state.finish(fl.gid[rows], done)
        if len(c.size) > 2 * COMPLETED_KEEP:
            for name in Completed.__dataclass_fields__:
                del getattr(c, name)[:-COMPLETED_KEEP]

    def port_buffer(self) -> F64:
        """Per port: its switch's shared buffer (what dynamic thresholds divide), a NIC's receive buffer."""
        sc = self.sc
        if self._buffer is None or self._buffer[0] is not sc:
            buf = np.where(sc.switch_of >= 0, sc.buffer_bytes[np.maximum(sc.switch_of, 0)] if sc.buffer_bytes.size
                           else 0.0, NIC_RX_BUFFER)
            self._buffer = (sc, np.asarray(buf, dtype=float))
        return self._buffer[1]

    # -- ground truth -----------------------------------------------------------------------------

    def truth(self) -> dict[str, Any]:
        """Ground truth: FCT slowdown by size bucket, collective completion times, goodput, per-flow rates."""
        from fabric.lab.physics.truth import summarise

        return summarise(self)
