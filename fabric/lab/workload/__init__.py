"""Workloads for the twin's congestion engine: ``workloads/*.yaml`` -> flows between server NICs.

    >>> wl = load_workload("workloads/incast-16to1.yaml")            # doctest: +SKIP
    >>> flows = wl.flows(hosts_of(fabric), 0.0, 0.010)               # doctest: +SKIP

Modules: ``schema`` (the file format), ``load`` (checks, ``Workload``), ``hosts`` (servers, NICs, pods of an
inventory), ``cdf`` (published flow-size distributions), ``mixes`` (Poisson mixes, storage), ``collectives``
(incast, ring all-reduce, all-to-all), ``llm`` (3D-parallel training), ``timeline`` (phase schedules),
``flows`` (``FlowSpec`` and its columnar ``FlowBatch``, merged phase by phase), ``lookup`` (bucketed
``searchsorted`` for the mixes' per-flow table look-ups). The engine (fabric.lab.physics) consumes flows;
nothing here imports it.
"""

from fabric.lab.workload.errors import WorkloadError
from fabric.lab.workload.flows import FlowBatch, FlowSpec
from fabric.lab.workload.hosts import Host, hosts_of
from fabric.lab.workload.load import Workload, load_workload

__all__ = ["FlowBatch", "FlowSpec", "Host", "Workload", "WorkloadError", "hosts_of", "load_workload"]
