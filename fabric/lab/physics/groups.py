"""Completion of flow groups (a collective's steps): what both tiers count to start a flow whose
``Scenario.flow_after`` group is done. Groups are numbered by their engine; rows are flows (tier F) or engine
rows (tier E)."""

from __future__ import annotations

import numpy as np

from fabric.lab.physics.scenario import F64, I64, B


def launch_of(group: str) -> str:
    """The launch a group belongs to: its name up to the first ``/`` (``"<phase>@<time>"`` for a collective's
    step or an LLM iteration's flows, the workload's naming; a group without ``/`` is its own launch)."""
    return group.split("/", 1)[0]


def serial(group: str, after: str) -> bool:
    """A flow of ``group`` waiting for ``after`` is a collective's next launch waiting for the one before: both
    are launches (``"<phase>@<time>"``) and not the same one. Other waits (a ring's next step, any group an
    engine user names) are plain dependencies."""
    mine, theirs = launch_of(group), launch_of(after)
    return "@" in mine and "@" in theirs and mine != theirs


class GroupCompletion:
    """Per group: rows ever added, rows not finished, and its last completion (-inf: none yet)."""

    def __init__(self) -> None:
        self.rows = np.zeros(0)
        self.open = np.zeros(0)
        self.done = np.zeros(0)

    @property
    def size(self) -> int:
        return int(self.rows.size)

    def grow(self, n: int) -> None:
        """Room for ``n`` groups in all (new ones empty)."""
        extra = n - self.size
        if extra > 0:
            self.rows, self.open = np.append(self.rows, np.zeros(extra)), np.append(self.open, np.zeros(extra))
            self.done = np.append(self.done, np.full(extra, -np.inf))

    def add(self, gid: I64) -> None:
        """Rows of groups ``gid`` arrive."""
        added = np.bincount(gid, minlength=self.size)
        self.rows += added
        self.open += added

    def finish(self, gid: I64, at: F64 | float) -> None:
        """Rows of groups ``gid`` are done at ``at``."""
        self.open -= np.bincount(gid, minlength=self.size)
        np.maximum.at(self.done, gid, at)

    def complete(self, g: I64) -> B:
        """Groups ``g`` that had rows and have none left."""
        return np.asarray((self.rows[g] > 0) & (self.open[g] == 0))

    def keep(self, mask: B) -> None:
        """Only the groups of ``mask`` (renumbered in order)."""
        self.rows, self.open, self.done = self.rows[mask], self.open[mask], self.done[mask]
