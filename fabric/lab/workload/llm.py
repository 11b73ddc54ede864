"""``llm_training``: one 3D-parallel (TP x PP x DP) training job, laid out as the seed describes.

Layout:

- TP (``tp`` GPUs) is one server: tensor-parallel traffic stays on NVLink, never on the fabric. ``tp`` is
  the server's GPU count; its R NICs (R = fewest NICs among the job's servers) each serve tp/R GPUs, so
  ``tp`` must be a multiple of R (``check_tp``; the inventory records no GPU count, so nothing bounds it above).
- PP: replica r's ``pp`` stages are the first ``pp`` servers of one pod (inventory order); stage i sends
  activations to stage i+1 and activation gradients back, point to point, NIC k to NIC k. ``pp`` is at most
  the largest pod of the selected servers.
- DP: replica r lives in the r-th pod that has at least ``pp`` servers; stage i of every replica joins a
  ring all-reduce of its gradients across the ``dp`` pods, one ring per rail (NIC k to NIC k). ``dp`` is at
  most the number of such pods, so the job takes pp x dp servers (tp x pp x dp GPUs).

Message sizes (b = ``bytes_per_value``, P = ``parameters``):

- DP, per server and iteration: the stage holds P/pp parameters (its TP ranks' shards add up to that), so it
  all-reduces G = b x P / pp bytes, split evenly over its R rails: each rail's ring carries G/R, in
  2(dp-1) steps of G/(R x dp) per flow (NCCL ring: 2(n-1)/n bytes per byte).
- PP, per microbatch and stage boundary: the hidden state A = micro_batch_size x seq_len x hidden_size x b
  bytes forward, and the same size of activation gradient backward, split over the R rails (Megatron's
  scatter/gather optimisation already splits it over the TP ranks, hence over the NICs).

Schedule of one iteration (times relative to its start, f = ``stage_compute_s``, m = ``microbatches``):
GPipe: forward of microbatch j on stage i ends at (i + j + 1) f and its activations leave then; backwards
take 2f and start when every forward is done, T_f = (m + pp - 1) f, last stage first, so stage i sends the
gradient of microbatch j to stage i-1 at T_f + (pp - i + j) 2f; stage i's gradients are ready (DP launch)
at T_f + (pp - 1 - i + m) 2f. Point-to-point flows leave at those times (compute is not modelled, only its
duration); DP rings are released step by step by the engine (groups with ``after``).

The pipeline is laid out flow by flow, dp x m x 2(pp - 1) x R rows once per phase: the schema caps ``microbatches``
at 1024 (``MAX_MICROBATCHES``) so that stays about a second.

Assumptions: plain data parallelism (no ZeRO/FSDP sharding, no parameter all-gather), no overlap of DP
with the backward pass, no optimiser or data-loading traffic, one job per phase. A stage's DP ring waits for
the same stage's ring of the iteration before (serial launches, ``collectives``: a ring slower than
``iteration_s`` runs back to back, an overtaken one is skipped); the pipeline's flows keep their schedule.
"""

from __future__ import annotations

from collections.abc import Sequence

from fabric.lab.workload.collectives import (
    Cols,
    EventGen,
    Row,
    cols,
    members_of,
    rails_of,
    ring,
    ring_suffixes,
    template,
)
from fabric.lab.workload.errors import WorkloadError
from fabric.lab.workload.hosts import Host
from fabric.lab.workload.schema import LlmPhase
from fabric.lab.workload.timeline import Clock


def layout(hosts: Sequence[Host], members: list[int], pp: int, dp: int, where: str) -> list[list[int]]:
    """``replicas[r][i]``: the server of stage i of replica r (first ``dp`` pods with >= ``pp`` servers)."""
    pods: dict[int, list[int]] = {}
    for i in members:
        pods.setdefault(hosts[i].pod, []).append(i)
    sizes = sorted((len(s) for s in pods.values()), reverse=True)
    if pp > sizes[0]:  # the key to change is pp: no dp fits
        raise WorkloadError.at(f"{where}.pp", f"{pp} stages need {pp} servers in one pod; the selected servers "
                               f"form pods of {sizes}", f"lower pp to at most {sizes[0]}, or select a larger pod")
    replicas = [servers[:pp] for servers in pods.values() if len(servers) >= pp][:dp]
    if len(replicas) < dp:
        raise WorkloadError.at(f"{where}.dp", f"needs {dp} pods of >= {pp} servers (pp); the selected servers "
                               f"form pods of {sizes}", f"lower dp to at most {len(replicas)} or lower pp, or "
                               "select more servers")
    return replicas


def check_tp(tp: int, rails: int, where: str) -> None:
    """TP is one server's GPUs and each of its ``rails`` NICs serves tp/rails of them (the layout splits every
    message evenly over the rails): a ``tp`` that is no multiple of the NIC count leaves a NIC without a GPU
    (tp 1 on two NICs) or shares GPUs unevenly (tp 3 on two). The inventory has no GPU count: no upper bound."""
    if tp % rails:
        below, above = tp // rails * rails, (tp // rails + 1) * rails
        fix = f"{below} or {above}" if below else f"{above}"
        raise WorkloadError.at(f"{where}.tp", f"tp {tp} (GPUs per server) is no multiple of the {rails} NICs of "
                               f"each server of the job: each NIC serves tp/{rails} GPUs",
                               f"set tp to a multiple of {rails}, e.g. {fix}")


def _pipeline(p: LlmPhase, replicas: list[list[int]], rails: int, suffixes: list[str]) -> list[Cols]:
    f, m, pp = p.stage_compute_s, p.microbatches, p.pp
    per_rail = p.micro_batch_size * p.seq_len * p.hidden_size * p.bytes_per_value / rails
    t_fwd = (m + pp - 1) * f
    rows: list[Row] = []
    for r, stages in enumerate(replicas):
        for j in range(m):
            for i in range(pp - 1):  # forward: stage i -> i+1
                rows += [(stages[i], k, stages[i + 1], k, per_rail, (i + j + 1) * f, len(suffixes), -1)
                         for k in range(rails)]
                suffixes.append(f"/pp/r{r}/fwd{j}.{i}")
            for i in range(1, pp):  # backward: stage i -> i-1
                rows += [(stages[i], k, stages[i - 1], k, per_rail, t_fwd + (pp - i + j) * 2 * f, len(suffixes), -1)
                         for k in range(rails)]
                suffixes.append(f"/pp/r{r}/bwd{j}.{i}")
    return [cols(rows)]


def _data_parallel(p: LlmPhase, replicas: list[list[int]], rails: int, suffixes: list[str]) -> list[Cols]:
    f, m, pp, dp = p.stage_compute_s, p.microbatches, p.pp, p.dp
    t_fwd = (m + pp - 1) * f
    blocks: list[Cols] = []
    for i in range(pp if dp > 1 else 0):
        ready = t_fwd + (pp - 1 - i + m) * 2 * f
        blocks.append(ring([stages[i] for stages in replicas], rails, p.bytes_per_value * p.parameters / pp, ready,
                     len(suffixes)))
        suffixes += ring_suffixes(dp, f"/dp/st{i}")
    return blocks


class LlmGen(EventGen):
    """One training iteration per ``iteration_s`` while the phase is active."""

    period_key = "iteration_s"

    def __init__(self, phase: LlmPhase, index: int, tag: str, clock: Clock, hosts: Sequence[Host],
                 where: str) -> None:
        members = members_of(hosts, phase.members, f"{where}.members", 1)
        replicas = layout(hosts, members, phase.pp, phase.dp, where)
        rails = rails_of(hosts, [s for stages in replicas for s in stages])
        check_tp(phase.tp, rails, where)
        suffixes: list[str] = []
        blocks = _pipeline(phase, replicas, rails, suffixes) + _data_parallel(phase, replicas, rails, suffixes)
        self.period_s = phase.iteration_s
        super().__init__(phase, tag, clock, template(blocks, suffixes), where, hosts)
