"""What a workload hands the engine: flows, as objects (``FlowSpec``) or as columns (``FlowBatch``).

``FlowBatch`` is the vectorised form every generator fills (thousands of hosts x thousands of flows per
second do not fit in per-flow Python objects); ``FlowBatch.merge`` joins the phases' time-ordered pieces into
one time-ordered batch in a single write per column; ``FlowBatch.specs`` turns it into the contract's list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
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
    When ``group`` and ``after`` are two launches (``"<phase>@<time>"`` before any ``/``), the flow begins a
    collective's launch that waits for the one before: the engine skips the launch if it is still waiting
    when the next one is due, and ignores an ``after`` group it never saw (the launch before the first one).

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


def _renumber(names: list[str], table: dict[str, int]) -> tuple[I64 | None, int]:
    """How indices into ``names`` become indices into ``table`` (which takes the names it lacks): a map, or
    None when every name is new (the usual case) and an index only shifts by the returned offset."""
    first = len(table)
    ids = [table.setdefault(n, len(table)) for n in names]
    if ids == list(range(first, first + len(names))):
        return None, first
    return np.asarray(ids, dtype=np.int64), first


def constant(value: int, n: int) -> I64:
    """``n`` times ``value`` as a read-only view of one number (a phase's tag, class, group): no memory."""
    return _repeated(value)[:n]


@cache
def _repeated(value: int) -> I64:
    return np.broadcast_to(np.int64(value), (1 << 40,))  # a slice of it is cheaper than a new broadcast


def _is_constant(column: I64) -> bool:
    return column.ndim == 1 and len(column) > 0 and column.strides[0] == 0


def _owned(column: I64) -> I64:
    """A writable array for a ``constant`` view (what leaves the package is always plain arrays)."""
    return np.array(column) if _is_constant(column) else column


def _renumbered(column: I64, how: tuple[I64 | None, int], optional: bool = False) -> I64:
    """``column`` renumbered as ``_renumber`` says; ``optional``: -1 (no group) stays -1."""
    ids, first = how
    if _is_constant(column):
        value = int(column[0])
        if value >= 0 or not optional:
            value = int(ids[value]) if ids is not None else value + first
        return constant(value, len(column))
    if ids is None:
        if first == 0:
            return column
        return np.where(column >= 0, column + first, -1) if optional else column + first
    return np.where(column >= 0, ids[np.maximum(column, 0)], -1) if optional else ids[column]


def _before(runs: Sequence[Sequence[F64]], i: int, keys: F64) -> I64:
    """For each key of run ``i``, how many elements of the other runs precede it in the stable merge (ties:
    earlier runs first); a run may come in several time-ordered pieces (joined: one search per run)."""
    count = np.zeros(len(keys), dtype=np.int64)
    for j, run in enumerate(runs):
        if j != i:
            count += np.searchsorted(run[0] if len(run) == 1 else np.concatenate(run), keys,
                                     side="right" if j < i else "left")
    return count


def _joined(parts: Sequence[Any], scratch: dict[str, Any] | None) -> Any:
    """A run's pieces of one column as one array, or as one number when every piece is the same ``constant``
    (a phase's tag, class and group: written without ever being materialised). Pieces are joined into the
    caller's ``scratch`` buffer when it has one (the result is copied into the batch at once): memory used
    again every tick instead of fresh pages, whose first touch cost the twin as much as the copy."""
    if all(_is_constant(p) for p in parts) and len({int(p[0]) for p in parts}) == 1:
        return parts[0][0]
    if len(parts) == 1:
        return parts[0]
    if scratch is None:
        return np.concatenate(parts)
    n, kind = sum(len(p) for p in parts), np.result_type(*parts)
    buf = scratch.get(kind.str)
    if buf is None or len(buf) < n:
        buf = scratch[kind.str] = np.empty(n + n // 4, dtype=kind)
    return np.concatenate(parts, out=buf[:n])


Where = I64 | NDArray[np.bool_]


def _rows(runs: Sequence[Sequence[FlowBatch]], n: int) -> list[Where]:
    """Where each run lands in the stable merge of ``runs`` (``n`` rows): its k-th flow goes to k plus the flows
    of other runs before it (``_before``). Only the runs other than the longest are searched; the longest takes
    the rows they leave, as a mask (a masked write is sequential, unlike a scatter)."""
    starts = [[p.start_s for p in run] for run in runs]
    longest = max(range(len(runs)), key=lambda i: sum(len(p) for p in runs[i]))
    free = np.ones(n, dtype=np.bool_)
    placed: list[Where] = []
    for i, run in enumerate(starts):
        if i == longest:
            placed.append(free)
            continue
        keys = run[0] if len(run) == 1 else np.concatenate(run)
        row = np.arange(len(keys), dtype=np.int64) + _before(starts, i, keys)
        free[row] = False
        placed.append(row)
    return placed


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

    def mask(self, keep: NDArray[np.bool_] | I64 | slice) -> FlowBatch:
        """The flows a boolean mask, an index array or a slice picks (a slice copies nothing)."""
        if isinstance(keep, np.ndarray) and keep.dtype == np.bool_ and keep.all():
            return self
        return FlowBatch(self.src_host[keep], self.src_nic[keep], self.dst_host[keep], self.dst_nic[keep],
                         self.bytes[keep], self.start_s[keep], self.dscp[keep], self.tag[keep], self.group[keep],
                         self.after[keep], self.tags, self.groups)

    @staticmethod
    def merge(runs: Sequence[Sequence[FlowBatch]], scratch: dict[str, Any] | None = None) -> FlowBatch:
        """Join runs (each a list of pieces following each other in time, e.g. a phase's chunk slices) into one
        batch ordered by start time, stably (ties: earlier run first), tag and group indices renumbered: the same
        as concatenating every piece and sorting stably.

        Each flow's row is found by ``searchsorted`` against the other runs and the columns are written straight
        there (the longest run, a dense mix, takes the rows the others leave), instead of concatenating,
        arg-sorting and gathering every column again: the live twin's per-tick cost on dense mixes. ``scratch``:
        the caller's buffers for joining a run's pieces, kept between calls (one caller at a time)."""
        runs = [run for run in ([p.sorted() for p in r if len(p)] for r in runs) if run]
        if not runs:
            return FlowBatch.empty()
        if len(runs) == 1 and len(runs[0]) == 1 and len(set(runs[0][0].tags)) == len(runs[0][0].tags):
            b = runs[0][0]
            return FlowBatch(b.src_host, b.src_nic, b.dst_host, b.dst_nic, b.bytes, b.start_s, _owned(b.dscp),
                             _owned(b.tag), _owned(b.group), _owned(b.after), b.tags, b.groups)
        tags: dict[str, int] = {}
        groups: dict[str, int] = {}
        pieces = [p for run in runs for p in run]
        renamed = []
        for p in pieces:  # one name, one index: pieces of a phase repeat its tag and group names
            how = _renumber(p.groups, groups)
            renamed.append({"tag": _renumbered(p.tag, _renumber(p.tags, tags)), "group": _renumbered(p.group, how),
                            "after": _renumbered(p.after, how, optional=True)})
        n = sum(len(p) for p in pieces)
        in_order = all(a.start_s[-1] <= b.start_s[0] for a, b in pairwise(pieces))
        rows = [] if in_order else _rows(runs, n)
        bounds = np.cumsum([0] + [len(run) for run in runs]).tolist()  # run i: pieces[bounds[i]:bounds[i + 1]]
        def col(name: str) -> Any:
            parts = [r[name] if name in r else getattr(p, name) for p, r in zip(pieces, renamed, strict=True)]
            if in_order:
                return np.concatenate(parts)
            out = np.empty(n, dtype=parts[0].dtype)
            for where, a, b in zip(rows, bounds, bounds[1:], strict=False):
                out[where] = _joined(parts[a:b], scratch)
            return out
        return FlowBatch(col("src_host"), col("src_nic"), col("dst_host"), col("dst_nic"), col("bytes"),
                         col("start_s"), col("dscp"), col("tag"), col("group"), col("after"), list(tags), list(groups))

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
