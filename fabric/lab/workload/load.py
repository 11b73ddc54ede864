"""Read a workload file, check it, and turn it into flows for a list of hosts.

``load_workload`` checks what the file alone can tell (schema, CDFs, phase names, schedules);
``Workload.flows`` checks the fit to an inventory (enough servers, pods, NICs) the first time it meets a
host list, and raises ``WorkloadError`` naming the file and key either way.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol

from pydantic import ValidationError

from fabric.core.problems import Problem
from fabric.inventory.yamlfile import line_of, read_yaml
from fabric.lab.workload.cdf import CDFS, cdf_problem
from fabric.lab.workload.collectives import CollectiveGen, IncastGen
from fabric.lab.workload.errors import WorkloadError
from fabric.lab.workload.flows import FlowBatch, FlowSpec
from fabric.lab.workload.hosts import Host, as_hosts
from fabric.lab.workload.llm import LlmGen
from fabric.lab.workload.mixes import PoissonGen
from fabric.lab.workload.schema import KINDS, AnyPhase, MixPhase, OpenLoopPhase, StoragePhase, WorkloadSpec
from fabric.lab.workload.timeline import Clock


class PhaseGen(Protocol):
    """Built as ``Gen(phase, index, tag, clock, hosts, where)`` (``where``: the phase's file:key for errors)."""

    def batch(self, t0: float, t1: float, seed: int) -> FlowBatch: ...

    def pieces(self, t0: float, t1: float, seed: int) -> list[FlowBatch]:
        """The same flows as time-ordered pieces (``FlowBatch.merge`` joins every phase's in one pass)."""


GENERATORS: dict[str, Any] = {"websearch": PoissonGen, "hadoop": PoissonGen, "storage": PoissonGen,
                              "incast": IncastGen, "allreduce": CollectiveGen, "alltoall": CollectiveGen,
                              "llm_training": LlmGen}


# pydantic names the member of a union an error comes from in its location (``cdf.str``, ``cdf.list[tuple[float,
# float]]``): no key a user wrote, so it is left out of the key an error names
_UNION_MEMBER = re.compile(r"^(str|int|float|bool|none|list\[.*\]|tuple\[.*\]|dict\[.*\])$")


def _clean(loc: Sequence[Any], kind: str = "") -> tuple[Any, ...]:
    """Drop the discriminator's tag: ``('phases', 2, 'incast', 'fan_in')`` -> ``('phases', 2, 'fan_in')``, and a
    union member's name: ``('phases', 0, 'hadoop', 'cdf', 'str')`` -> ``('phases', 0, 'cdf')`` (a key named like one
    is kept when it is the key an unknown/missing-key error is about)."""
    keyed = kind in ("extra_forbidden", "missing")
    return tuple(p for i, p in enumerate(loc)
                 if not (p in KINDS and i and isinstance(loc[i - 1], int))
                 and not (isinstance(p, str) and _UNION_MEMBER.match(p) and not (keyed and i == len(loc) - 1)))


def _members(loc: Sequence[Any]) -> tuple[Any, ...] | None:
    """The location of the union whose member an error is about (``('phases', 0, 'hadoop', 'cdf')``), or None."""
    for i, p in enumerate(loc):
        if i and isinstance(p, str) and _UNION_MEMBER.match(p):
            return tuple(loc[:i])
    return None


def _one_per_union(errors: list[Any]) -> list[Any]:
    """A value no member of a union accepts gets one error per member; keep the errors from inside the value
    (``cdf[0][0]``: the member it was meant for) when there are some, else join the members' messages in one."""
    unions: dict[tuple[Any, ...], list[Any]] = {}
    for e in errors:
        if (at := _members(e["loc"])) is not None:
            unions.setdefault(at, []).append(e)
    out = []
    for e in errors:
        at = _members(e["loc"])
        if at is None:
            out.append(e)
            continue
        branch = unions[at]
        deep = [b for b in branch if len(b["loc"]) > len(at) + 1]
        if deep:
            out += [e] if e in deep else []
        elif e is branch[0]:
            out.append({**e, "msg": " or ".join(dict.fromkeys(str(b["msg"]).removeprefix("Input should be ")
                                                              if i else str(b["msg"]) for i, b in enumerate(branch)))})
    return out


def _key(loc: Sequence[Any]) -> str:
    """``('phases', 2, 'fan_in')`` -> ``phases[2].fan_in``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _where(node: Any, key: str, line: int, at: tuple[Any, ...] = ()) -> tuple[Any, ...] | None:
    """The path of the mapping key ``key`` read at ``line`` (a duplicate: the reader keeps the last one's line),
    so the error names ``phases[0].load`` rather than ``load``."""
    if isinstance(node, dict):
        lines = getattr(node, "lines", {})
        for k, value in node.items():
            if str(k) == key and lines.get(k) == line:
                return (*at, k)
            if (found := _where(value, key, line, (*at, k))) is not None:
                return found
    elif isinstance(node, list):
        for i, value in enumerate(node):
            if (found := _where(value, key, line, (*at, i))) is not None:
                return found
    return None


def _fix(kind: str) -> str:
    if kind == "extra_forbidden":
        return "remove it (see workloads/README.md for the keys of each kind)"
    if kind == "missing":
        return "add it"
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        return f"set kind to one of {', '.join(KINDS)}"
    if kind.startswith(("greater", "less")):
        return "use a value inside the documented range"
    return "see workloads/README.md"


def _schema_problems(exc: ValidationError, file: str, raw: Any) -> list[Problem]:
    """One problem per error; an unknown key that looks like a missing one becomes 'did you mean'."""
    errors = [(_clean(e["loc"], e["type"]) + (("kind",) if e["type"].startswith("union_tag") else ()), e)
              for e in _one_per_union(exc.errors(include_url=False))]
    missing = {loc for loc, e in errors if e["type"] == "missing"}
    problems, typos = [], set()
    for loc, err in errors:
        message, fix = str(err["msg"]).removeprefix("Value error, "), _fix(err["type"])
        if err["type"] == "extra_forbidden":
            near = difflib.get_close_matches(str(loc[-1]), [str(m[-1]) for m in missing if m[:-1] == loc[:-1]], n=1)
            message, fix = f"unknown key '{loc[-1]}'", f"did you mean '{near[0]}'?" if near else fix
            typos |= {(*loc[:-1], n) for n in near}
        elif err["type"] == "missing":
            message = "required key is missing"
        elif (not err["type"].startswith("union_tag") and not isinstance(err.get("input"), dict | list)
              and repr(err.get("input")) not in message):  # the parsers of units say what they got already
            message += f" (got {err.get('input')!r})"
        problems.append((loc, Problem(f"{file}:{_key(loc)}", message, fix, line=line_of(raw, loc))))
    return [p for loc, p in problems if loc not in typos]


def _phase_problems(spec: WorkloadSpec, file: str, raw: Any) -> list[Problem]:
    """What pydantic cannot see field by field: CDFs, schedules, duplicate names."""
    problems, seen = [], set()
    for i, phase in enumerate(spec.phases):
        where = f"{file}:phases[{i}]"
        line = line_of(raw, ("phases", i))
        def add(key: str, msg: str, fix: str) -> None:
            problems.append(Problem(f"{where}.{key}", msg, fix, line=line))  # noqa: B023 (called at once)
        tag = phase.name or phase.kind
        if tag in seen:
            add("name", f"phase name '{tag}' is used twice", "give each phase a unique name")
        seen.add(tag)
        if phase.stop_s is not None and phase.stop_s <= phase.start_s:
            add("stop_s", "must be after start_s", "raise stop_s or lower start_s")
        if phase.start_s >= spec.duration_s:
            add("start_s", "starts after the workload's duration_s", "lower start_s or raise duration_s")
        if phase.cycle is not None and not 0 < phase.cycle.on_s <= phase.cycle.period_s:
            add("cycle.on_s", "must be > 0 and <= cycle.period_s", "shorten on_s or lengthen period_s")
        if isinstance(phase, MixPhase | StoragePhase) and phase.cdf is not None:
            if isinstance(phase.cdf, str) and phase.cdf not in CDFS:
                near = difflib.get_close_matches(phase.cdf, CDFS, n=1)
                add("cdf", f"unknown CDF '{phase.cdf}'", f"did you mean '{near[0]}'?" if near else
                    f"use one of {', '.join(CDFS)}")
            elif not isinstance(phase.cdf, str) and (why := cdf_problem(tuple(phase.cdf))):
                add("cdf", why, "write [[bytes, percent], ...] from [0, 0] to [max, 100]")
    return problems


class Workload:
    """A checked workload file. ``flows`` is deterministic for (hosts, seed) and window-independent."""

    def __init__(self, spec: WorkloadSpec, path: str) -> None:
        self.spec, self.path = spec, path
        self.clock = Clock(spec.duration_s, spec.repeat)
        self.tags = [p.name or p.kind for p in spec.phases]
        self._gens: tuple[int, list[PhaseGen]] | None = None
        self._last: tuple[object, list[Host], list[PhaseGen]] | None = None  # the caller's list, prepared
        self._scratch: dict[str, Any] = {}  # FlowBatch.merge's join buffers, reused tick after tick

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def timeout_s(self) -> dict[str, float]:
        """Per open-loop phase (its tag): the deadline of each of its flows, seconds after its arrival."""
        return {tag: p.timeout_s for tag, p in zip(self.tags, self.spec.phases, strict=True)
                if isinstance(p, OpenLoopPhase)}

    def generators(self, hosts: Sequence[Host]) -> list[PhaseGen]:
        """One generator per phase for this host list (built once, checked against the inventory)."""
        key = hash(tuple((h, h.nic_gbps) for h in hosts))
        if self._gens is None or self._gens[0] != key:
            self._gens = (key, [self._generator(i, p, hosts) for i, p in enumerate(self.spec.phases)])
        return self._gens[1]

    def _generator(self, i: int, phase: AnyPhase, hosts: Sequence[Host]) -> PhaseGen:
        gen: PhaseGen = GENERATORS[phase.kind](phase, i, self.tags[i], self.clock, hosts, f"{self.path}:phases[{i}]")
        return gen

    def _prepared(self, hosts: Iterable[Sequence[Any]]) -> tuple[list[Host], list[PhaseGen]]:
        """The caller's hosts as ``Host``s and their generators; the same list object again (an engine's every
        tick) costs nothing, so a host list must not be changed in place between calls."""
        if self._last is None or self._last[0] is not hosts:
            known = as_hosts(hosts)
            self._last = (hosts, known, self.generators(known))
        return self._last[1], self._last[2]

    def flow_batch(self, hosts: Iterable[Sequence[Any]], t0_s: float, t1_s: float,
                   seed: int | None = None) -> FlowBatch:
        """The flows starting in [t0_s, t1_s) as columns (host/NIC indices into ``hosts``)."""
        seed = self.spec.seed if seed is None else seed
        return FlowBatch.merge([g.pieces(t0_s, t1_s, seed) for g in self._prepared(hosts)[1]], self._scratch)

    def flows(self, hosts: Iterable[Sequence[Any]], t0_s: float, t1_s: float,
              seed: int | None = None) -> list[FlowSpec]:
        """The flows that start in [t0_s, t1_s), in start order; ``seed`` overrides the file's seed."""
        return self.flow_batch(hosts, t0_s, t1_s, seed).specs(self._prepared(hosts)[0])


def load_workload(path: str | Path) -> Workload:
    """Read and check ``path``; raises ``WorkloadError`` with every problem, one line each."""
    file = str(path)
    doc = read_yaml(Path(path))
    if doc.error is not None:  # the reader's fix: a path that is no file is not fixed by editing YAML
        raise WorkloadError([Problem(file, doc.error, doc.error_fix, line=doc.error_line)])
    if doc.duplicates:
        raise WorkloadError([Problem(f"{file}:{_key(_where(doc.data, key, line) or (key,))}", "duplicate key",
                                     "keep one", line=line or None) for key, line in doc.duplicates])
    if not isinstance(doc.data, dict):
        raise WorkloadError([Problem(file, "not a workload (expected a mapping)", "start from a file of workloads/")])
    try:
        spec = WorkloadSpec.model_validate(doc.data)
    except ValidationError as exc:
        raise WorkloadError(_schema_problems(exc, file, doc.data)) from None
    problems = _phase_problems(spec, file, doc.data)
    if problems:
        raise WorkloadError(problems)
    return Workload(spec, file)
