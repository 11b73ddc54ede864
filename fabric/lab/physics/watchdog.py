"""Tier E's PFC watchdog (step 6 of ``epoch.py``'s model): an egress queue paused through a whole ``detect``
interval is a storm: it ignores pauses and drops what it sends for ``restore``; then it obeys pauses again (and
re-detects if the storm goes on). Counted on the port (``pfcwd_storm_detected``, ``pfcwd_storm_restored``)."""

from __future__ import annotations

import numpy as np

from fabric.lab.physics.epoch_state import EpochCounts
from fabric.lab.physics.scenario import F64, I64, QUEUES, Scenario


class PfcWatchdog:
    """Per egress queue (of ``n_slots``, port x 8 + priority): how long its peer has paused it in full
    (``paused_s``), until when a storm holds it (``until``, model seconds; -1: never) and whether its restore is
    yet to be counted (``held``: by the first computed epoch that starts after it, however long the epochs
    before were: the live twin changes their length with the machine's load)."""

    def __init__(self, n_slots: int) -> None:
        self.paused_s = np.zeros(n_slots)
        self.until = np.full(n_slots, -1.0)
        self.held = np.zeros(n_slots, dtype=bool)
        self.armed_for: Scenario | None = None
        self.armed_slots = np.zeros(0, dtype=np.int64)

    def armed(self, sc: Scenario, t: float) -> I64:
        """Ingress x priority slots with a PFC watchdog (cached per scenario; elsewhere nothing counts, and a
        queue a watchdog held is restored when its watchdog is configured away)."""
        if self.armed_for is not sc:
            armed = ((~np.isnan(sc.watchdog_detect_s))[:, None] & sc.pfc_enabled).reshape(-1)
            self.armed_slots = np.flatnonzero(armed)
            self.paused_s[~armed] = 0.0
            self.until[~armed] = np.minimum(self.until[~armed], t)
            self.held[~armed] = False
            self.armed_for = sc
        return self.armed_slots

    def detect(self, sc: Scenario, u_jp: F64, t: float, t0: float, t1: float, rec: EpochCounts) -> bool:
        """Queues paused for a whole detect interval become storms for restore; counters on the port."""
        armed = self.armed(sc, t)
        if armed.size == 0:
            return False
        port = armed // QUEUES
        u_rx = u_jp[sc.peer[port] * QUEUES + armed % QUEUES]  # what the peer paused this queue
        until = self.until[armed]
        stormed = until > t0
        ended = self.held[armed] & ~stormed
        fully = (u_rx >= 0.99) & ~stormed
        paused_s = np.where(fully, self.paused_s[armed] + (t1 - t0), 0.0)
        fire = fully & (paused_s >= sc.watchdog_detect_s[port])
        self.until[armed] = np.where(fire, t1 + sc.watchdog_restore_s[port], until)
        self.held[armed] = self.until[armed] > t0
        self.paused_s[armed] = np.where(fire, 0.0, paused_s)
        rec.add_ports("pfcwd_storm_detected", port, fire.astype(float), sc.n_ports)
        rec.add_ports("pfcwd_storm_restored", port, ended.astype(float), sc.n_ports)
        return bool(fire.any() or ended.any())

    def restoring(self, t: float) -> bool:
        """A storm ended by ``t`` whose restore a computed epoch has yet to count (no epoch may be repeated or
        skipped as idle before it)."""
        return bool((self.held & (self.until <= t)).any())
