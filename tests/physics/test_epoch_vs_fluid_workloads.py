"""Tier E against tier F on the shipped workloads at small scale (issue 4 gate). One Scenario per workload:
its flows starting in the first 4 ms on a generated 2-spine / 2-leaf CLOS with 10 servers x 2 NICs at 100G
(uplinks 400G, non-blocking), every switch port lossless on priority 3 with ECN 100..400 KB / 20 %, NICs running
DCQCN, both engines for 6 ms. Collective steps follow their `after` order in both (a ring step starts when
the one before is done: `Scenario.flow_after`). llm-3d is not in the list: it computes for its first
milliseconds, so its window holds no flow.

Stated tolerances (README "Tier E"): throughput within 5 % everywhere; pauses and drops: none in either tier
(non-blocking, lossless); the marked fraction and the busiest queue's p99 within the factor given per workload
below (measured in the comments). Where tier F marks nothing, tier E must not either; where tier F's queue
stays empty, tier E's p99 stays below Kmin (tier F's fluid has no packets; tier E keeps up to one packet per
steady stream, the N*D/D/1 bound).
Before session 10's tier E changes (open-loop M/G/1 tail, bursts limited by span, by the NIC's share and by
the ingress links, fair shares of the epoch's bytes) the same comparison gave marks 57 / 3.3 % (incast),
67 / 1.9 % (mixed-storage), 11 / 0 % (allreduce-ring), 24 / 0 % (all-to-all) and p99 13.5 / 6.2 MB, 16.8 / 0.56
MB, 4.4 / 0 MB: five of these six cases fail on that engine. All-to-all was a known limit until session 11
(tier E 10 % marked, p99 0.59 MB, where tier F marks nothing): its flows start at one instant and are paced by
their NICs, and tier E queued them as Poisson trains at rho -> 1."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pytest
from typer.testing import CliRunner

from fabric.cli.main import app
from fabric.intent.check import validate_inventory
from fabric.lab.physics.epoch import EpochEngine
from fabric.lab.physics.fluid import FluidEngine
from fabric.lab.physics.knobs import DcqcnKnobs, DeviceKnobs, EcnKnobs, PortKnobs
from fabric.lab.physics.scenario import CounterFrame, Scenario
from fabric.lab.physics.topology import Network, scenario
from fabric.lab.workload import load_workload
from fabric.lab.workload.hosts import Host, hosts_of
from tests.conftest import ROOT

WINDOW_S, RUN_S, SAMPLE_S = 4e-3, 6e-3, 20e-6
THREE = frozenset({3})
# workload: (marked-fraction factor, queue-p99 factor); measured tier E / tier F in the comments
TOLERANCE = {
    "incast-16to1": (1.5, 5.0),  # marks 3.9 / 3.3 %, p99 1.6 / 6.2 MB
    "websearch-40": (2.5, 5.0),  # 8.5 / 4.1 %, 2.6 / 0.73 MB
    "mixed-storage": (5.0, 5.0),  # 7.7 / 1.9 %, 1.8 / 0.56 MB
    "allreduce-ring": (1.0, 1.0),  # 0 / 0: each NIC feeds one other at line rate, nothing queues in either
    "shift-incast-allreduce": (4.0, 4.0),  # 1.3 / 3.8 %, 1.2 / 3.3 MB
    # every NIC sends to the 9 others of its rail at once, so each receiving port is filled exactly to its
    # line by 9 streams their NICs pace to 1/9 each: 0 / 0 %, p99 82 / 0 KB (9 packets)
    "alltoall-moe": (1.0, 1.0),
}
KMIN = 100_000
# Collective completion times, tier E / tier F (default: the same within 1 %). In tier F the flows of an incast
# start together, overshoot, DCQCN cuts them far below their share and they come back together when their
# timers fire; tier E's start transient (TRANSIENT_LOST, calibrated on a star) charges the link time that
# costs: incast 1.08 / 0.90 ms, the shifting workload's incasts 0.61 / 0.61 and 0.65 / 0.60 ms (session 12,
# before it: 0.64 / 0.90, 0.33-0.35 / 0.60). README "Tier E".
CCT = {"incast-16to1": (0.8, 1.25), "shift-incast-allreduce": (0.8, 1.25)}


@dataclass
class Measured:
    gbps: float
    marked: float
    q99: float
    pause_us: float
    drops: float


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Network, dict[str, DeviceKnobs], list[Host]]]:
    inv = tmp_path_factory.mktemp("small") / "inv"
    result = CliRunner().invoke(app, ["inventory", "generate", "-o", str(inv), "--kind", "clos", "--spines", "2",
                                      "--leaves", "2", "--servers", "10", "--nics-per-server", "2",
                                      "--platforms", "sonic", "--server-speed", "100", "--uplink-speed", "400"])
    assert result.exit_code == 0, result.output
    fabric = validate_inventory(str(inv)).fabric
    assert fabric is not None
    switch = PortKnobs(pfc_priorities=THREE, ecn={3: EcnKnobs(100_000, 400_000, 0.2)}, headroom_bytes=200_000)
    nic = PortKnobs(pfc_priorities=THREE)
    knobs = {name: DeviceKnobs(device=name, trust="dscp",
                               ports=dict.fromkeys(d.interfaces, nic if d.role == "server" else switch),
                               dcqcn=DcqcnKnobs(np_enabled_priorities=THREE, rp_enabled_priorities=THREE)
                               if d.role == "server" else None)
             for name, d in fabric.devices.items()}
    yield Network.from_fabric(fabric), knobs, hosts_of(fabric)


def total(frames: list[CounterFrame], kind: str, name: str) -> np.ndarray:
    return np.asarray(np.sum([getattr(f, kind)[name] for f in frames], axis=0))


def measure(sc: Scenario, frames: list[CounterFrame], tier_f: bool) -> Measured:
    switch = ~sc.is_host
    tx = total(frames, "queue", "q{}_tx_bytes")[switch].sum()
    pkts = total(frames, "queue", "q{}_tx_pkts")[switch].sum()
    marked = total(frames, "queue", "q{}_ecn_marked_pkts")[switch].sum()
    if tier_f:  # tier F's p99 from its sampled occupancy; tier E's watermark is its p99 (or burst peak)
        q99 = np.percentile(np.array([f.gauge["q{}_occupancy_bytes"] for f in frames]), 99, axis=0)
    else:
        q99 = np.max([f.gauge["q{}_watermark_bytes"] for f in frames], axis=0)
    return Measured(tx * 8 / RUN_S / 1e9, marked / max(pkts, 1.0), float(q99[switch].max()),
                    float(total(frames, "prio", "tx_pfc{}_pause_us").sum()),
                    float(total(frames, "queue", "q{}_drop_pkts").sum()))


def within(e: float, f: float, factor: float) -> bool:
    if f == 0 or factor == 1.0:
        return e == pytest.approx(f, abs=1e-9)
    return f / factor <= e <= f * factor


@pytest.mark.parametrize("workload", sorted(TOLERANCE))
def test_tier_e_tracks_tier_f_on_the_shipped_workload(small: tuple[Network, dict[str, DeviceKnobs], list[Host]],
                                                       workload: str) -> None:
    net, knobs, hosts = small
    flows = load_workload(ROOT / "workloads" / f"{workload}.yaml").flows(hosts, 0.0, WINDOW_S)
    sc = scenario(net, knobs, flows)
    assert sc.n_flows > 0
    epoch = EpochEngine(sc, 1e-3)
    e = measure(sc, [epoch.advance(1e-3) for _ in range(round(RUN_S / 1e-3))], tier_f=False)
    fluid = FluidEngine(sc, 1e-6)
    f = measure(sc, [fluid.advance(SAMPLE_S) for _ in range(round(RUN_S / SAMPLE_S))], tier_f=True)
    assert abs(e.gbps - f.gbps) <= 0.05 * f.gbps, (e, f)
    assert e.pause_us == f.pause_us == 0 and e.drops == f.drops == 0, (e, f)
    marks_factor, q99_factor = TOLERANCE[workload]
    assert within(e.marked, f.marked, marks_factor), (e, f)
    assert e.q99 < KMIN if f.q99 == 0 else within(e.q99, f.q99, q99_factor), (e, f)
    low, high = CCT.get(workload, (0.99, 1.01))
    times = collective_times(sc, epoch, fluid)
    assert bool(times) == (workload not in ("websearch-40", "mixed-storage"))  # open-loop mixes: none
    for group, (e_s, f_s) in times.items():
        assert low <= e_s / f_s <= high, (group, e_s, f_s)


def collective_times(sc: Scenario, epoch: EpochEngine, fluid: FluidEngine) -> dict[str, tuple[float, float]]:
    """Per collective (a group named ``kind@launch``, steps included) completed in both tiers: its completion
    time from its first flow's start, tier E and tier F."""
    done_f = fluid.truth()["completion_s"]
    rows: dict[str, list[int]] = {}
    for i, group in enumerate(sc.flow_group):
        if "@" in group:
            rows.setdefault(group, []).append(i)
    done_e = dict.fromkeys(rows, 0.0)
    for group, done in zip(epoch.fl.group, epoch.fl.done.tolist(), strict=True):
        if group in done_e:
            done_e[group] = max(done_e[group], done)  # NaN (unfinished) stays NaN
    out = {}
    for group, members in rows.items():
        start = float(sc.flow_start_s[members].min())
        f_done = float(np.max(done_f[members]))
        if not (np.isnan(f_done) or np.isnan(done_e[group])):
            out[group] = (done_e[group] - start, f_done - start)
    return out
