"""The schema of ``workloads/*.yaml`` (pydantic v2, extra keys forbidden, every field described).

A workload is a timeline of phases. Each phase has a kind (what traffic) and a schedule (when): it is
active from ``start_s`` to ``stop_s`` and, with a ``cycle``, only during the ``on_s`` first seconds of
every ``period_s`` (shifted by ``offset_s``), which is how regimes alternate. Phases overlap freely.
With ``repeat`` (default) the timeline restarts every ``duration_s`` so a live twin never runs dry;
random draws still differ from one repetition to the next.

Times accept seconds or a unit (``"5ms"``, ``"200us"``, ``"2s"``); sizes bytes or a unit (``"500KB"``).
workloads/README.md documents every kind with an example.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

# A superset of fabric.core.units' grammar (the inventory's): a size it accepts is the same size here, a time with
# a unit the same time (a bare time is ms there, s here), and a workload also takes exponents and a leading dot
# ('1e6', '.5KB': YAML hands them over as strings), TB/TiB/G/T and us/min. Not one shared parser: the inventory
# refuses those spellings and words its errors otherwise ("unit 'x' is not valid here"); tests pin both
# (tests/workload/test_schema.py).
_NUMBER = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([A-Za-z]*)\s*$")
_SECONDS = {"": 1.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "min": 60.0}
_COUNT = {"": 1.0, "k": 1e3, "m": 1e6, "b": 1e9, "t": 1e12}
# fabric.core.units.Bytes' units (its parser takes no exponent: ``size_bytes: 1e6`` or ``1.5e9``, which YAML reads
# as strings, were refused while ``duration_s: 1e6`` loaded)
_BYTES = {"": 1.0, "b": 1.0, "kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12, "kib": 1024.0, "mib": 1024.0**2,
          "gib": 1024.0**3, "tib": 1024.0**4, "k": 1e3, "m": 1e6, "g": 1e9, "t": 1e12}


def _scaled(value: object, units: dict[str, float], what: str) -> float:
    """The number ``value`` stands for, finite: ``.inf``, ``.nan``, ``1e400`` and ints beyond a float are refused
    (a ValueError, which pydantic reports against the key; an OverflowError would escape as a traceback)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"expected {what}")
    if isinstance(value, str):
        match = _NUMBER.match(value)
        if not match or match.group(2).lower() not in units:
            raise ValueError(f"expected {what}, got {value!r}")
        number = float(match.group(1)) * units[match.group(2).lower()]
    else:
        try:
            number = float(value)
        except OverflowError:  # an int beyond a float's range
            raise ValueError(f"expected {what}; a finite number, not one too large for a float") from None
    if not math.isfinite(number):
        raise ValueError(f"expected {what}; a finite number, not infinity or NaN")
    return number


def _seconds(value: object) -> float:
    return _scaled(value, _SECONDS, "a time in seconds such as 0.005 or '5ms' (units: s, ms, us, min)")


def _count(value: object) -> float:
    return _scaled(value, _COUNT, "a count such as 70e9 or '70B' (suffixes: K, M, B, T)")


def _size(value: object) -> int:
    """Whole bytes (rounded up), from a number (``1e6`` too) or a string with a unit (``'500KB'``, ``'1.5GiB'``)."""
    return math.ceil(_scaled(value, _BYTES, "a size in bytes such as 150000, 1e6 or '150KB' (units: B, KB, MB, GB, "
                                            "TB, KiB, MiB, GiB, TiB)"))


Seconds = Annotated[float, BeforeValidator(_seconds), Field(ge=0)]
Count = Annotated[float, BeforeValidator(_count), Field(gt=0)]
Bytes = Annotated[int, BeforeValidator(_size), Field(gt=0)]
Load = Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)]
# The shortest period of a periodic event (incast burst, collective launch, LLM iteration, on/off cycle) and the
# shortest timeline: the generators step through every period (and every repetition) of a window, so 1e-300 s
# would be ~1e297 steps per engine tick. 1 us is well below any RDMA transfer worth scheduling.
MIN_PERIOD_S = 1e-6
MIN_DURATION_S = 1e-3
# Microbatches per LLM iteration: the pipeline is laid out flow by flow once per phase (fabric.lab.workload.llm),
# dp x microbatches x 2(pp - 1) x rails rows; 1024 is above real pipelines (tens to a few hundred) and builds in
# ~1 s at pp 16 x dp 8 on 128 two-NIC servers (4096: 3.3 s; 1e5: minutes; 1e8 never ends).
MAX_MICROBATCHES = 1024
KINDS = ("websearch", "hadoop", "storage", "incast", "allreduce", "alltoall", "llm_training")


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HostSelect(Model):
    """Which servers of the inventory take part, in inventory order: glob names, pods, then a slice."""

    names: list[str] = Field(["*"], description="Server name globs (fnmatch), e.g. ['gpu0*']; default every server.")
    pods: list[int] | None = Field(None, description="Only servers of these pods (see hosts_of for the pod number).")
    skip: int = Field(0, ge=0, description="Drop this many matching servers first.")
    first: int | None = Field(None, ge=1, description="Keep only the first N servers left (after skip).")


class Cycle(Model):
    """On/off schedule inside a phase's [start_s, stop_s): active while (t - start_s - offset_s) mod period_s < on_s."""

    period_s: Seconds = Field(ge=MIN_PERIOD_S, description="Length of one on/off cycle, seconds (>= 1e-06: 1 us).")
    on_s: Seconds = Field(description="Active time at the beginning of each cycle, seconds (<= period_s).")
    offset_s: Seconds = Field(0, description="Shift of the cycle, seconds: two phases with the same period and "
                              "offsets 0 and on_s alternate.")


class Phase(Model):
    """Fields every phase has: its name (the flows' tag) and its schedule."""

    name: str | None = Field(None, description="Phase name, used as the flows' tag; default: the kind (unique).")
    start_s: Seconds = Field(0, description="When the phase starts, seconds from the workload start.")
    stop_s: Seconds | None = Field(None, description="When it stops, seconds; default: the workload's duration_s.")
    cycle: Cycle | None = Field(None, description="Optional on/off cycle: the phase is active only in its on-windows.")
    dscp: int = Field(26, ge=0, le=63, description="DSCP of the flows (26: the default RoCE class of fabric.yaml qos).")


CdfPoints = list[tuple[float, float]]


class OpenLoopPhase(Phase):
    """A phase that offers flows at a fixed rate whatever the fabric carries. A flow not finished ``timeout_s``
    after it arrives is abandoned, as an RPC past its deadline: an overloaded fabric drops work (lab truth:
    ``abandoned``) instead of queueing it without end."""

    timeout_s: Seconds = Field(1.0, gt=0, description="Deadline of each flow, seconds after its arrival; an "
                               "unfinished flow is then abandoned (its undelivered bytes are counted).")


class MixPhase(OpenLoopPhase):
    """A datacenter flow-size mix: Poisson arrivals per source NIC at ``load`` x its line rate, sizes from a
    published CDF (fabric.lab.workload.cdf), each flow to a uniformly random NIC of another server in ``dst``."""

    kind: Literal["websearch", "hadoop"] = Field(description="websearch (DCTCP) or hadoop (FB Hadoop) sizes.")
    load: Load = Field(description="Offered load per source NIC as a fraction of its line rate, 0 < load <= 1.")
    cdf: str | CdfPoints | None = Field(None, description="Override the size law: a CDF name (websearch, hadoop, "
                                        "alistorage2019, storage) or [[bytes, percent], ...] points.")
    src: HostSelect = Field(default_factory=HostSelect, description="Servers whose NICs send.")
    dst: HostSelect = Field(default_factory=HostSelect, description="Servers whose NICs receive.")


class StoragePhase(OpenLoopPhase):
    """Storage traffic between clients and storage targets: Poisson I/Os at ``load`` x each client NIC's line
    rate; a read moves the bytes target -> client, a write client -> target (one replica)."""

    kind: Literal["storage"] = Field(description="storage.")
    load: Load = Field(description="Offered load per client NIC as a fraction of its line rate.")
    cdf: str | CdfPoints | None = Field(None, description="I/O size law: CDF name or points; default 'storage' "
                                        "(large reads/writes, 64 KiB-8 MiB).")
    read_fraction: float = Field(0.7, ge=0, le=1, description="Share of I/Os that are reads (target -> client).")
    clients: HostSelect = Field(default_factory=HostSelect, description="Servers issuing I/O.")
    targets: HostSelect = Field(description="Storage servers (never their own clients).")


class IncastPhase(Phase):
    """``fan_in`` sender NICs each send ``size_bytes`` to one target NIC at the same instant, every ``period_s``."""

    kind: Literal["incast"] = Field(description="incast.")
    fan_in: int = Field(ge=2, description="Number of sender NICs per burst (>= 2).")
    size_bytes: Bytes = Field(gt=0, description="Bytes each sender sends per burst, e.g. '500KB'.")
    period_s: Seconds = Field(ge=MIN_PERIOD_S, description="Time between bursts, seconds, e.g. '5ms' "
                              "(>= 1e-06: 1 us).")
    target: HostSelect = Field(HostSelect(first=1), description="The receiving server: the first selected one.")
    senders: HostSelect = Field(default_factory=HostSelect, description="Candidate sender servers (the target's "
                                "server excluded); their NICs are taken rail-major: NIC `nic` of each, then the "
                                "next rail of each, until fan_in NICs send.")
    nic: int = Field(0, ge=0, description="NIC index (rail) of the target, and the senders' first rail "
                     "(modulo the server's NIC count).")


class CollectivePhase(Phase):
    """Fields of the collectives: who takes part, how much, how often."""

    members: HostSelect = Field(default_factory=HostSelect, description="Servers taking part (>= 2).")
    size_bytes: Bytes = Field(gt=0, description="Message size per member, bytes (the NCCL 'size').")
    period_s: Seconds | None = Field(None, ge=MIN_PERIOD_S, description="Launch a new collective every period_s "
                                     "(>= 1e-06: 1 us) while active; default: once at the start of each active "
                                     "window.")


class AllreducePhase(CollectivePhase):
    """Ring all-reduce, one ring per rail: NIC k of member i sends to NIC k of member i+1. 2(N-1) steps of
    size_bytes / (N x rails) per flow; step k+1 is released by the engine when every flow of step k is done."""

    kind: Literal["allreduce"] = Field(description="allreduce (ring).")


class AlltoallPhase(CollectivePhase):
    """All-to-all (MoE dispatch): NIC k of every member sends size_bytes / (N x rails) to NIC k of every
    other member, all at once (every receiver is an (N-1):1 incast)."""

    kind: Literal["alltoall"] = Field(description="alltoall.")


class LlmPhase(Phase):
    """3D-parallel training laid out as the seed describes: TP inside a server, PP across servers of a pod,
    DP across pods (per rail). Message sizes: fabric.lab.workload.llm."""

    kind: Literal["llm_training"] = Field(description="llm_training.")
    tp: int = Field(ge=1, description="Tensor-parallel degree = GPUs per server (NVLink: no fabric traffic); a "
                    "multiple of the servers' NIC count (each NIC serves tp/NICs GPUs).")
    pp: int = Field(ge=1, description="Pipeline-parallel degree = servers per replica, all in one pod (at most the "
                    "largest pod's servers).")
    dp: int = Field(ge=1, description="Data-parallel degree = replicas, one per pod (at most the pods with >= pp "
                    "servers).")
    parameters: Count = Field(description="Model size in parameters, e.g. 70e9 or '70B'.")
    hidden_size: int = Field(ge=1, description="Model hidden size (activations per token per layer boundary).")
    seq_len: int = Field(4096, ge=1, description="Tokens per sequence.")
    micro_batch_size: int = Field(1, ge=1, description="Sequences per microbatch.")
    microbatches: int = Field(8, ge=1, le=MAX_MICROBATCHES, description="Microbatches per iteration (per "
                              "replica), 1-1024.")
    bytes_per_value: int = Field(2, ge=1, le=8, description="Bytes per activation/gradient value (2: bf16).")
    stage_compute_s: Seconds = Field(description="Forward time of one microbatch on one stage, seconds "
                                     "(backward takes twice as long).")
    iteration_s: Seconds = Field(ge=MIN_PERIOD_S, description="Time between iteration starts, seconds "
                                 "(>= 1e-06: 1 us).")
    members: HostSelect = Field(default_factory=HostSelect, description="Servers to lay the job out on.")


AnyPhase = Annotated[MixPhase | StoragePhase | IncastPhase | AllreducePhase | AlltoallPhase | LlmPhase,
                     Field(discriminator="kind")]


class WorkloadSpec(Model):
    """One workloads/*.yaml file."""

    name: str = Field(description="Workload name.")
    description: str | None = Field(None, description="Free text: what the workload is for.")
    seed: int = Field(0, ge=0, description="Seed of every random draw (Workload.flows may override it).")
    duration_s: Seconds = Field(ge=MIN_DURATION_S, description="Length of the timeline, seconds (>= 0.001: "
                                "1 ms; a repeating timeline is stepped through repetition by repetition).")
    repeat: bool = Field(True, description="Restart the timeline every duration_s (live twins run forever).")
    phases: list[AnyPhase] = Field(min_length=1, description="The phases; they may overlap.")
