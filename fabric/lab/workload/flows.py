"""What a workload hands the engine: flows, as objects (``FlowSpec``) or as columns (``FlowBatch``).

``FlowBatch`` is the vectorised form every generator fills (thousands of hosts x thousands of flows per
second do not fit in per-flow Python objects); ``FlowBatch.specs`` turns it into the contract's list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fabric.lab.workload.hosts import Host

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class FlowSpec:
    """One flow: (device, interface) endpoints, size (inf: long-lived), earliest start, class and grouping.

    ``group`` is the collective instance/step the flow belongs to (a collective completes when the last flow
    of its group is done); ``after`` (additive to the engine contract) names a group that must be complete
    before this flow may start: the engine holds the flow until then, and ``start_s`` is only a lower bound.

    >>> FlowSpec(("gpu02", "ens1np0"), ("gpu01", "ens1np0"), 5e5, 0.005, 26, "incast", "incast/1")
    ... # doctest: +ELLIPSIS
    FlowSpec(src=('gpu02', 'ens1np0'), dst=('gpu01', 'ens1np0'), bytes=500000.0, start_s=0.005, ...)
    """

    src: tuple[str, str]
    dst: tuple[str, str]
    bytes: float
    start_s: float
    dscp: int
    tag: str
    group: str
    after: str = ""


def _i64(values: Sequence[int] | I64) -> I64:
    return np.asarray(values, dtype=np.int64)


def _renumber(names: list[str], table: dict[str, int]) -> tuple[I64 | None, int]:
    """How indices into ``names`` become indices into ``table`` (which takes the names it lacks): a map, or
    None when every name is new (the usual case) and an index only shifts by the returned offset."""
    first = len(table)
    ids = [table.setdefault(n, len(table)) for n in names]
    if ids == list(range(first, first + len(names))):
        return None, first
    return np.asarray(ids, dtype=np.int64), first


def _renumbered(column: I64, how: tuple[I64 | None, int], optional: bool = False) -> I64:
    """``column`` renumbered as ``_renumber`` says; ``optional``: -1 (no group) stays -1."""
    ids, first = how
    if ids is None:
        if first == 0:
            return column
        return np.where(column >= 0, column + first, -1) if optional else column + first
    return np.where(column >= 0, ids[np.maximum(column, 0)], -1) if optional else ids[column]


def _merge_rows(starts: Sequence[F64]) -> list[I64 | NDArray[np.bool_]]:
    """For time-ordered runs ``starts``, where each element lands in their stable merge (the order a stable
    sort of the runs concatenated gives): its own index plus, per other run, how many of that run's elements go
    before it (ties: earlier runs first). The longest run (a dense mix, next to a few incast bursts) takes the
    rows the others leave, as a mask, so only the short runs are searched."""
    longest = max(range(len(starts)), key=lambda i: len(starts[i]))
    free = np.ones(sum(len(s) for s in starts), dtype=np.bool_)
    rows: list[I64 | NDArray[np.bool_]] = []
    for i, s in enumerate(starts):
        if i == longest:
            rows.append(free)
            continue
        row = np.arange(len(s), dtype=np.int64)
        for j, other in enumerate(starts):
            if j != i:
                row += np.searchsorted(other, s, side="right" if j < i else "left")
        free[row] = False
        rows.append(row)
    return rows


@dataclass
class FlowBatch:
    """Flows of one or more phases as parallel columns. Hosts are indices into the ``hosts`` list given to
    ``Workload.flows``; NICs are indices into that host's NIC list; ``group``/``after`` index ``groups``
    (``after`` -1: no dependency); ``tag`` indexes ``tags``."""

    src_host: I64
    src_nic: I64
    dst_host: I64
    dst_nic: I64
    bytes: F64
    start_s: F64
    dscp: I64
    tag: I64
    group: I64
    after: I64
    tags: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.start_s)

    @classmethod
    def empty(cls) -> FlowBatch:
        z, f = np.zeros(0, dtype=np.int64), np.zeros(0)
        return cls(z, z, z, z, f, f, z, z, z, z)

    @classmethod
    def of(cls, src: tuple[I64, I64], dst: tuple[I64, I64], size: F64, start: F64, dscp: int, tag: str,
           groups: list[str], group: I64, after: I64 | None = None) -> FlowBatch:
        """One phase's flows; ``group``/``after`` index ``groups``."""
        n = len(start)
        return cls(_i64(src[0]), _i64(src[1]), _i64(dst[0]), _i64(dst[1]), np.asarray(size, dtype=float),
                   np.asarray(start, dtype=float), np.full(n, dscp, dtype=np.int64), np.zeros(n, dtype=np.int64),
                   _i64(group), np.full(n, -1, dtype=np.int64) if after is None else _i64(after), [tag], groups)

    def mask(self, keep: NDArray[np.bool_] | I64 | slice) -> FlowBatch:
        """The flows a boolean mask, an index array or a slice picks (a slice copies nothing)."""
        if isinstance(keep, np.ndarray) and keep.dtype == np.bool_ and keep.all():
            return self
        return FlowBatch(self.src_host[keep], self.src_nic[keep], self.dst_host[keep], self.dst_nic[keep],
                         self.bytes[keep], self.start_s[keep], self.dscp[keep], self.tag[keep], self.group[keep],
                         self.after[keep], self.tags, self.groups)

    @staticmethod
    def concat(batches: Sequence[FlowBatch]) -> FlowBatch:
        """Join batches (tag and group indices renumbered), ordered by start time (stable: ties keep order).

        Each batch is time-ordered already (or sorted first), so the join is a stable k-way merge: every flow's
        final row is found by ``searchsorted`` against the other batches and the columns are written straight
        there, instead of concatenating, arg-sorting and gathering every column again (the live twin's
        per-tick cost on dense mixes)."""
        batches = [b.sorted() for b in batches if len(b)]
        if not batches:
            return FlowBatch.empty()
        if len(batches) == 1 and len(set(batches[0].tags)) == len(batches[0].tags):
            return batches[0]
        tags: dict[str, int] = {}
        groups: dict[str, int] = {}
        tag_cols, group_cols, after_cols = [], [], []
        for b in batches:  # one name, one index: chunks of a phase repeat its tag and group names
            tag_cols.append(_renumbered(b.tag, _renumber(b.tags, tags)))
            how = _renumber(b.groups, groups)
            group_cols.append(_renumbered(b.group, how))
            after_cols.append(_renumbered(b.after, how, optional=True))
        in_order = all(a.start_s[-1] <= b.start_s[0] for a, b in pairwise(batches))  # chunk after chunk
        rows, n = [] if in_order else _merge_rows([b.start_s for b in batches]), sum(len(b) for b in batches)
        def col(name: str, parts: list[Any] | None = None) -> Any:
            parts = parts if parts is not None else [getattr(b, name) for b in batches]
            if in_order:
                return np.concatenate(parts)
            out = np.empty(n, dtype=parts[0].dtype)
            for where, part in zip(rows, parts, strict=True):
                out[where] = part
            return out
        return FlowBatch(col("src_host"), col("src_nic"), col("dst_host"), col("dst_nic"), col("bytes"),
                         col("start_s"), col("dscp"), col("tag", tag_cols), col("group", group_cols),
                         col("after", after_cols), list(tags), list(groups))

    def window(self, t0: float, t1: float) -> FlowBatch:
        """The flows starting in [t0, t1), as a view of the time-ordered batch."""
        ordered = self.sorted()
        lo, hi = np.searchsorted(ordered.start_s, (t0, t1), side="left")
        return ordered.mask(slice(int(lo), int(hi)))

    def sorted(self) -> FlowBatch:
        """Ordered by start time (stable); free when already ordered, as chunk after chunk of one phase is."""
        if len(self) < 2 or bool(np.all(self.start_s[1:] >= self.start_s[:-1])):
            return self
        return self.mask(np.argsort(self.start_s, kind="stable"))

    def specs(self, hosts: Sequence[Host]) -> list[FlowSpec]:
        """The contract's list of ``FlowSpec``."""
        names = [h.name for h in hosts]
        nics = [h.nics for h in hosts]
        return [FlowSpec((names[sh], nics[sh][sn]), (names[dh], nics[dh][dn]), b, t, d, self.tags[tg],
                         self.groups[g], self.groups[a] if a >= 0 else "")
                for sh, sn, dh, dn, b, t, d, tg, g, a in zip(
                    self.src_host.tolist(), self.src_nic.tolist(), self.dst_host.tolist(), self.dst_nic.tolist(),
                    self.bytes.tolist(), self.start_s.tolist(), self.dscp.tolist(), self.tag.tolist(),
                    self.group.tolist(), self.after.tolist(), strict=True)]
